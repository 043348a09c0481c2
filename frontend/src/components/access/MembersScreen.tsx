"use client";

import { useState, type ComponentProps } from "react";
import { useForm } from "react-hook-form";

import { FormError } from "@/components/auth/FormError";
import {
  Alert,
  Badge,
  Button,
  Card,
  ConfirmDialog,
  DateTime,
  Dialog,
  EmptyState,
  Field,
  Input,
  LoadingState,
  PageHeader,
  Select,
  Skeleton,
  useToast,
} from "@/components/ui";
import { canTouchRole, emailError, grantableRoles, INVITE_EMAIL_MAX, roleNameOf } from "@/lib/access";
import { ApiProblem } from "@/lib/api/problem";
import type { Invitation, Member, Role } from "@/lib/api/types";
import { applyServerErrors, useIdempotencyKeys, useSingleSubmission } from "@/lib/forms";
import {
  useChangeMemberRole,
  useInvitations,
  useInvite,
  useMembers,
  useRemoveMember,
  useRevokeInvitation,
  useRoles,
} from "@/lib/queries/access";
import { useMe, useOrgAccess } from "@/lib/queries/me";
import { itemsOf } from "@/lib/queries/options";

import { AccessError, isConflict, NotAllowed } from "./AccessError";
import { TeamTabs } from "./TeamTabs";

/** The last-owner rule, said when the API refuses a change for it (a 409). */
function LastOwnerRule({ error }: { error: unknown }) {
  return (
    <Alert tone="warning" title="An organization always keeps an owner" className="mt-3">
      <p>{error instanceof ApiProblem && error.detail ? error.detail : "This would leave the organization without an owner."}</p>
      <p>
        Owners are the only ones who can appoint other owners and manage billing, so the last one cannot be demoted or removed.
        Make another member an owner first, then change or remove this one.
      </p>
    </Alert>
  );
}

function MutationError({ org, error }: { org: string; error: unknown }) {
  if (!error) return null;
  return isConflict(error) ? <LastOwnerRule error={error} /> : <AccessError org={org} error={error} className="mt-3" />;
}

/** A choice among `roles` (the ones the caller may grant), custom ones marked. */
function RoleSelect({ roles, ...rest }: { roles: readonly Role[] } & ComponentProps<"select">) {
  return (
    <Select {...rest}>
      {roles.map((role) => (
        <option key={role.key} value={role.key}>
          {role.name}
          {role.is_builtin ? "" : " (custom)"}
        </option>
      ))}
    </Select>
  );
}

// ---------------------------------------------------------------------------------- invite

interface InviteValues {
  email: string;
  role: string;
}
const INVITE_FIELDS = ["email", "role"] as const;

