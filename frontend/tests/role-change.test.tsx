import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { reloadPermissionsOnDenial } from "@/app/providers";
import { AppShell } from "@/components/shell/AppShell";
import { ToastProvider } from "@/components/ui";
import { ApiClientProvider } from "@/lib/api/context";
import { ApiProblem } from "@/lib/api/problem";
import { queryKeys } from "@/lib/queries/keys";

import { fakeFetch, jsonResponse, makeClient } from "./helpers";

vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: vi.fn(), push: vi.fn() }),
  usePathname: () => "/orgs/acme/tasks",
  useSearchParams: () => new URLSearchParams(),
}));

const MEMBER = ["billing.read", "members.read", "task.create", "task.read"];
const VIEWER = ["billing.read", "members.read", "task.read"];

function meAs(role: string, permissions: readonly string[]) {
  return { id: 1, email: "max@example.test", email_verified: true, orgs: [{ slug: "acme", name: "Acme", role, permissions: [...permissions] }] };
}

function renderShell(roles: { current: ReturnType<typeof meAs> }) {
  const { fetch } = fakeFetch((request) => (request.path === "/api/v2/me" ? jsonResponse(200, roles.current) : undefined));
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <ApiClientProvider client={makeClient(fetch)}>
        <ToastProvider>
          <AppShell org="acme">
            <p>The page</p>
          </AppShell>
        </ToastProvider>
      </ApiClientProvider>
    </QueryClientProvider>,
  );
  return queryClient;
}

describe("a role that changes while the page is open", () => {
  it("is said after the refusal that revealed it, and the navigation follows the new role", async () => {
    const me = { current: meAs("admin", [...MEMBER, "apikeys.read", "audit.read"]) };
    const queryClient = renderShell(me);
    const nav = await screen.findByRole("navigation", { name: "Main" });
    expect(await within(nav).findByRole("link", { name: "API keys" })).toBeInTheDocument();
    expect(screen.queryByTestId("role-change-notice")).not.toBeInTheDocument();

    // Someone made them a viewer; their next request is refused.
    me.current = meAs("viewer", VIEWER);
    await act(async () => {
      reloadPermissionsOnDenial(new ApiProblem({ type: "/problems/permission-denied", title: "T", status: 403, permission: "task.create" }), queryClient);
      await queryClient.refetchQueries({ queryKey: queryKeys.me });
    });

    expect(await screen.findByTestId("role-change-notice")).toHaveTextContent(
      "What you just tried was refused: your role no longer lets you submit tasks. Your role in Acme is now Viewer, and this page now shows only what it allows.",
    );
    expect(within(nav).queryByRole("link", { name: "API keys" })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByTestId("role-change-notice")).not.toBeInTheDocument();
  });

  it("is said without a refusal when the permissions load again on their own", async () => {
    const me = { current: meAs("member", MEMBER) };
    const queryClient = renderShell(me);
    await screen.findByText("The page");

    me.current = meAs("triage", ["task.read", "task.rescore"]);
    await act(async () => {
      await queryClient.refetchQueries({ queryKey: queryKeys.me });
    });
    expect(await screen.findByTestId("role-change-notice")).toHaveTextContent(/^Your role in Acme is now Triage, and this page now shows only what it allows\.$/);
  });
});
