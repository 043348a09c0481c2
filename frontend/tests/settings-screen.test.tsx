import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { SettingsScreen } from "@/components/settings/SettingsScreen";
import type { OrgExport } from "@/lib/api/types";
import { exportProgressText, formatBytes, isDeletionConfirmed } from "@/lib/data-rights";

import {
  fakeFetch,
  jsonResponse,
  makeClient,
  meWith,
  OWNER_ROLE_PERMISSIONS,
  pageOf,
  problemResponse,
  renderWithApi,
  type SentRequest,
} from "./helpers";

const navigation = vi.hoisted(() => ({ replace: vi.fn() }));

vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: navigation.replace, push: vi.fn() }),
  usePathname: () => "/orgs/acme/settings",
  useSearchParams: () => new URLSearchParams(),
}));

beforeEach(() => {
  navigation.replace.mockReset();
  document.cookie = "csrftoken=t";
});

const READY: OrgExport = {
  id: "7d8c1f0e-1111-4a4a-9b9b-000000000001",
  status: "done",
  total: 1234,
  done: 1234,
  size_bytes: 3_456_789,
  sha256: "ab".repeat(32),
  created_at: "2026-12-01T09:00:00Z",
  created_by: "rita@example.test",
  finished_at: "2026-12-01T09:01:00Z",
  expires_at: "2026-12-02T09:01:00Z",
  failure_reason: null,
  download_url: "/api/v2/orgs/acme/exports/7d8c1f0e-1111-4a4a-9b9b-000000000001/download",
};
const RUNNING: OrgExport = {
  ...READY,
  id: "7d8c1f0e-1111-4a4a-9b9b-000000000002",
  status: "running",
  done: 250,
  total: 1000,
  size_bytes: null,
  sha256: null,
  finished_at: null,
  expires_at: null,
  download_url: null,
};

interface Server {
  exports?: () => Response;
  startExport?: () => Response;
  deletion?: (request: SentRequest) => Response;
}

function serve(permissions: readonly string[], server: Server = {}) {
  return fakeFetch((request) => {
    if (request.path === "/api/v2/me") return jsonResponse(200, meWith(permissions));
    if (request.path === "/api/v2/orgs/acme/exports" && request.method === "GET") {
      return server.exports?.() ?? jsonResponse(200, pageOf([READY]));
    }
    if (request.path === "/api/v2/orgs/acme/exports" && request.method === "POST") return server.startExport?.();
    if (request.path === "/api/v2/orgs/acme/deletion" && request.method === "POST") return server.deletion?.(request);
    return undefined;
  });
}