function InviteForm({ org, roles, onDone }: { org: string; roles: readonly Role[]; onDone: () => void }) {
  const toast = useToast();
  const invite = useInvite(org);
  const keys = useIdempotencyKeys();
  const submitOnce = useSingleSubmission();
  const [formError, setFormError] = useState<{ error: unknown; details: string[] } | null>(null);
  const choices = grantableRoles(roles);
  const defaultRole = choices.find((role) => role.key === "member")?.key ?? choices[0]?.key ?? "";
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm<InviteValues>({ defaultValues: { email: "", role: defaultRole } });

  async function onSubmit(values: InviteValues): Promise<boolean> {
    setFormError(null);
    const input = { email: values.email.trim(), role: values.role };
    try {
      const created = await invite.mutateAsync({ input, idempotencyKey: keys.keyFor(input) });
      keys.reset();
      toast.show(`Invitation sent to ${created.email} as ${roleNameOf(roles, created.role)}.`);
      onDone();
      return true;
    } catch (error) {
      const { unplaced } = applyServerErrors(error, setError, INVITE_FIELDS);
      setFormError({ error, details: unplaced });
      return false;
    }
  }

  if (choices.length === 0) {
    return <Alert tone="info">Your role cannot hand out any role, so you cannot invite anyone.</Alert>;
  }
  return (
    <form noValidate onSubmit={handleSubmit(submitOnce(onSubmit))} className="space-y-4" aria-label="Invite someone">
      {formError && !(formError.error instanceof ApiProblem && formError.error.status === 422) ? (
        <AccessError org={org} error={formError.error} title="The invitation was not sent" />
      ) : formError ? (
        <FormError summary="Please correct the fields marked below." details={formError.details} />
      ) : null}
      <Field label="Email" hint="We mail them a link; it works for 7 days." error={errors.email?.message}>
        {(control) => (
          <Input
            {...control}
            type="email"
            autoComplete="off"
            maxLength={INVITE_EMAIL_MAX}
            {...register("email", { validate: (value) => emailError(value) ?? true })}
          />
        )}
      </Field>
      <Field label="Role" hint="Only roles within your own permissions are offered." error={errors.role?.message}>
        {(control) => <RoleSelect roles={choices} {...control} {...register("role")} />}
      </Field>
      <div className="flex flex-wrap justify-end gap-2">
        <Button variant="secondary" onClick={onDone} disabled={invite.isPending}>
          Cancel
        </Button>
        <Button type="submit" isLoading={invite.isPending}>
          Send invitation
        </Button>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------------------------- members

function ChangeRoleDialog({ org, member, roles, onClose }: { org: string; member: Member | null; roles: readonly Role[]; onClose: () => void }) {
  const toast = useToast();
  const change = useChangeMemberRole(org);
  const [role, setRole] = useState(member?.role ?? "");
  const choices = grantableRoles(roles);
  return (
    <Dialog
      open={member !== null}
      onClose={() => {
        change.reset();
        onClose();
      }}
      title={member ? `Change the role of ${member.email}` : ""}
      description={member ? `Now: ${roleNameOf(roles, member.role)}. The new role applies to their very next request.` : undefined}
      footer={
        <>
          <Button
            variant="secondary"
            disabled={change.isPending}
            onClick={() => {
              change.reset();
              onClose();
            }}
          >
            Cancel
          </Button>
          <Button
            isLoading={change.isPending}
            disabled={!member || role === member.role}
            onClick={() => {
              if (!member) return;
              change.mutate(
                { memberId: member.id, role },
                {
                  onSuccess: (updated) => {
                    toast.show(`${updated.email} is now ${roleNameOf(roles, updated.role)}.`);
                    onClose();
                  },
                },
              );
            }}
          >
            Change role
          </Button>
        </>
      }
    >
      <Field label="New role" hint="Only roles within your own permissions are offered.">
        {(control) => <RoleSelect roles={choices} {...control} value={role} onChange={(event) => setRole(event.target.value)} />}
      </Field>
      <MutationError org={org} error={change.error} />
    </Dialog>
  );
}

function RemoveMemberDialog({ org, member, orgName, onClose }: { org: string; member: Member | null; orgName: string; onClose: () => void }) {
  const toast = useToast();
  const remove = useRemoveMember(org);
  const close = () => {
    remove.reset();
    onClose();
  };
  return (
    <ConfirmDialog
      open={member !== null}
      title={member ? `Remove ${member.email}?` : ""}
      description={`They lose access to ${orgName} at once; the tasks they submitted stay. To come back they need a new invitation.`}
      confirmLabel="Remove member"
      tone="danger"
      isLoading={remove.isPending}
      error={<MutationError org={org} error={remove.error} />}
      onClose={close}
      onConfirm={() => {
        if (!member) return;
        remove.mutate(member.id, {
          onSuccess: () => {
            toast.show(`${member.email} was removed.`);
            onClose();
          },
        });
      }}
    />
  );
}

function MemberRow({
  member,
  roles,
  isYou,
  canManage,
  onChangeRole,
  onRemove,
}: {
  member: Member;
  roles: readonly Role[] | undefined;
  isYou: boolean;
  canManage: boolean;
  onChangeRole: () => void;
  onRemove: () => void;
}) {
  const canTouch = canManage && canTouchRole(roles, member.role);
  return (
    <li data-testid="member-row" data-email={member.email} className="flex flex-wrap items-start justify-between gap-x-4 gap-y-2 py-3">
      <div className="min-w-0">
        <p className="flex flex-wrap items-center gap-2">
          <span className="font-medium break-all text-slate-900">{member.email}</span>
          {isYou ? <Badge tone="info">You</Badge> : null}
          <Badge tone={member.role === "owner" ? "accent" : "neutral"}>
            <span className="sr-only">Role: </span>
            <span data-testid="member-role">{roleNameOf(roles, member.role)}</span>
          </Badge>
        </p>
        <p className="mt-0.5 text-xs text-slate-600">
          Joined <DateTime iso={member.joined_at} /> ·{" "}
          {member.last_active_at ? (
            <>
              last active <DateTime iso={member.last_active_at} />
            </>
          ) : (
            "not active yet"
          )}
        </p>
      </div>
      {canTouch ? (
        <div className="flex flex-wrap gap-2">
          <Button variant="secondary" size="sm" onClick={onChangeRole} aria-label={`Change the role of ${member.email}`}>
            Change role
          </Button>
          <Button variant="ghost" size="sm" className="text-rose-700" onClick={onRemove} aria-label={`Remove ${member.email}`}>
            Remove
          </Button>
        </div>
      ) : canManage ? (
        <p className="max-w-xs text-xs text-slate-600">Their role holds permissions you do not, so only someone with those can change or remove them.</p>
      ) : null}
    </li>
  );
}

function MemberList({ org, orgName, canManage }: { org: string; orgName: string; canManage: boolean }) {
  const me = useMe().data;
  const members = useMembers(org);
  const roles = useRoles(org);
  const [changing, setChanging] = useState<Member | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const items = itemsOf(members.data);

  let content;
  if (members.isPending) {
    content = (
      <div className="space-y-2" aria-hidden="true">
        {[0, 1, 2].map((row) => (
          <Skeleton key={row} className="h-12" />
        ))}
      </div>
    );
  } else if (members.isError && items.length === 0) {
    content = <AccessError org={org} error={members.error} title="The members could not be loaded" onRetry={() => void members.refetch()} />;
  } else if (items.length === 0) {
    content = <EmptyState title="No members">Invite someone to work on this organization&apos;s tasks with you.</EmptyState>;
  } else {
    content = (
      <ul className="divide-y divide-slate-100" data-testid="member-list">
        {items.map((member) => (
          <MemberRow
            key={member.id}
            member={member}
            roles={roles.data}
            isYou={member.user_id === me?.id}
            canManage={canManage}
            onChangeRole={() => setChanging(member)}
            onRemove={() => setRemoving(member)}
          />
        ))}
      </ul>
    );
  }

  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">Members</h2>
      <p className="mt-1 mb-2 text-sm text-slate-600">Everyone who can open this organization, with their role.</p>
      {roles.isError ? <AccessError org={org} error={roles.error} title="The roles could not be loaded" className="my-2" /> : null}
      {content}
      {members.hasNextPage ? (
        <Button variant="secondary" className="mt-3 w-full" onClick={() => void members.fetchNextPage()} isLoading={members.isFetchingNextPage}>
          Show more members
        </Button>
      ) : null}
      {roles.data ? (
        <>
          <ChangeRoleDialog key={changing?.id ?? "none"} org={org} member={changing} roles={roles.data} onClose={() => setChanging(null)} />
          <RemoveMemberDialog org={org} member={removing} orgName={orgName} onClose={() => setRemoving(null)} />
        </>
      ) : null}
    </Card>
  );
}

// ---------------------------------------------------------------------------------- invitations

function InvitationRow({
  invitation,
  roles,
  canManage,
  isResending,
  onResend,
  onRevoke,
}: {
  invitation: Invitation;
  roles: readonly Role[] | undefined;
  canManage: boolean;
  isResending: boolean;
  onResend: () => void;
  onRevoke: () => void;
}) {
  const canTouch = canManage && canTouchRole(roles, invitation.role);
  return (
    <li data-testid="invitation-row" data-email={invitation.email} className="flex flex-wrap items-start justify-between gap-x-4 gap-y-2 py-3">
      <div className="min-w-0">
        <p className="flex flex-wrap items-center gap-2">
          <span className="font-medium break-all text-slate-900">{invitation.email}</span>
          <Badge>
            <span className="sr-only">Role: </span>
            {roleNameOf(roles, invitation.role)}
          </Badge>
        </p>
        <p className="mt-0.5 text-xs text-slate-600">
          Invited by {invitation.invited_by} · <DateTime iso={invitation.created_at} /> · expires <DateTime iso={invitation.expires_at} />
        </p>
      </div>
      {canTouch ? (
        <div className="flex flex-wrap gap-2">
          <Button variant="secondary" size="sm" onClick={onResend} isLoading={isResending} aria-label={`Resend the invitation to ${invitation.email}`}>
            Resend
          </Button>
          <Button variant="ghost" size="sm" className="text-rose-700" onClick={onRevoke} aria-label={`Revoke the invitation to ${invitation.email}`}>
            Revoke
          </Button>
        </div>
      ) : null}
    </li>
  );
}

function InvitationList({ org, canManage }: { org: string; canManage: boolean }) {
  const toast = useToast();
  const invitations = useInvitations(org);
  const roles = useRoles(org);
  const resend = useInvite(org);
  const revoke = useRevokeInvitation(org);
  const keys = useIdempotencyKeys();
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const items = itemsOf(invitations.data);

  function resendTo(invitation: Invitation) {
    // A new invitation replaces the pending one for the address, and is mailed again.
    const input = { email: invitation.email, role: invitation.role };
    resend.mutate(
      { input, idempotencyKey: keys.keyFor({ ...input, resend: invitation.id }) },
      {
        onSuccess: () => {
          keys.reset();
          toast.show(`Sent again to ${invitation.email}. The link in the earlier mail no longer works.`);
        },
      },
    );
  }

  let content;
  if (invitations.isPending) {
    content = <Skeleton className="h-12" />;
  } else if (invitations.isError && items.length === 0) {
    content = (
      <AccessError org={org} error={invitations.error} title="The invitations could not be loaded" onRetry={() => void invitations.refetch()} />
    );
  } else if (items.length === 0) {
    content = <p className="py-2 text-sm text-slate-600">No invitation is waiting for an answer.</p>;
  } else {
    content = (
      <ul className="divide-y divide-slate-100" data-testid="invitation-list">
        {items.map((invitation) => (
          <InvitationRow
            key={invitation.id}
            invitation={invitation}
            roles={roles.data}
            canManage={canManage}
            isResending={resend.isPending && resend.variables?.input.email === invitation.email}
            onResend={() => resendTo(invitation)}
            onRevoke={() => setRevoking(invitation)}
          />
        ))}
      </ul>
    );
  }

  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">Pending invitations</h2>
      <p className="mt-1 mb-2 text-sm text-slate-600">Sent and not answered yet. Each link works for 7 days.</p>
      {resend.isError ? <AccessError org={org} error={resend.error} title="The invitation was not sent again" className="my-2" /> : null}
      {content}
      {invitations.hasNextPage ? (
        <Button
          variant="secondary"
          className="mt-3 w-full"
          onClick={() => void invitations.fetchNextPage()}
          isLoading={invitations.isFetchingNextPage}
        >
          Show more invitations
        </Button>
      ) : null}
      <ConfirmDialog
        open={revoking !== null}
        title={revoking ? `Revoke the invitation to ${revoking.email}?` : ""}
        description="The link in their mail stops working. You can invite them again later."
        confirmLabel="Revoke invitation"
        tone="danger"
        isLoading={revoke.isPending}
        error={revoke.error ? <AccessError org={org} error={revoke.error} className="mt-3" /> : null}
        onClose={() => {
          revoke.reset();
          setRevoking(null);
        }}
        onConfirm={() => {
          if (!revoking) return;
          revoke.mutate(revoking.id, {
            onSuccess: () => {
              toast.show(`The invitation to ${revoking.email} was revoked.`);
              setRevoking(null);
            },
          });
        }}
      />
    </Card>
  );
}

