import { Alert, ButtonLink } from "@/components/ui";
import type { Org } from "@/lib/api/types";
import { paths } from "@/lib/paths";

/**
 * What an org's pages show an owner or admin without two-factor authentication while the org
 * requires it (the API refuses them there with 403 `mfa-required` until they set it up).
 */
export function TwoFactorRequired({ membership }: { membership: Org }) {
  return (
    <div className="mx-auto max-w-2xl" data-testid="mfa-required">
      <Alert
        tone="warning"
        title="Set up two-factor authentication to continue"
        actions={
          <ButtonLink href={paths.accountTwoFactor} size="sm">
            Set up two-factor authentication
          </ButtonLink>
        }
      >
        <p>
          {membership.name} requires two-factor authentication of its owners and admins, and your role there is {membership.role}.
        </p>
        <p>Set up an authenticator app on your account page (it takes a minute), then come back: everything here is as you left it.</p>
      </Alert>
    </div>
  );
}
