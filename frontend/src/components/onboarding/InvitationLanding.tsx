"use client";

import { useRouter } from "next/navigation";

import { LogoutButton } from "@/components/shell/LogoutButton";
import { Alert, Button, ButtonLink, DateTime, LoadingState, useToast } from "@/components/ui";
import { describeError } from "@/lib/errors";
import { loginPath, paths } from "@/lib/paths";
import { useAcceptInvitationByToken, useDeclineInvitationByToken, useInvitation } from "@/lib/queries/invitations";
import { useOptionalMe } from "@/lib/queries/me";

/** The page of an invitation link: what it offers, and accept or decline for the invited person. */
export function InvitationLanding({ token }: { token: string }) {
  const router = useRouter();
  const toast = useToast();
  const invitationQuery = useInvitation(token);
  const meQuery = useOptionalMe();
  const accept = useAcceptInvitationByToken();
  const decline = useDeclineInvitationByToken();
  const here = `/invitations/${encodeURIComponent(token)}`;

  if (invitationQuery.isPending || meQuery.isPending) return <LoadingState label="Opening the invitation…" />;
  if (invitationQuery.isError) {
    const description = describeError(invitationQuery.error);
    return (
      <Alert
        tone="error"
        title={description.isRetryable ? "The invitation could not be loaded" : "This invitation is not valid"}
        actions={<ButtonLink href={paths.home} variant="secondary">Go to Taskscore</ButtonLink>}
      >
        {description.isRetryable
          ? description.message
          : "It has expired, was revoked, or was used already. Ask the person who invited you for a new one."}
      </Alert>
    );
  }
  const invitation = invitationQuery.data;
  const me = meQuery.data ?? null;

  if (decline.isSuccess) {
    return (
      <Alert tone="info" title="Invitation declined" actions={<ButtonLink href={paths.home}>Go to Taskscore</ButtonLink>}>
        You will not join {invitation.org.name}.
      </Alert>
    );
  }

  let action;
  if (me === null) {
    action = (
      <div className="space-y-3">
        <p className="text-sm text-slate-700">Log in or create an account with {invitation.email} to accept.</p>
        <div className="flex flex-wrap gap-2">
          <ButtonLink href={`${paths.signup}?email=${encodeURIComponent(invitation.email)}&next=${encodeURIComponent(here)}`}>
            Create an account
          </ButtonLink>
          <ButtonLink href={loginPath(here)} variant="secondary">
            Log in
          </ButtonLink>
        </div>
      </div>
    );
  } else if (me.email.toLowerCase() !== invitation.email.toLowerCase()) {
    action = (
      <Alert tone="warning" title="This invitation is for someone else" actions={<LogoutButton />}>
        You are logged in as {me.email}, but the invitation was sent to {invitation.email}. Log out and log in with
        that address to accept it.
      </Alert>
    );
  } else if (!me.email_verified) {
    action = (
      <Alert
        tone="warning"
        title="Verify your email address first"
        actions={<ButtonLink href={`${paths.verifyEmailNotice}?next=${encodeURIComponent(here)}`}>Verify email</ButtonLink>}
      >
        We need to know that {me.email} is yours before you join an organization.
      </Alert>
    );
  } else {
    const error = accept.error ?? decline.error;
    action = (
      <div className="space-y-3">
        {error ? <Alert tone="error">{describeError(error).message}</Alert> : null}
        <div className="flex flex-wrap gap-2">
          <Button
            isLoading={accept.isPending}
            disabled={decline.isPending}
            onClick={() =>
              accept.mutate(token, {
                onSuccess: (org) => {
                  toast.show(`You joined ${org.name}.`);
                  router.push(paths.tasks(org.slug));
                },
              })
            }
          >
            Accept and join
          </Button>
          <Button variant="secondary" isLoading={decline.isPending} disabled={accept.isPending} onClick={() => decline.mutate(token)}>
            Decline
          </Button>
        </div>
      </div>
    );
  }

  return (
    <div className="space-y-5">
      <div>
        <p className="text-sm text-slate-600">{invitation.invited_by} invited you to join</p>
        <p className="mt-1 text-2xl font-semibold text-slate-900" data-testid="invitation-org">
          {invitation.org.name}
        </p>
        <dl className="mt-3 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-slate-600">Role</dt>
          <dd className="font-medium text-slate-900" data-testid="invitation-role">
            {invitation.role.name}
          </dd>
          <dt className="text-slate-600">For</dt>
          <dd className="text-slate-900">{invitation.email}</dd>
          <dt className="text-slate-600">Expires</dt>
          <dd className="text-slate-900">
            <DateTime iso={invitation.expires_at} />
          </dd>
        </dl>
      </div>
      {action}
    </div>
  );
}
