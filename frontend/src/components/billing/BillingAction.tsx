import type { ReactNode } from "react";

import { ButtonLink } from "@/components/ui";
import { describeError } from "@/lib/errors";
import { paths } from "@/lib/paths";

/**
 * A 402's way out — "Upgrade to Pro", "Update the payment method", "See plans" — as a link to the
 * org's billing page; nothing for any other error. The words come from `describeError(…).action`.
 */
export function BillingActionLink({ org, error, size = "sm" }: { org: string; error: unknown; size?: "sm" | "md" }) {
  const action = describeError(error).action;
  if (!action) return null;
  return (
    <ButtonLink href={paths.billing(org)} size={size} data-testid="upgrade-link">
      {action.label}
    </ButtonLink>
  );
}

/** For an `Alert`'s or a form error's `actions`: the billing link of a 402, else undefined (no empty row). */
export function billingActionFor(org: string, error: unknown): ReactNode {
  return describeError(error).action ? <BillingActionLink org={org} error={error} /> : undefined;
}
