"use client";

import { Alert, ButtonLink, Card, PageHeader } from "@/components/ui";
import { paths } from "@/lib/paths";
import { useMe } from "@/lib/queries/me";

import { CreateOrgForm } from "./CreateOrgForm";
import { MyInvitations } from "./MyInvitations";

/** After the first login: join an org you were invited to, or create one. */
export function Onboarding() {
  const me = useMe().data;
  if (!me) return null;
  const isVerified = me.email_verified;
  return (
    <div className="mx-auto max-w-2xl">
      <PageHeader
        title={me.orgs.length === 0 ? "Welcome to Taskscore" : "Join or create an organization"}
        description="Tasks, scoring models and members live in an organization. Join your team's, or start one."
      />
      {!isVerified ? (
        <Alert
          tone="warning"
          title="First, verify your email address"
          className="mb-6"
          actions={<ButtonLink href={paths.verifyEmailNotice}>Verify email</ButtonLink>}
        >
          We sent a link to {me.email}. Once it is verified you can create an organization, and invitations sent to it
          show here.
        </Alert>
      ) : null}
      <div className="space-y-6">
        {isVerified ? (
          <Card>
            <h2 className="mb-3 text-lg font-semibold text-slate-900">Invitations</h2>
            <MyInvitations />
          </Card>
        ) : null}
        <Card>
          <h2 className="mb-3 text-lg font-semibold text-slate-900">Create an organization</h2>
          <CreateOrgForm disabled={!isVerified} />
        </Card>
      </div>
    </div>
  );
}
