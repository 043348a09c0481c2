import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { AuditLogScreen } from "@/components/access/AuditLogScreen";
import { ApiClientProvider } from "@/lib/api/context";
import type { AuditEvent } from "@/lib/api/types";

import { fakeFetch, jsonResponse, makeClient, meWith, OWNER_ROLE_PERMISSIONS, pageOf, renderWithApi, rolesFor, type SentRequest } from "./helpers";

const navigation = vi.hoisted(() => ({ search: "", replace: vi.fn<(href: string) => void>() }));

vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: navigation.replace, push: vi.fn() }),
  usePathname: () => "/orgs/acme/audit",
  useSearchParams: () => new URLSearchParams(navigation.search),
}));

beforeEach(() => {
  navigation.search = "";
  navigation.replace.mockReset();
});

const KEY_CREATED: AuditEvent = {
  id: 3,
  actor: "rita@example.test",
  actor_kind: "user",
  actor_api_key_name: null,
  action: "api_key.created",
  target_type: "api_key",
  target_id: "9",
  before: null,
  after: { name: "CI", prefix: "ab12", role: "viewer" },
  created_at: "2026-12-01T10:00:00Z",
};
const INVITED_BY_KEY: AuditEvent = {
  ...KEY_CREATED,
  id: 2,
  actor: "API key ts_ab12",
  actor_kind: "api_key",
  actor_api_key_name: "CI",
  action: "invitation.created",
  target_type: "invitation",
  after: { email: "max@example.test", role: "member" },
};
const OVERRIDE: AuditEvent = {
  ...KEY_CREATED,
  id: 1,
  action: "score.overridden",
  target_type: "task",
  target_id: "00000000-0000-4000-8000-000000000001",
  before: { criterion: null, machine_value: 60, value: null },
  after: { criterion: null, value: 50, reason: "Too high." },
};

function serve(permissions: readonly string[], answer: (request: SentRequest) => Response) {
  return fakeFetch((request) => {
    if (request.path === "/api/v2/me") return jsonResponse(200, meWith(permissions));
    if (request.path === "/api/v2/orgs/acme/roles") return jsonResponse(200, rolesFor(permissions));
    if (request.path === "/api/v2/orgs/acme/audit-events") return answer(request);
    return undefined;
  });
}

