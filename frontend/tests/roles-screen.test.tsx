import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { RolesScreen } from "@/components/access/RolesScreen";

import {
  ADMIN_ROLE_PERMISSIONS,
  fakeFetch,
  jsonResponse,
  makeClient,
  meWith,
  OWNER_ROLE_PERMISSIONS,
  PERMISSION_CATALOG,
  problemResponse,
  renderWithApi,
  rolesFor,
  type SentRequest,
} from "./helpers";

vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: vi.fn(), push: vi.fn() }),
  usePathname: () => "/orgs/acme/members/roles",
  useSearchParams: () => new URLSearchParams(),
}));

function serve(permissions: readonly string[], extra?: (request: SentRequest) => Response | undefined, roles = rolesFor(permissions)) {
  return fakeFetch((request) => {
    const answer = extra?.(request);
    if (answer) return answer;
    if (request.path === "/api/v2/me") return jsonResponse(200, meWith(permissions));
    if (request.path === "/api/v2/orgs/acme/roles" && request.method === "GET") return jsonResponse(200, roles);
    if (request.path === "/api/v2/orgs/acme/permissions") return jsonResponse(200, PERMISSION_CATALOG);
    return undefined;
  });
}

describe("RolesScreen", () => {
  it("shows the built-in roles side by side, read-only, by area", async () => {
    const { fetch } = serve(["members.read", "task.read"]);
    renderWithApi(<RolesScreen org="acme" />, makeClient(fetch));

    const table = await screen.findByRole("table", { name: "Built-in roles and their permissions" });
    const header = within(table).getAllByRole("row")[0] as HTMLElement;
    expect(within(header).getAllByRole("columnheader").map((cell) => cell.textContent)).toEqual(["Permission", "Owner", "Admin", "Member", "Viewer"]);
    const submit = within(table).getByRole("row", { name: /^Submit tasks/ });
    expect(within(submit).getAllByRole("cell").map((cell) => cell.textContent)).toEqual(["✓Owner: yes", "✓Admin: yes", "✓Member: yes", "—Viewer: no"]);
    expect(within(table).getByRole("columnheader", { name: "Audit log" })).toBeInTheDocument();
    const triage = screen.getByTestId("custom-role");
    expect(triage).toHaveTextContent("Re-scores, never edits the model");
    expect(within(triage).getAllByRole("listitem").map((item) => item.textContent)).toEqual(["See tasks", "Re-score tasks"]);
    expect(screen.queryByRole("button", { name: "New custom role" })).not.toBeInTheDocument();
    expect(within(triage).queryByRole("button")).not.toBeInTheDocument();
  });

  it("creates a role with only permissions the editor holds; the others are disabled, with why", async () => {
    document.cookie = "csrftoken=t";
    const posted: SentRequest[] = [];
    const { fetch } = serve(ADMIN_ROLE_PERMISSIONS, (request) => {
      if (request.method === "POST") {
        posted.push(request);
        return jsonResponse(201, { key: "support-lead", name: "Support lead", description: "", permissions: ["task.create", "task.read"], is_builtin: false, can_grant: true });
      }
      return undefined;
    });
    renderWithApi(<RolesScreen org="acme" />, makeClient(fetch));

    await userEvent.click((await screen.findAllByRole("button", { name: "New custom role" }))[0] as HTMLElement);
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText("Name"), "Support lead");
    expect(within(dialog).getByLabelText("Key")).toHaveValue("support-lead");
    const billing = within(dialog).getByRole("checkbox", { name: "Change the plan and payment details" });
    expect(billing).toBeDisabled();
    expect(billing).toHaveAccessibleDescription("You do not hold this permission, so you cannot give it.");
    expect(within(dialog).getByRole("group", { name: "Billing" })).toBeInTheDocument();

    await userEvent.click(within(dialog).getByRole("button", { name: "Create role" }));
    expect(await within(dialog).findByText("Choose at least one permission.")).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole("checkbox", { name: "Submit tasks" }));
    await userEvent.click(within(dialog).getByRole("checkbox", { name: "See tasks, their scores and the scoring models" }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Create role" }));

    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(posted[0]?.body).toEqual({ key: "support-lead", name: "Support lead", description: "", permissions: ["task.read", "task.create"] });
    expect(screen.getByTestId("toast")).toHaveTextContent("The role Support lead was created.");
  });

  it("says a custom role needs the Business plan, with the way to upgrade", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) =>
      request.method === "POST"
        ? jsonResponse(
            402,
            { type: "/problems/plan-feature-required", title: "Plan feature required", status: 402, feature: "custom_roles", plan: "pro", required_plan: "business" },
            "application/problem+json",
          )
        : undefined,
    );
    renderWithApi(<RolesScreen org="acme" />, makeClient(fetch));

    await userEvent.click((await screen.findAllByRole("button", { name: "New custom role" }))[0] as HTMLElement);
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText("Name"), "Ops");
    await userEvent.click(within(dialog).getByRole("checkbox", { name: "Submit tasks" }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Create role" }));

    expect(await within(dialog).findByText("Custom roles need the Business plan")).toBeInTheDocument();
    expect(within(dialog).getByText("Custom roles come with the Business plan. This organization is on the Pro plan. Upgrade to use them.")).toBeInTheDocument();
    expect(within(dialog).getByRole("link", { name: "Upgrade to Business" })).toHaveAttribute("href", "/orgs/acme/billing");
  });

  it("edits a custom role's name and permissions, its key fixed", async () => {
    document.cookie = "csrftoken=t";
    const patches: SentRequest[] = [];
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) => {
      if (request.method === "PATCH") {
        patches.push(request);
        return jsonResponse(200, { ...rolesFor(OWNER_ROLE_PERMISSIONS)[4], name: "Triagers" });
      }
      return undefined;
    });
    renderWithApi(<RolesScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Edit Triage" }));
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getByLabelText("Key")).toHaveAttribute("readonly");
    expect(within(dialog).getByRole("checkbox", { name: "Re-score tasks with the active scoring version" })).toBeChecked();
    const name = within(dialog).getByLabelText("Name");
    await userEvent.clear(name);
    await userEvent.type(name, "Triagers");
    await userEvent.click(within(dialog).getByRole("checkbox", { name: "Submit tasks" }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Save role" }));

    await waitFor(() => expect(patches).toHaveLength(1));
    expect([patches[0]?.path, patches[0]?.body]).toEqual([
      "/api/v2/orgs/acme/roles/triage",
      { name: "Triagers", description: "Re-scores, never edits the model", permissions: ["task.read", "task.create", "task.rescore"] },
    ]);
  });

  it("asks before deleting a role and says why one in use stays", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) =>
      request.method === "DELETE"
        ? problemResponse(409, { title: "Conflict", type: "/problems/conflict", detail: "The role is in use; give its members and keys another role first." })
        : undefined,
    );
    renderWithApi(<RolesScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Delete Triage" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Delete role" }));
    expect(await within(dialog).findByText("The role is in use; give its members and keys another role first.")).toBeInTheDocument();
  });

  it("does not offer to change a custom role holding more than the editor", async () => {
    const { fetch } = serve(["members.read", "members.manage", "task.read"]);
    renderWithApi(<RolesScreen org="acme" />, makeClient(fetch));

    const triage = await screen.findByTestId("custom-role");
    expect(within(triage).queryByRole("button")).not.toBeInTheDocument();
    expect(triage).toHaveTextContent("It holds permissions you do not, so you cannot change or delete it.");
  });
});
