import { Badge, Card, cn, DateTime } from "@/components/ui";
import { featureList, isSubscriptionLive, PLAN_SOURCE_WORDS, priceWords, STATUS_WORDS, type Billing } from "@/lib/billing";

/** When the subscription's period (or trial) ends, and what happens then. */
function PeriodLine({ billing }: { billing: Billing }) {
  if (billing.status === "trialing" && billing.trial_end) {
    return (
      <p data-testid="billing-trial-end">
        The free trial ends on <DateTime iso={billing.trial_end} className="font-medium text-slate-900" />
        {billing.cancel_at_period_end ? "; the subscription ends with it." : `; then ${priceWords(billing.subscribed_plan.price)}.`}
      </p>
    );
  }
  if (!isSubscriptionLive(billing) || !billing.current_period_end) return null;
  return (
    <p data-testid="billing-period-end">
      {billing.cancel_at_period_end ? "Ends on " : billing.status === "past_due" ? "The current period ends on " : "Renews on "}
      <DateTime iso={billing.current_period_end} className="font-medium text-slate-900" />.
    </p>
  );
}

/** The plan in force, where it comes from, its status and period, and which paid features it includes. */
export function CurrentPlanCard({ billing }: { billing: Billing }) {
  const status = STATUS_WORDS[billing.status];
  const isGrantOverSubscription = billing.plan_source === "grant" && billing.status !== "none";
  return (
    <Card>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h2 className="text-sm font-medium text-slate-600">Current plan</h2>
          <p className="mt-1 text-2xl font-semibold tracking-tight text-slate-900" data-testid="billing-plan">
            {billing.plan.name}
          </p>
        </div>
        {billing.status !== "none" ? (
          <span data-testid="billing-status" data-status={billing.status}>
            <Badge tone={status.tone}>{status.label}</Badge>
          </span>
        ) : null}
      </div>
      <div className="mt-2 space-y-1 text-sm text-slate-700">
        <p className="font-medium text-slate-900 tabular-nums">{priceWords(billing.plan.price)}</p>
        <p data-testid="billing-plan-source">{PLAN_SOURCE_WORDS[billing.plan_source]}</p>
        {isGrantOverSubscription ? (
          <p>
            The subscription itself is on the {billing.subscribed_plan.name} plan ({status.label.toLowerCase()}).
          </p>
        ) : null}
        <PeriodLine billing={billing} />
      </div>
      <h3 className="mt-5 text-sm font-semibold text-slate-900">Paid features</h3>
      <ul className="mt-2 space-y-1.5 text-sm" data-testid="billing-features">
        {featureList(billing).map((item) => (
          <li key={item.feature} className="flex items-start gap-2" data-included={item.included}>
            <span
              aria-hidden="true"
              className={cn(
                "mt-0.5 inline-flex size-4 shrink-0 items-center justify-center rounded-full text-[0.65rem] font-bold",
                item.included ? "bg-emerald-100 text-emerald-800" : "bg-slate-100 text-slate-500",
              )}
            >
              {item.included ? "✓" : "–"}
            </span>
            <span className={item.included ? "text-slate-900" : "text-slate-600"}>
              {item.name}
              <span className="sr-only">{item.included ? ": included" : ": not included"}</span>
              {!item.included && item.plan ? <span className="text-slate-600"> — with {item.plan}</span> : null}
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
