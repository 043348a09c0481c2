import type { ReactNode } from "react";

import { Alert, DateTime } from "@/components/ui";
import { isSubscriptionLive, type Billing, type SubscriptionStatus } from "@/lib/billing";

/** The portal's button with the banner's words, or (without `billing.manage`) whom to ask. */
export type PortalAction = (label: string) => ReactNode;

function days(count: number): string {
  return `${count} ${count === 1 ? "day" : "days"}`;
}

function PastDue({ billing, portal }: { billing: Billing; portal: PortalAction }) {
  const plan = billing.subscribed_plan.name;
  const daysLeft = billing.grace_days_left ?? 0;
  const isOver = daysLeft === 0;
  return (
    <Alert
      tone={isOver ? "error" : "warning"}
      title={isOver ? "A payment is overdue: new tasks are refused" : `The latest payment failed: ${days(daysLeft)} left to update your card`}
      actions={portal("Update your card")}
    >
      <p data-testid="billing-banner" data-kind="past_due">
        Stripe could not charge the card for the {plan} plan.{" "}
        {isOver ? (
          <>New tasks are refused until the open invoice is paid; everything else keeps working.</>
        ) : billing.grace_ends_at ? (
          <>
            The plan stays in force until <DateTime iso={billing.grace_ends_at} />; after that, new tasks are refused until the
            invoice is paid.
          </>
        ) : (
          <>Update the card before the grace period ends, or new tasks are refused.</>
        )}
      </p>
    </Alert>
  );
}

/** What each subscription status needs said above the page; the compiler checks that every status is decided. */
const STATUS_BANNERS: Record<SubscriptionStatus, ((billing: Billing, portal: PortalAction) => ReactNode) | null> = {
  none: null,
  trialing: null,
  active: null,
  incomplete_expired: null,
  past_due: (billing, portal) => <PastDue billing={billing} portal={portal} />,
  unpaid: (billing, portal) => (
    <Alert tone="error" title="The subscription is unpaid" actions={portal("Pay in the portal")}>
      <p data-testid="billing-banner" data-kind="unpaid">
        Stripe stopped retrying the payment for the {billing.subscribed_plan.name} plan: the organization is on the {billing.plan.name}{" "}
        plan until the open invoice is paid.
      </p>
    </Alert>
  ),
  canceled: (billing) => (
    <Alert tone="info" title="The subscription has ended">
      <p data-testid="billing-banner" data-kind="canceled">
        The {billing.subscribed_plan.name} subscription was canceled; the organization is on the {billing.plan.name} plan. Its data
        stays, and a paid plan can be started again at any time.
      </p>
    </Alert>
  ),
  paused: (billing, portal) => (
    <Alert tone="warning" title="The subscription is paused" actions={portal("Open the portal")}>
      <p data-testid="billing-banner" data-kind="paused">
        While it is paused the organization is on the {billing.plan.name} plan. Resume it in the portal.
      </p>
    </Alert>
  ),
  incomplete: (_billing, portal) => (
    <Alert tone="warning" title="The first payment is not complete" actions={portal("Open the portal")}>
      <p data-testid="billing-banner" data-kind="incomplete">
        Stripe is waiting for the first payment (perhaps a confirmation the bank asked for). The plan starts once it is paid.
      </p>
    </Alert>
  ),
};

/** The subscription's state when it needs the person's attention: a failed payment, a cancellation, an end. */
export function StatusBanner({ billing, portal }: { billing: Billing; portal: PortalAction }) {
  const banner = STATUS_BANNERS[billing.status]?.(billing, portal) ?? null;
  const isEnding = isSubscriptionLive(billing) && billing.cancel_at_period_end && billing.status !== "past_due";
  return (
    <>
      {banner}
      {isEnding ? (
        <Alert tone="warning" title={`The ${billing.subscribed_plan.name} plan ends at the end of this period`} actions={portal("Keep the subscription")}>
          <p data-testid="billing-banner" data-kind="cancel_at_period_end">
            The subscription was canceled and does not renew
            {billing.current_period_end ? (
              <>
                {" "}
                after <DateTime iso={billing.current_period_end} />
              </>
            ) : null}
            . Then the organization moves to the Free plan; its data stays.
          </p>
        </Alert>
      ) : null}
    </>
  );
}
