import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiKeysScreen } from "@/components/access/ApiKeysScreen";
import { calendarDay } from "@/lib/access";
import type { ApiKey } from "@/lib/api/types";

import {
  ADMIN_ROLE_PERMISSIONS,
  fakeFetch,
  jsonResponse,
  makeClient,
  meWith,
  OWNER_ROLE_PERMISSIONS,
  pageOf,
  problemResponse,
  renderWithApi,
  rolesFor,
  type SentRequest,
} from "./helpers";

vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: vi.fn(), push: vi.fn() }),
  usePathname: () => "/orgs/acme/api-keys",
  useSearchParams: () => new URLSearchParams(),
}));

const TOKEN = "ts_ab12cd34_s3cr3t-v4lue";
const CI: ApiKey = {
  id: 3,
  name: "CI",
  prefix: "ab12cd34",
  role: "viewer",
  created_by: "rita@example.test",
  created_at: "2026-12-01T00:00:00Z",
  last_used_at: "2026-12-02T00:00:00Z",
  expires_at: null,
  status: "active",
  revoked_at: null,
};
const OLD: ApiKey = {
  ...CI,
  id: 2,
  name: "Old deploy",
  prefix: "ffee0011",
  role: "owner",
  created_by: null,
  last_used_at: null,
  expires_at: "2026-12-30T00:00:00Z",
  status: "revoked",
  revoked_at: "2026-11-01T00:00:00Z",
};
const STALE: ApiKey = { ...CI, id: 1, name: "Stale", prefix: "0a0b0c0d", expires_at: "2026-11-20T00:00:00Z", status: "expired" };
const FRESH: ApiKey = { ...CI, id: 4, name: "Fresh", prefix: "1a1b1c1d", expires_at: "2027-01-20T00:00:00Z" };