describe("AuditLogScreen", () => {
  it("says each event in words: who, what, when, and through what", async () => {
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, () => jsonResponse(200, pageOf([KEY_CREATED, INVITED_BY_KEY, OVERRIDE])));
    renderWithApi(<AuditLogScreen org="acme" />, makeClient(fetch));

    const events = await screen.findAllByTestId("audit-event");
    await waitFor(() =>
      expect(within(events[0] as HTMLElement).getByTestId("audit-sentence")).toHaveTextContent(
        "rita@example.test created the API key “CI” (ts_ab12…) with the role Viewer.",
      ),
    );
    expect(events[0]).toHaveTextContent("in a browser session");
    expect(within(events[0] as HTMLElement).getByText("Session")).toBeInTheDocument();
    expect(within(events[1] as HTMLElement).getByTestId("audit-sentence")).toHaveTextContent("API key “CI” (ts_ab12…) invited max@example.test as Member.");
    expect(events[1]).toHaveTextContent("with an API key");
    expect(within(events[2] as HTMLElement).getByRole("link", { name: "Open the task" })).toHaveAttribute(
      "href",
      "/orgs/acme/tasks/00000000-0000-4000-8000-000000000001",
    );
    expect(screen.getByText("That is the whole log.")).toBeInTheDocument();
  });

  it("sends the URL's filters to the API, days as the reader's whole days", async () => {
    navigation.search = "action=api_key.created&actor=rita&from=2026-12-01&to=2026-12-01";
    const { fetch, sent } = serve(OWNER_ROLE_PERMISSIONS, () => jsonResponse(200, pageOf([KEY_CREATED])));
    renderWithApi(<AuditLogScreen org="acme" />, makeClient(fetch));

    await screen.findAllByTestId("audit-event");
    const query = sent.find((request) => request.path === "/api/v2/orgs/acme/audit-events")?.search;
    expect(query?.get("action")).toBe("api_key.created");
    expect(query?.get("actor")).toBe("rita");
    expect(query?.get("since")).toBe(new Date(2026, 11, 1).toISOString());
    expect(query?.get("until")).toBe(new Date(2026, 11, 2).toISOString());
    expect(screen.getByLabelText("Action")).toHaveValue("api_key.created");
    expect(screen.getByLabelText("Who")).toHaveValue("rita");
    expect(screen.getByText("That is every matching event.")).toBeInTheDocument();
  });

  it("puts a chosen filter in the URL", async () => {
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, () => jsonResponse(200, pageOf([KEY_CREATED])));
    renderWithApi(<AuditLogScreen org="acme" />, makeClient(fetch));

    await userEvent.selectOptions(await screen.findByLabelText("Action"), "member.role_changed");
    expect(navigation.replace).toHaveBeenLastCalledWith("/orgs/acme/audit?action=member.role_changed", { scroll: false });
    await userEvent.type(screen.getByLabelText("Who"), "max");
    await waitFor(() => expect(navigation.replace).toHaveBeenLastCalledWith("/orgs/acme/audit?actor=max", { scroll: false }));
  });

  it("empties the person box when the filters are cleared, and keeps what is typed meanwhile", async () => {
    navigation.replace.mockImplementation((href: string) => {
      navigation.search = href.split("?")[1] ?? "";
    });
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, () => jsonResponse(200, pageOf([KEY_CREATED])));
    const client = makeClient(fetch);
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const wrapper = ({ children }: { children: ReactNode }) => (
      <QueryClientProvider client={queryClient}>
        <ApiClientProvider client={client}>{children}</ApiClientProvider>
      </QueryClientProvider>
    );
    const { rerender } = render(<AuditLogScreen org="acme" />, { wrapper });

    const who = await screen.findByLabelText("Who");
    await userEvent.type(who, "max");
    await waitFor(() => expect(navigation.search).toBe("actor=max"));
    rerender(<AuditLogScreen org="acme" />);
    expect(who).toHaveValue("max");

    await userEvent.click(screen.getAllByRole("button", { name: "Clear the filters" })[0] as HTMLElement);
    rerender(<AuditLogScreen org="acme" />);
    expect(screen.getByLabelText("Who")).toHaveValue("");
    await new Promise((resolve) => setTimeout(resolve, 400)); // past the search's debounce
    expect(navigation.search).toBe("");
  });

  it("loads older events a page at a time with the cursor", async () => {
    const { fetch, sent } = serve(OWNER_ROLE_PERMISSIONS, (request) =>
      request.search.get("cursor") === "c1" ? jsonResponse(200, pageOf([OVERRIDE])) : jsonResponse(200, pageOf([KEY_CREATED], "c1")),
    );
    renderWithApi(<AuditLogScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Show older events" }));
    await waitFor(() => expect(screen.getAllByTestId("audit-event")).toHaveLength(2));
    expect(sent.filter((request) => request.path.endsWith("/audit-events")).map((request) => request.search.get("cursor"))).toEqual([null, "c1"]);
    expect(screen.queryByRole("button", { name: "Show older events" })).not.toBeInTheDocument();
  });

  it("offers to clear filters that match nothing, and says a range is backwards", async () => {
    navigation.search = "action=role.deleted";
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, () => jsonResponse(200, pageOf([])));
    renderWithApi(<AuditLogScreen org="acme" />, makeClient(fetch));

    expect(await screen.findByText("No event matches")).toBeInTheDocument();
    await userEvent.click(screen.getAllByRole("button", { name: "Clear the filters" })[0] as HTMLElement);
    expect(navigation.replace).toHaveBeenLastCalledWith("/orgs/acme/audit", { scroll: false });
  });

  it("says a date range is backwards instead of asking", async () => {
    navigation.search = "from=2026-12-05&to=2026-12-01";
    const { fetch, sent } = serve(OWNER_ROLE_PERMISSIONS, () => jsonResponse(200, pageOf([])));
    renderWithApi(<AuditLogScreen org="acme" />, makeClient(fetch));

    expect(await screen.findByText("The first day comes after the last one.")).toBeInTheDocument();
    expect(screen.getByLabelText("From")).toHaveAttribute("aria-invalid", "true");
    expect(sent.some((request) => request.path.endsWith("/audit-events"))).toBe(false);
  });

  it("says the audit log needs the Business plan, with the way to upgrade", async () => {
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, () =>
      jsonResponse(
        402,
        { type: "/problems/plan-feature-required", title: "Plan feature required", status: 402, feature: "audit_log", plan: "free", required_plan: "business" },
        "application/problem+json",
      ),
    );
    renderWithApi(<AuditLogScreen org="acme" />, makeClient(fetch));

    expect(await screen.findByText("The audit log needs the Business plan")).toBeInTheDocument();
    expect(screen.getByTestId("upgrade-link")).toHaveAttribute("href", "/orgs/acme/billing");
    expect(screen.getByTestId("upgrade-link")).toHaveTextContent("Upgrade to Business");
  });

  it("tells a role without audit.read why, and asks nothing", async () => {
    const { fetch, sent } = serve(["task.read", "members.read"], () => jsonResponse(200, pageOf([])));
    renderWithApi(<AuditLogScreen org="acme" />, makeClient(fetch));

    expect(await screen.findByText(/Your role does not let you read the audit log/)).toBeInTheDocument();
    expect(sent.some((request) => request.path.endsWith("/audit-events"))).toBe(false);
  });
});