describe("SettingsScreen", () => {
  it("lists an owner's exports: a download while it lasts, and the progress of one being made", async () => {
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, { exports: () => jsonResponse(200, pageOf([RUNNING, READY])) });
    renderWithApi(<SettingsScreen org="acme" />, makeClient(fetch));

    const list = await screen.findByTestId("export-list");
    const [running, ready] = within(list).getAllByTestId("export-item");
    expect(running).toHaveTextContent("Exporting");
    expect(within(running!).getByRole("meter", { name: "Export progress" })).toHaveAttribute("aria-valuetext", "250 of 1,000 rows");
    expect(within(running!).queryByTestId("export-download")).not.toBeInTheDocument();
    expect(ready).toHaveTextContent("Ready");
    expect(ready).toHaveTextContent("3.5 MB");
    const download = within(ready!).getByRole("link", { name: "Download" });
    expect(download).toHaveAttribute("href", READY.download_url);
    expect(download).toHaveAttribute("download");
    // one export at a time
    expect(screen.getByRole("button", { name: "Export all data" })).toBeDisabled();
    expect(screen.getByText("An export is being made; the next can start once it is done.")).toBeInTheDocument();
  });

  it("starts an export, which joins the list", async () => {
    let items: OrgExport[] = [];
    const queued: OrgExport = { ...RUNNING, status: "queued", done: 0, total: 0 };
    const { fetch, sent } = serve(OWNER_ROLE_PERMISSIONS, {
      exports: () => jsonResponse(200, pageOf(items)),
      startExport: () => {
        items = [queued];
        return jsonResponse(202, queued);
      },
    });
    renderWithApi(<SettingsScreen org="acme" />, makeClient(fetch));

    expect(await screen.findByText("No exports yet")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Export all data" }));

    const item = await screen.findByTestId("export-item");
    expect(item).toHaveTextContent("Waiting to start");
    expect(item).toHaveTextContent("Counting the rows…");
    expect(sent.filter((request) => request.method === "POST").map((request) => request.path)).toEqual(["/api/v2/orgs/acme/exports"]);
    expect(screen.getByTestId("toast")).toHaveTextContent("The export has started");
  });

  it("says how long to wait when the day's exports are used up", async () => {
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, {
      startExport: () =>
        problemResponse(429, {
          title: "Too many requests",
          type: "/problems/rate-limited",
          detail: "This organization has made 5 exports in the last 24 hours, the most it may.",
        }),
    });
    renderWithApi(<SettingsScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Export all data" }));

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The export did not start");
    expect(screen.getByTestId("export-list")).toBeInTheDocument();
  });

  it("shows no export or deletion to a member who is not an owner, and asks for nothing of them", async () => {
    const { fetch, sent } = serve(["task.read", "members.read", "members.manage"]);
    renderWithApi(<SettingsScreen org="acme" />, makeClient(fetch));

    expect(await screen.findByText("Only an owner can do this")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Export all data" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete organization…" })).not.toBeInTheDocument();
    expect(sent.map((request) => request.path)).not.toContain("/api/v2/orgs/acme/exports");
  });

  it("deletes the org once its slug is typed, then leaves for the home page", async () => {
    const bodies: unknown[] = [];
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, {
      deletion: (request) => {
        bodies.push(request.body);
        return jsonResponse(202, { org: "acme", status: "queued", requested_at: "2026-12-01T10:00:00Z" });
      },
    });
    renderWithApi(<SettingsScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Delete organization…" }));
    const dialog = screen.getByRole("dialog", { name: "Delete Acme?" });
    const confirm = within(dialog).getByLabelText("Type acme to confirm");
    const submit = within(dialog).getByRole("button", { name: "Delete Acme" });
    expect(submit).toBeDisabled();
    await userEvent.type(confirm, "Acme");
    expect(submit).toBeDisabled(); // exactly the slug
    await userEvent.clear(confirm);
    await userEvent.type(confirm, "acme{Enter}");

    await waitFor(() => expect(navigation.replace).toHaveBeenCalledWith("/"));
    expect(bodies).toEqual([{ confirm: "acme" }]);
    expect(screen.getByTestId("toast")).toHaveTextContent("Acme is being deleted.");
  });

  it("keeps the dialog open with the reason when the deletion is refused", async () => {
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, {
      deletion: () =>
        problemResponse(422, {
          title: "Invalid input",
          type: "/problems/validation-failed",
          errors: [{ field: "confirm", message: "Type the organization's slug, acme, exactly." }],
        }),
    });
    renderWithApi(<SettingsScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Delete organization…" }));
    const dialog = screen.getByRole("dialog", { name: "Delete Acme?" });
    await userEvent.type(within(dialog).getByLabelText("Type acme to confirm"), "acme");
    await userEvent.click(within(dialog).getByRole("button", { name: "Delete Acme" }));

    expect(await within(dialog).findByText("Type the organization's slug, acme, exactly.")).toBeInTheDocument();
    expect(within(dialog).getByLabelText("Type acme to confirm")).toHaveAttribute("aria-invalid", "true");
    expect(navigation.replace).not.toHaveBeenCalled();
  });

  it("says when the exports cannot be loaded, with a retry", async () => {
    let fail = true;
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, {
      exports: () => (fail ? problemResponse(503, { title: "Service unavailable" }) : jsonResponse(200, pageOf([READY]))),
    });
    renderWithApi(<SettingsScreen org="acme" />, makeClient(fetch));

    expect(await screen.findByText("The exports could not be loaded")).toBeInTheDocument();
    fail = false;
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByTestId("export-list")).toBeInTheDocument();
  });
});

describe("data rights helpers", () => {
  it("says sizes, progress and the confirmation in words", () => {
    expect(formatBytes(512)).toBe("512 bytes");
    expect(formatBytes(3_456)).toBe("3.5 KB");
    expect(formatBytes(12_345_678)).toBe("12 MB");
    expect(formatBytes(2_500_000_000)).toBe("2.5 GB");
    expect(exportProgressText({ done: 0, total: 0 })).toBe("Counting the rows…");
    expect(exportProgressText({ done: 1234, total: 5000 })).toBe("1,234 of 5,000 rows");
    expect(isDeletionConfirmed(" acme ", "acme")).toBe(true);
    expect(isDeletionConfirmed("Acme", "acme")).toBe(false);
    expect(isDeletionConfirmed("", "acme")).toBe(false);
  });
});
