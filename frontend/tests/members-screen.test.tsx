import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { MembersScreen } from "@/components/access/MembersScreen";
import type { Invitation, Member } from "@/lib/api/types";

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
  usePathname: () => "/orgs/acme/members",
  useSearchParams: () => new URLSearchParams(),
}));

const OWNER: Member = {
  id: 10,
  user_id: 1,
  email: "rita@example.test",
  role: "owner",
  joined_at: "2026-01-01T00:00:00Z",
  last_active_at: "2026-12-01T09:00:00Z",
};
const MAX: Member = { id: 11, user_id: 2, email: "max@example.test", role: "member", joined_at: "2026-02-01T00:00:00Z", last_active_at: null };
const INVITATION: Invitation = {
  id: 5,
  email: "nora@example.test",
  role: "viewer",
  invited_by: "rita@example.test",
  created_at: "2026-12-01T00:00:00Z",
  expires_at: "2026-12-08T00:00:00Z",
};

function serve(permissions: readonly string[], extra?: (request: SentRequest) => Response | undefined, members: readonly Member[] = [OWNER, MAX]) {
  return fakeFetch((request) => {
    const answer = extra?.(request);
    if (answer) return answer;
    if (request.path === "/api/v2/me") return jsonResponse(200, meWith(permissions));
    if (request.path === "/api/v2/orgs/acme/members" && request.method === "GET") return jsonResponse(200, pageOf(members));
    if (request.path === "/api/v2/orgs/acme/invitations" && request.method === "GET") return jsonResponse(200, pageOf([INVITATION]));
    if (request.path === "/api/v2/orgs/acme/roles") return jsonResponse(200, rolesFor(permissions));
    return undefined;
  });
}

async function rowOf(email: string) {
  return (await screen.findAllByTestId("member-row")).find((row) => row.dataset.email === email) as HTMLElement;
}

