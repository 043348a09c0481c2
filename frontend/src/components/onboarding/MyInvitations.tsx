"use client";

import { useRouter } from "next/navigation";

import { Alert, Button, DateTime, Skeleton, useToast } from "@/components/ui";
import type { MyInvitation } from "@/lib/api/types";
import { describeError } from "@/lib/errors";
import { paths } from "@/lib/paths";
import { useAnswerMyInvitation, useMyInvitations } from "@/lib/queries/invitations";

function InvitationItem({ invitation }: { invitation: MyInvitation }) {
  const router = useRouter();
  const toast = useToast();
  const answer = useAnswerMyInvitation();
  const pendingAnswer = answer.isPending ? answer.variables.answer : null;
  return (
    <li className="rounded-lg border border-slate-200 p-4" data-testid="my-invitation">
      <p className="font-medium text-slate-900">{invitation.org.name}</p>
      <p className="mt-0.5 text-sm text-slate-600">
        {invitation.invited_by} invited you as <strong className="font-medium">{invitation.role.name}</strong>. Expires{" "}
        <DateTime iso={invitation.expires_at} />.
      </p>
      {answer.isError ? <Alert tone="error" className="mt-3">{describeError(answer.error).message}</Alert> : null}
      <div className="mt-3 flex flex-wrap gap-2">
        <Button
          size="sm"
          isLoading={pendingAnswer === "accept"}
          disabled={answer.isPending}
          onClick={() =>
            answer.mutate(
              { id: invitation.id, answer: "accept" },
              {
                onSuccess: () => {
                  toast.show(`You joined ${invitation.org.name}.`);
                  router.push(paths.tasks(invitation.org.slug));
                },
              },
            )
          }
        >
          Accept
          <span className="sr-only"> the invitation to {invitation.org.name}</span>
        </Button>
        <Button
          size="sm"
          variant="secondary"
          isLoading={pendingAnswer === "decline"}
          disabled={answer.isPending}
          onClick={() =>
            answer.mutate(
              { id: invitation.id, answer: "decline" },
              { onSuccess: () => toast.show(`Declined the invitation to ${invitation.org.name}.`, "info") },
            )
          }
        >
          Decline
          <span className="sr-only"> the invitation to {invitation.org.name}</span>
        </Button>
      </div>
    </li>
  );
}

/** The invitations waiting for the person (shown only once their email is verified). */
export function MyInvitations() {
  const invitationsQuery = useMyInvitations();
  if (invitationsQuery.isPending) return <Skeleton className="h-20" />;
  if (invitationsQuery.isError) {
    return (
      <Alert
        tone="error"
        title="Your invitations could not be loaded"
        actions={<Button variant="secondary" size="sm" onClick={() => void invitationsQuery.refetch()}>Try again</Button>}
      >
        {describeError(invitationsQuery.error).message}
      </Alert>
    );
  }
  if (invitationsQuery.data.length === 0) {
    return <p className="text-sm text-slate-600">No invitations are waiting for you.</p>;
  }
  return (
    <ul className="space-y-3">
      {invitationsQuery.data.map((invitation) => (
        <InvitationItem key={invitation.id} invitation={invitation} />
      ))}
    </ul>
  );
}
