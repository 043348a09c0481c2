"use client";

import { Alert, ButtonLink, Card, LoadingState, PageHeader, Switch, useToast } from "@/components/ui";
import { PERMISSION_WORDS } from "@/lib/errors";
import { paths } from "@/lib/paths";
import { useMe, useOrgAccess } from "@/lib/queries/me";
import { useSecuritySettings, useUpdateSecuritySettings } from "@/lib/queries/security";

import { AccessError, isConflict, NotAllowed } from "./AccessError";
import { TeamTabs } from "./TeamTabs";

function MfaRequirement({ org, isRequired }: { org: string; isRequired: boolean }) {
  const toast = useToast();
  const access = useOrgAccess(org);
  const me = useMe().data;
  const update = useUpdateSecuritySettings(org);
  const isOwner = access.can("org.owner");
  const hasMfa = me?.mfa_enabled ?? false;
  // Turning it on needs two-factor of the owner too (the API says 409 otherwise); off is always possible.
  const canTurnOn = isOwner && hasMfa;
  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">Two-factor authentication</h2>
      <p className="mt-1 mb-4 text-sm text-slate-600">
        Owners and admins can invite people, create API keys and change billing. Requiring a code from an authenticator app when
        they log in means a stolen password is not enough to do that.
      </p>
      {!isOwner ? (
        <Alert tone="info" className="mb-4">
          You can see this setting. Changing it needs the permission to {PERMISSION_WORDS["org.owner"]}.
        </Alert>
      ) : !hasMfa && !isRequired ? (
        <Alert
          tone="warning"
          className="mb-4"
          title="Set up two-factor authentication for yourself first"
          actions={
            <ButtonLink href={paths.accountTwoFactor} size="sm" variant="secondary">
              Set it up
            </ButtonLink>
          }
        >
          The requirement applies to you as an owner, so you need it before you can turn it on.
        </Alert>
      ) : null}
      <Switch
        label="Require two-factor authentication for owners and admins"
        description="Owners and admins (and custom roles that may manage members, API keys or billing) without it are asked to set it up before they can use this organization. Other members and API keys are not affected."
        checked={isRequired}
        disabled={isRequired ? !isOwner : !canTurnOn}
        isLoading={update.isPending}
        onChange={(checked) =>
          update.mutate(
            { mfa_required_for_admins: checked },
            {
              onSuccess: () =>
                toast.show(
                  checked
                    ? "Owners and admins now need two-factor authentication here."
                    : "Two-factor authentication is no longer required here.",
                ),
            },
          )
        }
      />
      {update.isError ? (
        isConflict(update.error) ? (
          <Alert tone="warning" className="mt-4" title="Not turned on">
            Set up two-factor authentication for yourself first (on your account page), then turn this on.
          </Alert>
        ) : (
          <AccessError org={org} error={update.error} title="The setting was not changed" className="mt-4" />
        )
      ) : null}
    </Card>
  );
}

/** The org's security settings, under Members: whether owners and admins must use two-factor authentication. */
export function SecurityScreen({ org }: { org: string }) {
  const access = useOrgAccess(org);
  const canRead = access.can("members.read");
  const settings = useSecuritySettings(org);
  let body;
  if (!access.isPending && !canRead) {
    body = <NotAllowed permission="members.read" />;
  } else if (settings.isPending) {
    body = <LoadingState label="Loading the security settings…" />;
  } else if (settings.isError) {
    body = (
      <AccessError
        org={org}
        error={settings.error}
        title="The security settings could not be loaded"
        onRetry={() => void settings.refetch()}
      />
    );
  } else {
    body = <MfaRequirement org={org} isRequired={settings.data.mfa_required_for_admins} />;
  }
  return (
    <>
      <PageHeader title="Security" description="How people must log in to work in this organization." />
      <TeamTabs org={org} current="security" />
      <div className="max-w-3xl">{body}</div>
    </>
  );
}