// ---------------------------------------------------------------------------------- the page

/** The org's members and pending invitations: invite, resend, revoke, change roles, remove. */
export function MembersScreen({ org }: { org: string }) {
  const access = useOrgAccess(org);
  const canRead = access.can("members.read");
  const canManage = access.can("members.manage");
  const roles = useRoles(org, canRead && canManage);
  const [isInviting, setIsInviting] = useState(false);

  let body;
  if (access.isPending) {
    body = <LoadingState label="Loading the members…" />;
  } else if (!canRead) {
    body = <NotAllowed permission="members.read" />;
  } else {
    body = (
      <div className="space-y-6">
        <MemberList org={org} orgName={access.membership?.name ?? org} canManage={canManage} />
        <InvitationList org={org} canManage={canManage} />
        {!canManage ? (
          <p className="text-sm text-slate-600">
            Inviting people and changing roles needs the permission to manage members: ask an owner or admin of this organization.
          </p>
        ) : null}
      </div>
    );
  }

  return (
    <>
      <PageHeader
        title="Members"
        description="Who is in this organization, what their role lets them do, and who is invited."
        actions={canManage ? <Button onClick={() => setIsInviting(true)}>Invite someone</Button> : null}
      />
      <TeamTabs org={org} current="members" />
      {body}
      <Dialog
        open={isInviting}
        onClose={() => setIsInviting(false)}
        title="Invite someone"
        description="They get a mail with a link to join with the role you choose."
      >
        {isInviting ? (
          roles.isPending ? (
            <LoadingState label="Loading the roles…" />
          ) : roles.isError ? (
            <AccessError org={org} error={roles.error} title="The roles could not be loaded" onRetry={() => void roles.refetch()} />
          ) : (
            <InviteForm org={org} roles={roles.data} onDone={() => setIsInviting(false)} />
          )
        ) : null}
      </Dialog>
    </>
  );
}
