import { Badge, Button, cn } from "@/components/ui";
import { isSubscriptionLive, priceWords, upgradeLabel, type Billing, type Plan } from "@/lib/billing";

function Check() {
  return (
    <svg aria-hidden="true" viewBox="0 0 20 20" className="mt-0.5 size-4 shrink-0 text-indigo-600">
      <path fill="currentColor" d="M7.6 13.2 4.4 10l-1.4 1.4 4.6 4.6 9.4-9.4L15.6 5.2z" />
    </svg>
  );
}

export interface PlanActions {
  /** The person may change billing (`billing.manage`): the cards offer Checkout or the portal. */
  canManage: boolean;
  /** The plan whose Checkout is being opened. */
  pendingPlan: string | null;
  /** A redirect to Stripe is on its way: every button waits. */
  isBusy: boolean;
  isOpeningPortal: boolean;
  onCheckout: (plan: Plan) => void;
  onPortal: () => void;
}

/** What a plan's card offers this org: start Checkout (a trial when it gets one), or change the live subscription in the portal. */
function PlanAction({ plan, billing, actions }: { plan: Plan; billing: Billing; actions: PlanActions }) {
  const isCurrent = plan.code === billing.plan.code;
  if (isCurrent || !actions.canManage) return null;
  const isUpgrade = billing.upgrades.some((upgrade) => upgrade.code === plan.code);
  if (isUpgrade && billing.can_checkout) {
    return (
      <Button
        className="w-full"
        onClick={() => actions.onCheckout(plan)}
        isLoading={actions.pendingPlan === plan.code}
        disabled={actions.isBusy}
      >
        {upgradeLabel(plan)}
      </Button>
    );
  }
  if (isSubscriptionLive(billing)) {
    return (
      <Button variant="secondary" className="w-full" onClick={actions.onPortal} isLoading={actions.isOpeningPortal} disabled={actions.isBusy}>
        {isUpgrade ? `Upgrade to ${plan.name} in the portal` : plan.price.amount === 0 ? "Cancel in the portal" : "Change in the portal"}
      </Button>
    );
  }
  return null;
}

/** Every plan with its price and what it includes; the current one marked, the others with what this person may do. */
export function PlanCards({ billing, actions }: { billing: Billing; actions: PlanActions }) {
  return (
    <ul className="grid grid-cols-1 gap-4 md:grid-cols-3">
      {billing.plans.map((plan) => {
        const isCurrent = plan.code === billing.plan.code;
        return (
          <li
            key={plan.code}
            data-testid="plan-card"
            data-plan={plan.code}
            aria-current={isCurrent ? "true" : undefined}
            className={cn(
              "flex flex-col rounded-xl border bg-white p-5 shadow-sm",
              isCurrent ? "border-indigo-300 ring-1 ring-indigo-300" : "border-slate-200",
            )}
          >
            <div className="flex items-center justify-between gap-2">
              <h3 className="text-base font-semibold text-slate-900">{plan.name}</h3>
              {isCurrent ? <Badge tone="accent">Current plan</Badge> : null}
            </div>
            <p className="mt-2 text-2xl font-semibold tracking-tight text-slate-900 tabular-nums">{priceWords(plan.price)}</p>
            {plan.trial_days > 0 && !isCurrent ? (
              <p className="mt-1 text-sm text-indigo-800">Starts with a {plan.trial_days}-day free trial.</p>
            ) : null}
            <ul className="mt-4 mb-5 flex-1 space-y-2 text-sm text-slate-700">
              {plan.features.map((feature) => (
                <li key={feature} className="flex gap-2">
                  <Check />
                  <span>{feature}</span>
                </li>
              ))}
            </ul>
            <PlanAction plan={plan} billing={billing} actions={actions} />
          </li>
        );
      })}
    </ul>
  );
}