describe("MembersScreen", () => {
  it("lists the members with their role, you, and their last activity", async () => {
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS);
    renderWithApi(<MembersScreen org="acme" />, makeClient(fetch));

    const rita = await rowOf(OWNER.email);
    expect(within(rita).getByText("You")).toBeInTheDocument();
    await waitFor(() => expect(within(rita).getByTestId("member-role")).toHaveTextContent("Owner"));
    expect(rita).toHaveTextContent("last active");
    expect(await rowOf(MAX.email)).toHaveTextContent("not active yet");
    const invitation = await screen.findByTestId("invitation-row");
    expect(invitation).toHaveTextContent("Invited by rita@example.test");
    expect(within(invitation).getByText("Viewer")).toBeInTheDocument();
  });

  it("shows a viewer the lists with no control to change them", async () => {
    const { fetch, sent } = serve(["members.read", "task.read"]);
    renderWithApi(<MembersScreen org="acme" />, makeClient(fetch));

    await rowOf(MAX.email);
    await screen.findByTestId("invitation-row");
    expect(screen.queryByRole("button", { name: "Invite someone" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Change the role/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Remove/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Revoke/ })).not.toBeInTheDocument();
    expect(screen.getByText(/Inviting people and changing roles needs the permission to manage members/)).toBeInTheDocument();
    expect(sent.some((request) => request.method !== "GET")).toBe(false);
  });

  it("says what the page needs when the role cannot see members, and asks nothing", async () => {
    const { fetch, sent } = serve(["task.read"]);
    renderWithApi(<MembersScreen org="acme" />, makeClient(fetch));

    expect(await screen.findByText("Your role does not let you see members. Ask an owner or admin of this organization if you need to.")).toBeInTheDocument();
    expect(sent.map((request) => request.path)).toEqual(["/api/v2/me"]);
  });

  it("lets an admin touch only members whose role it could grant, and says why not for an owner", async () => {
    const { fetch } = serve(ADMIN_ROLE_PERMISSIONS);
    renderWithApi(<MembersScreen org="acme" />, makeClient(fetch));

    const max = await rowOf(MAX.email);
    await waitFor(() => expect(within(max).getByRole("button", { name: `Change the role of ${MAX.email}` })).toBeInTheDocument());
    const rita = await rowOf(OWNER.email);
    expect(within(rita).queryByRole("button")).not.toBeInTheDocument();
    expect(rita).toHaveTextContent("Their role holds permissions you do not");
  });

  it("invites with one of the roles the inviter may grant, once per intended invitation", async () => {
    document.cookie = "csrftoken=t";
    const posted: SentRequest[] = [];
    const { fetch } = serve(ADMIN_ROLE_PERMISSIONS, (request) => {
      if (request.path === "/api/v2/orgs/acme/invitations" && request.method === "POST") {
        posted.push(request);
        return jsonResponse(201, { ...INVITATION, id: 6, email: "ivan@example.test", role: "triage", accept_url: "http://web.test/invitations/x" });
      }
      return undefined;
    });
    renderWithApi(<MembersScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Invite someone" }));
    const dialog = await screen.findByRole("dialog");
    const role = await within(dialog).findByLabelText("Role");
    expect(within(role).getAllByRole("option").map((option) => option.textContent)).toEqual(["Admin", "Member", "Viewer", "Triage (custom)"]);
    expect(role).toHaveValue("member");
    await userEvent.click(within(dialog).getByRole("button", { name: "Send invitation" }));
    expect(await within(dialog).findByText("Enter an email address.")).toBeInTheDocument();
    await userEvent.type(within(dialog).getByLabelText("Email"), " ivan@example.test ");
    await userEvent.selectOptions(role, "triage");
    await userEvent.click(within(dialog).getByRole("button", { name: "Send invitation" }));

    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(posted).toHaveLength(1);
    expect(posted[0]?.body).toEqual({ email: "ivan@example.test", role: "triage" });
    expect(posted[0]?.headers.get("Idempotency-Key")).toBeTruthy();
    expect(screen.getByTestId("toast")).toHaveTextContent("Invitation sent to ivan@example.test as Triage.");
  });

  it("puts the API's field errors under the fields of the invitation", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) =>
      request.method === "POST"
        ? problemResponse(422, { title: "Invalid", type: "/problems/validation-failed", errors: [{ field: "email", message: "Enter an email address." }] })
        : undefined,
    );
    renderWithApi(<MembersScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Invite someone" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(await within(dialog).findByLabelText("Email"), "a@b");
    await userEvent.click(within(dialog).getByRole("button", { name: "Send invitation" }));
    expect(await within(dialog).findByText("Enter an email address.")).toBeInTheDocument();
    expect(within(dialog).getByLabelText("Email")).toHaveAttribute("aria-invalid", "true");
  });

  it("resends an invitation as a new one for the same address and role, and revokes after asking", async () => {
    document.cookie = "csrftoken=t";
    const requests: SentRequest[] = [];
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) => {
      if (request.method === "POST" || request.method === "DELETE") {
        requests.push(request);
        return request.method === "POST"
          ? jsonResponse(201, { ...INVITATION, id: 7, accept_url: "http://web.test/invitations/y" })
          : new Response(null, { status: 204 });
      }
      return undefined;
    });
    renderWithApi(<MembersScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: `Resend the invitation to ${INVITATION.email}` }));
    expect(await screen.findByText(`Sent again to ${INVITATION.email}. The link in the earlier mail no longer works.`)).toBeInTheDocument();
    expect(requests[0]?.body).toEqual({ email: INVITATION.email, role: "viewer" });

    await userEvent.click(screen.getByRole("button", { name: `Revoke the invitation to ${INVITATION.email}` }));
    const confirm = await screen.findByRole("dialog");
    expect(confirm).toHaveTextContent("The link in their mail stops working.");
    expect(requests).toHaveLength(1);
    await userEvent.click(within(confirm).getByRole("button", { name: "Revoke invitation" }));
    await waitFor(() => expect(requests).toHaveLength(2));
    expect([requests[1]?.method, requests[1]?.path]).toEqual(["DELETE", "/api/v2/orgs/acme/invitations/5"]);
  });

  it("changes a member's role with a choice of grantable roles", async () => {
    document.cookie = "csrftoken=t";
    const patches: SentRequest[] = [];
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) => {
      if (request.method === "PATCH") {
        patches.push(request);
        return jsonResponse(200, { ...MAX, role: "viewer" });
      }
      return undefined;
    });
    renderWithApi(<MembersScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: `Change the role of ${MAX.email}` }));
    const dialog = await screen.findByRole("dialog");
    const save = within(dialog).getByRole("button", { name: "Change role" });
    expect(save).toBeDisabled();
    await userEvent.selectOptions(within(dialog).getByLabelText("New role"), "viewer");
    await userEvent.click(save);
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect([patches[0]?.path, patches[0]?.body]).toEqual(["/api/v2/orgs/acme/members/11", { role: "viewer" }]);
    expect(screen.getByTestId("toast")).toHaveTextContent("max@example.test is now Viewer.");
  });

  it("explains the last-owner rule when the API refuses to demote the last owner", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) =>
      request.method === "PATCH"
        ? problemResponse(409, { title: "Conflict", type: "/problems/conflict", detail: "The last owner cannot be demoted; make someone else owner first." })
        : undefined,
    );
    renderWithApi(<MembersScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: `Change the role of ${OWNER.email}` }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.selectOptions(within(dialog).getByLabelText("New role"), "admin");
    await userEvent.click(within(dialog).getByRole("button", { name: "Change role" }));
    const rule = await within(dialog).findByRole("alert");
    expect(rule).toHaveTextContent("An organization always keeps an owner");
    expect(rule).toHaveTextContent("The last owner cannot be demoted; make someone else owner first.");
    expect(rule).toHaveTextContent("Make another member an owner first, then change or remove this one.");
  });

  it("removes a member after a confirmation, and explains a refusal for a missing permission", async () => {
    document.cookie = "csrftoken=t";
    const deletes: SentRequest[] = [];
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) => {
      if (request.method === "DELETE") {
        deletes.push(request);
        return problemResponse(403, { title: "Forbidden", type: "/problems/permission-denied", permission: "members.manage" });
      }
      return undefined;
    });
    renderWithApi(<MembersScreen org="acme" />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: `Remove ${MAX.email}` }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("They lose access to Acme at once; the tasks they submitted stay.");
    await userEvent.click(within(dialog).getByRole("button", { name: "Remove member" }));
    expect(await within(dialog).findByText("Your role does not let you manage members.")).toBeInTheDocument();
    expect(within(dialog).getByText(/Your role may have just changed: this page now shows what it allows/)).toBeInTheDocument();
    expect(deletes.map((request) => request.path)).toEqual(["/api/v2/orgs/acme/members/11"]);
  });

  it("says when the members could not be loaded, and tries again", async () => {
    let calls = 0;
    const { fetch } = serve(OWNER_ROLE_PERMISSIONS, (request) => {
      if (request.path === "/api/v2/orgs/acme/members") {
        calls += 1;
        return calls === 1 ? problemResponse(500, { title: "Oops" }) : jsonResponse(200, pageOf([OWNER]));
      }
      return undefined;
    });
    renderWithApi(<MembersScreen org="acme" />, makeClient(fetch));

    const alert = await screen.findByText("The members could not be loaded");
    await userEvent.click(within(alert.parentElement as HTMLElement).getByRole("button", { name: "Try again" }));
    expect(await rowOf(OWNER.email)).toBeInTheDocument();
  });
});
