"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";

import { Alert, Button, ButtonLink, LoadingState } from "@/components/ui";
import { useApiClient } from "@/lib/api/context";
import { describeError } from "@/lib/errors";
import { loginPath, paths, safeNextPath } from "@/lib/paths";
import { queryKeys } from "@/lib/queries/keys";
import { useOptionalMe } from "@/lib/queries/me";
import { useVerificationEmail } from "@/lib/verification-email";

/**
 * The page a verification mail links to. It shows the address and asks for a click before
 * confirming it (mail scanners open links; a GET changes nothing). Opened in the browser that
 * signed up (or tried to log in), it also logs the person in.
 */
export function VerifyEmailLink({ verificationKey, next }: { verificationKey: string; next?: string | undefined }) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const meQuery = useOptionalMe();
  const infoQuery = useQuery({
    queryKey: ["email-verification", verificationKey],
    queryFn: () => client.verificationInfo(verificationKey),
    retry: false,
  });
  const verify = useMutation({
    mutationFn: () => client.verifyEmail(verificationKey),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.me }),
  });

  if (verify.isSuccess) {
    const isLoggedIn = verify.data.isLoggedIn || (meQuery.data !== null && meQuery.data !== undefined);
    return (
      <Alert
        tone="success"
        title="Your email address is verified"
        actions={
          isLoggedIn ? (
            <ButtonLink href={safeNextPath(next, paths.home)}>Continue</ButtonLink>
          ) : (
            <ButtonLink href={`${paths.login}?verified=1`}>Log in</ButtonLink>
          )
        }
      >
        {isLoggedIn ? "You can now create an organization or accept invitations." : "Log in to continue."}
      </Alert>
    );
  }
  if (infoQuery.isPending) return <LoadingState label="Checking the link…" />;
  if (infoQuery.isError) {
    const description = describeError(infoQuery.error);
    return (
      <Alert
        tone="error"
        title={description.isRetryable ? "The link could not be checked" : "This link does not work any more"}
        actions={
          description.isRetryable ? (
            <Button onClick={() => void infoQuery.refetch()}>Try again</Button>
          ) : (
            <ButtonLink href={paths.verifyEmailNotice}>Send a new link</ButtonLink>
          )
        }
      >
        {description.isRetryable
          ? description.message
          : "It may have been used already or expired. Log in and send yourself a new one."}
      </Alert>
    );
  }
  return (
    <div className="space-y-4">
      <p className="text-sm text-slate-700">
        Confirm that <strong className="font-semibold text-slate-900">{infoQuery.data.email}</strong> is your email
        address.
      </p>
      {verify.isError ? <Alert tone="error">{describeError(verify.error).message}</Alert> : null}
      <Button onClick={() => verify.mutate()} isLoading={verify.isPending} className="w-full">
        Verify my email address
      </Button>
    </div>
  );
}

function OutboxNotice() {
  return (
    <Alert tone="info">
      This Taskscore runs locally: its mail is kept in the{" "}
      <Link href={paths.outbox} className="font-semibold underline">
        local outbox
      </Link>
      .
    </Alert>
  );
}

/**
 * After sign-up, or a log-in with an address not verified yet: nobody is logged in until the
 * address is verified. Says where the link went (the address this tab signed up or logged in
 * with) and how to get another one: each log-in with the right password mails a new link.
 */
function PendingVerificationNotice({ next, outboxAvailable }: { next?: string | undefined; outboxAvailable: boolean }) {
  const email = useVerificationEmail();
  return (
    <div className="space-y-4 text-sm text-slate-700">
      <p>
        We sent a link to {email ? <strong className="font-semibold text-slate-900">{email}</strong> : "your email address"}.
        Open it to verify your address: in this browser it also logs you in.
      </p>
      {outboxAvailable ? <OutboxNotice /> : null}
      <p>
        Nothing after a few minutes? Look in your spam folder, or log in again: each log-in sends a new link (at most one
        every three minutes).
      </p>
      <div className="flex flex-wrap gap-2">
        <ButtonLink href={loginPath(next)} variant="secondary">
          Log in
        </ButtonLink>
        <ButtonLink href={paths.signup} variant="ghost">
          Sign up with another address
        </ButtonLink>
      </div>
    </div>
  );
}

/** After sign-up, or whenever the address is unverified: where the mail went, and a resend. */
export function VerifyEmailNotice({ next, outboxAvailable }: { next?: string | undefined; outboxAvailable: boolean }) {
  const client = useApiClient();
  const meQuery = useOptionalMe();
  const resend = useMutation({ mutationFn: (email: string) => client.resendVerification(email) });

  if (meQuery.isPending) return <LoadingState />;
  if (meQuery.isError) {
    return <Alert tone="error" title="Your account could not be loaded">{describeError(meQuery.error).message}</Alert>;
  }
  const me = meQuery.data;
  if (me === null) return <PendingVerificationNotice next={next} outboxAvailable={outboxAvailable} />;
  if (me.email_verified) {
    return (
      <Alert tone="success" title="Your email address is verified" actions={<ButtonLink href={safeNextPath(next, paths.home)}>Continue</ButtonLink>}>
        {me.email} is verified.
      </Alert>
    );
  }
  return (
    <div className="space-y-4 text-sm text-slate-700">
      <p>
        We sent a link to <strong className="font-semibold text-slate-900">{me.email}</strong>. Open it to verify your
        address; then you can create an organization or accept an invitation.
      </p>
      {outboxAvailable ? <OutboxNotice /> : null}
      {resend.isSuccess ? <Alert tone="success">We sent the link again. It may take a minute to arrive.</Alert> : null}
      {resend.isError ? <Alert tone="error">{describeError(resend.error).message}</Alert> : null}
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" onClick={() => resend.mutate(me.email)} isLoading={resend.isPending}>
          Send the link again
        </Button>
        <ButtonLink href={paths.account} variant="ghost">
          Use another address
        </ButtonLink>
      </div>
    </div>
  );
}