function serve(permissions: readonly string[], extra?: (request: SentRequest) => Response | undefined, keys: readonly ApiKey[] = [CI, OLD]) {
  return fakeFetch((request) => {
    const answer = extra?.(request);
    if (answer) return answer;
    if (request.path === "/api/v2/me") return jsonResponse(200, meWith(permissions));
    if (request.path === "/api/v2/orgs/acme/api-keys" && request.method === "GET") return jsonResponse(200, pageOf(keys));
    if (request.path === "/api/v2/orgs/acme/roles") return jsonResponse(200, rolesFor(permissions));
    return undefined;
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("ApiKeysScreen", () => {
  it("lists each key with its prefix, role, creator, creation and last use, revoked ones marked", async () => {
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS);
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    const rows = await screen.findAllByTestId("api-key-row");
    expect(rows.map((row) => row.dataset.state)).toEqual(["active", "revoked"]);
    expect(rows[0]).toHaveTextContent("ts_ab12cd34…");
    await waitFor(() => expect(rows[0]).toHaveTextContent("Viewer"));
    expect(within(rows[0] as HTMLElement).getByTestId("api-key-facts")).toHaveTextContent(/^Created by rita@example.test · .+ · last used .+ · never expires$/);
    expect(within(rows[1] as HTMLElement).getByTestId("api-key-facts")).toHaveTextContent(/Created by an operator or another key · .+ · never used · revoked /);
    expect(within(rows[1] as HTMLElement).queryByRole("button")).not.toBeInTheDocument();
  });

  it("shows how to use a key at this app's own address", async () => {
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS);
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    const snippet = await screen.findByTestId("curl-snippet");
    expect(snippet).toHaveTextContent(`"${window.location.origin}/api/v2/orgs/acme/tasks?limit=5"`);
    expect(screen.getByTestId("api-base-url")).toHaveTextContent(`${window.location.origin}/api/v2/orgs/acme`);
  });

  it("shows the new key's token once, with a copy button and the warning, and forgets it", async () => {
    document.cookie = "csrftoken=t";
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    const posted: SentRequest[] = [];
    const { fetch } = serve(ADMIN_ROLE_PERMISSIONS, (request) => {
      if (request.method === "POST") {
        posted.push(request);
        return jsonResponse(201, { ...CI, id: 9, name: "Deploy", token: TOKEN });
      }
      return undefined;
    });
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Create API key" }));
    const dialog = await screen.findByRole("dialog");
    const role = await within(dialog).findByLabelText("Role");
    expect(role).toHaveValue("viewer");
    expect(within(role).getAllByRole("option").map((option) => option.textContent)).toEqual(["Admin", "Member", "Viewer", "Triage (custom)"]);
    await userEvent.type(within(dialog).getByLabelText("Name"), "Deploy");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create key" }));

    expect(await within(dialog).findByText("You will not see this key again")).toBeInTheDocument();
    expect(within(dialog).getByLabelText("The key “Deploy” (Viewer)")).toHaveValue(TOKEN);
    expect(within(dialog).getByTestId("new-token-value")).toHaveFocus();
    await userEvent.click(within(dialog).getByRole("button", { name: "Copy the key" }));
    expect(writeText).toHaveBeenCalledWith(TOKEN);
    expect(within(dialog).getByTestId("copy-status")).toHaveTextContent("Copied");
    expect(posted[0]?.body).toEqual({ name: "Deploy", role: "viewer", expires_in_days: 30 });
    expect(posted[0]?.headers.get("Idempotency-Key")).toBeTruthy();

    await userEvent.click(within(dialog).getByRole("button", { name: "I have copied it" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(document.body.innerHTML).not.toContain(TOKEN);
  });

  it("says to copy the token by hand when the browser refuses the clipboard", async () => {
    document.cookie = "csrftoken=t";
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText: vi.fn(async () => Promise.reject(new Error("denied"))) } });
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) => (request.method === "POST" ? jsonResponse(201, { ...CI, token: TOKEN }) : undefined));
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Create API key" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(await within(dialog).findByLabelText("Name"), "CI");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create key" }));
    await userEvent.click(await within(dialog).findByRole("button", { name: "Copy the key" }));
    expect(within(dialog).getByTestId("copy-status")).toHaveTextContent("Could not copy: select it and copy it yourself.");
    expect(within(dialog).getByTestId("new-token-value")).toHaveFocus();
  });

  it("says creating a key needs the Pro plan, with the way to upgrade", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) =>
      request.method === "POST"
        ? jsonResponse(
            402,
            { type: "/problems/plan-feature-required", title: "Plan feature required", status: 402, feature: "api_keys", plan: "free", required_plan: "pro" },
            "application/problem+json",
          )
        : undefined,
    );
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Create API key" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(await within(dialog).findByLabelText("Name"), "CI");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create key" }));
    expect(await within(dialog).findByText("API keys need the Pro plan")).toBeInTheDocument();
    expect(within(dialog).getByRole("link", { name: "Upgrade to Pro" })).toHaveAttribute("href", "/orgs/acme/billing");
  });

  it("revokes a key after a confirmation", async () => {
    document.cookie = "csrftoken=t";
    const deletes: string[] = [];
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) => {
      if (request.method === "DELETE") {
        deletes.push(request.path);
        return new Response(null, { status: 204 });
      }
      return undefined;
    });
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Revoke CI" }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("Programs using it are refused from their next request (401).");
    await userEvent.click(within(dialog).getByRole("button", { name: "Revoke key" }));
    await waitFor(() => expect(deletes).toEqual(["/api/v2/orgs/acme/api-keys/3"]));
    expect(await screen.findByText("The key “CI” was revoked.")).toBeInTheDocument();
  });

  it("lets a role that may only read keys see them, with no control", async () => {
    const { fetch } = serve(["apikeys.read", "members.read", "task.read"]);
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    await screen.findAllByTestId("api-key-row");
    expect(screen.queryByRole("button", { name: "Create API key" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Revoke/ })).not.toBeInTheDocument();
    expect(screen.getByText(/Creating and revoking keys needs the permission to manage API keys/)).toBeInTheDocument();
  });

  it("tells a role without apikeys.read why the page is empty, and asks nothing", async () => {
    const { fetch, sent } = serve(["members.read", "task.read"]);
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    expect(await screen.findByText(/Your role does not let you see API keys/)).toBeInTheDocument();
    expect(sent.map((request) => request.path)).toEqual(["/api/v2/me"]);
  });

  it("explains a refusal to list the keys", async () => {
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) =>
      request.path === "/api/v2/orgs/acme/api-keys" ? problemResponse(403, { title: "Forbidden", type: "/problems/permission-denied", permission: "apikeys.read" }) : undefined,
    );
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    expect(await screen.findByText("Your role does not let you see API keys.")).toBeInTheDocument();
  });
  it("says when each key expires or expired, and marks the expired ones", async () => {
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, undefined, [FRESH, STALE, CI]);
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    const rows = await screen.findAllByTestId("api-key-row");
    expect(rows.map((row) => row.dataset.state)).toEqual(["active", "expired", "active"]);
    expect(within(rows[0] as HTMLElement).getByTestId("api-key-facts")).toHaveTextContent(/ · expires Jan 20, 2027/);
    expect(within(rows[1] as HTMLElement).getByTestId("api-key-facts")).toHaveTextContent(/ · expired Nov 20, 2026/);
    expect(within(rows[1] as HTMLElement).getByText("Expired")).toBeInTheDocument();
    expect(within(rows[2] as HTMLElement).getByTestId("api-key-facts")).toHaveTextContent(/never expires$/);
    // an expired key can still be revoked, for the record
    expect(within(rows[1] as HTMLElement).getByRole("button", { name: "Revoke Stale" })).toBeInTheDocument();
  });

  it("creates a key that expires on a chosen day, or never, and refuses a day out of range", async () => {
    document.cookie = "csrftoken=t";
    const posted: SentRequest[] = [];
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) => {
      if (request.method === "POST") {
        posted.push(request);
        return jsonResponse(201, { ...CI, id: 9, name: "Deploy", token: TOKEN });
      }
      return undefined;
    });
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Create API key" }));
    const dialog = await screen.findByRole("dialog");
    const expires = await within(dialog).findByLabelText("Expires");
    expect(expires).toHaveValue("30");
    expect(within(expires).getAllByRole("option").map((option) => option.textContent)).toEqual([
      "In 7 days",
      "In 30 days",
      "In 90 days",
      "In a year",
      "On a date…",
      "Never",
    ]);
    expect(dialog).toHaveTextContent(/It stops working on .+; programs using it then get a 401\./);
    await userEvent.type(within(dialog).getByLabelText("Name"), "Deploy");
    await userEvent.selectOptions(expires, "date");
    const day = within(dialog).getByLabelText("Expiry date");
    const now = new Date();
    const inDays = (offset: number) => calendarDay(new Date(now.getFullYear(), now.getMonth(), now.getDate() + offset));
    expect(day).toHaveAttribute("min", inDays(1));
    expect(day).toHaveAttribute("max", inDays(366));

    // a day beyond the longest lifetime is refused here, and nothing is sent
    await userEvent.type(day, inDays(400));
    await userEvent.click(within(dialog).getByRole("button", { name: "Create key" }));
    expect(await within(dialog).findByText(/A key can last at most 366 days/)).toBeInTheDocument();
    expect(posted).toEqual([]);

    // twelve days from now is sent as 12
    await userEvent.clear(day);
    await userEvent.type(day, inDays(12));
    await userEvent.click(within(dialog).getByRole("button", { name: "Create key" }));
    await waitFor(() => expect(posted).toHaveLength(1));
    expect(posted[0]?.body).toEqual({ name: "Deploy", role: "viewer", expires_in_days: 12 });
  });

  it("sends no expiry for a key that never expires", async () => {
    document.cookie = "csrftoken=t";
    const posted: SentRequest[] = [];
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) => {
      if (request.method === "POST") {
        posted.push(request);
        return jsonResponse(201, { ...CI, id: 9, name: "Forever", token: TOKEN });
      }
      return undefined;
    });
    renderWithApi(<ApiKeysScreen org="acme" serverOrigin="http://server.test" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Create API key" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(await within(dialog).findByLabelText("Name"), "Forever");
    await userEvent.selectOptions(within(dialog).getByLabelText("Expires"), "never");
    expect(dialog).toHaveTextContent("It works until someone revokes it.");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create key" }));
    await waitFor(() => expect(posted).toHaveLength(1));
    expect(posted[0]?.body).toEqual({ name: "Forever", role: "viewer", expires_in_days: null });
  });
});
