/** The org's plan, subscription, usage and invoices in words: what the billing page says. */
import { ApiProblem } from "./api/problem";
import type { components } from "./api/schema";
import { describeError, FEATURE_WORDS } from "./errors";
import { formatNumber } from "./format";
import { nextPollDelay, POLL_MIN_MS } from "./tasks";

export type Billing = components["schemas"]["BillingOut"];
export type Plan = components["schemas"]["PlanOut"];
export type Price = components["schemas"]["PriceOut"];
export type Invoice = components["schemas"]["InvoiceOut"];
export type Feature = components["schemas"]["Feature"];
export type SubscriptionStatus = Billing["status"];
export type PlanSource = Billing["plan_source"];

/** Every paid feature, in the order the plans add them. */
export const FEATURES: readonly Feature[] = ["api_keys", "custom_roles", "audit_log"];

/** A feature's name as a person reads it (`api_keys` → `API keys`). */
export function featureName(feature: Feature): string {
  return FEATURE_WORDS[feature]?.name ?? feature;
}

/** `API keys need the Pro plan`, `The audit log needs the Business plan`. */
export function featureNeedsWords(feature: Feature, planName: string | undefined): string {
  const words = FEATURE_WORDS[feature];
  const plan = planName ? `the ${planName} plan` : "a paid plan";
  return `${words?.name ?? feature} ${words?.isPlural ? "need" : "needs"} ${plan}`;
}

type BadgeTone = "neutral" | "info" | "success" | "warning" | "danger" | "accent";

/** Each subscription status as a badge; the compiler checks that every status is here. */
export const STATUS_WORDS: Record<SubscriptionStatus, { label: string; tone: BadgeTone }> = {
  none: { label: "No subscription", tone: "neutral" },
  incomplete: { label: "Payment incomplete", tone: "warning" },
  incomplete_expired: { label: "Checkout expired", tone: "neutral" },
  trialing: { label: "Trial", tone: "info" },
  active: { label: "Active", tone: "success" },
  past_due: { label: "Payment overdue", tone: "danger" },
  unpaid: { label: "Unpaid", tone: "danger" },
  canceled: { label: "Canceled", tone: "neutral" },
  paused: { label: "Paused", tone: "warning" },
};

/** The statuses that keep a subscription's plan (Checkout is then closed; changes go through the portal). */
const LIVE_STATUSES: ReadonlySet<SubscriptionStatus> = new Set(["trialing", "active", "past_due"]);

export function isSubscriptionLive(billing: Pick<Billing, "status">): boolean {
  return LIVE_STATUSES.has(billing.status);
}

/** Where the plan in force comes from, in one sentence. */
export const PLAN_SOURCE_WORDS: Record<PlanSource, string> = {
  free: "No subscription: the Free plan.",
  subscription: "Through this organization's subscription, billed by Stripe.",
  grant: "Given to this organization by Taskscore: it is not billed.",
};

/** Stripe's invoice statuses as badges; a status this app does not know yet is shown as Stripe names it. */
const INVOICE_STATUS_WORDS: Record<string, { label: string; tone: BadgeTone }> = {
  draft: { label: "Draft", tone: "neutral" },
  open: { label: "Open", tone: "warning" },
  paid: { label: "Paid", tone: "success" },
  uncollectible: { label: "Uncollectible", tone: "danger" },
  void: { label: "Void", tone: "neutral" },
};

export function invoiceStatusWords(status: string): { label: string; tone: BadgeTone } {
  return INVOICE_STATUS_WORDS[status] ?? { label: status, tone: "neutral" };
}

/**
 * An amount in the currency's minor units (Stripe's cents) as money: `$29`, `$0.02`, `$12.50`.
 * Whole amounts drop the decimals; a currency without minor units (JPY) is not divided.
 */
export function formatMoney(amount: number, currency: string): string {
  const code = currency.toUpperCase();
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat("en", { style: "currency", currency: code });
  } catch {
    return `${formatNumber(amount / 100)} ${code}`;
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const value = amount / 10 ** digits;
  if (Number.isInteger(value)) {
    return new Intl.NumberFormat("en", { style: "currency", currency: code, minimumFractionDigits: 0, maximumFractionDigits: 0 }).format(value);
  }
  return format.format(value);
}

/** A plan's price: `$0 a month`, `$29 a month`, `$0.02 per task`. */
export function priceWords(price: Price): string {
  return `${formatMoney(price.amount, price.currency)} ${price.per === "task" ? "per task" : "a month"}`;
}

function plural(count: number, noun: string): string {
  return `${formatNumber(count)} ${noun}${count === 1 ? "" : "s"}`;
}

export interface AllowanceSummary {
  /** `37 of 100 tasks used`, or `37 tasks used` when unlimited. */
  used: string;
  /** `63 left this period`, `None left this period` or how an unlimited allowance works. */
  left: string;
  /** Amber past 80%, red when nothing is left. */
  tone: "normal" | "low" | "out";
  /** Whether there is a limit to draw a bar against. */
  hasLimit: boolean;
}

/** Something used this period against a limit (null: unlimited), in words. */
export function allowanceSummary(used: number, limit: number | null, noun: string, unlimited = "Unlimited"): AllowanceSummary {
  if (limit === null) return { used: `${plural(used, noun)} used`, left: unlimited, tone: "normal", hasLimit: false };
  const remaining = Math.max(0, limit - used);
  const share = limit > 0 ? used / limit : 1;
  return {
    used: `${formatNumber(used)} of ${plural(limit, noun)} used`,
    left: remaining === 0 ? "None left this period" : `${formatNumber(remaining)} left this period`,
    tone: remaining === 0 ? "out" : share >= 0.8 ? "low" : "normal",
    hasLimit: true,
  };
}

/** This period's tasks against the plan's quota; a metered plan says what the period costs so far. */
export function taskAllowance(billing: Pick<Billing, "used" | "quota" | "plan">): AllowanceSummary {
  const { plan } = billing;
  if (billing.quota === null && plan.is_metered) {
    const cost = formatMoney(billing.used * plan.price.amount, plan.price.currency);
    return allowanceSummary(billing.used, null, "task", `Unlimited, billed per task: ${cost} so far`);
  }
  return allowanceSummary(billing.used, billing.quota, "task");
}

/** This period's AI calls against the plan's allowance (a cached answer is not a call). */
export function aiAllowance(billing: Pick<Billing, "ai">): AllowanceSummary {
  return allowanceSummary(billing.ai.calls, billing.ai.limit, "AI call");
}

/** The cheapest plan that includes `feature` (plans come cheapest first). */
export function cheapestPlanWith(plans: readonly Plan[], feature: Feature): Plan | undefined {
  return plans.find((plan) => plan.entitlements.includes(feature));
}

/** What an upgrade button says: a trial when this org gets one for the plan, else the upgrade. */
export function upgradeLabel(plan: Pick<Plan, "name" | "trial_days">): string {
  return plan.trial_days > 0 ? `Start a ${plan.trial_days}-day trial` : `Upgrade to ${plan.name}`;
}

/** How Checkout sent the person back (`?checkout=success` or `?checkout=canceled`), if it did. */
export type CheckoutReturn = "success" | "canceled";

export function checkoutReturnOf(value: string | string[] | null | undefined): CheckoutReturn | null {
  return value === "success" || value === "canceled" ? value : null;
}

/** How long the page waits for Stripe's webhook after Checkout before it says the payment is late. */
export const CONFIRM_TIMEOUT_MS = 30_000;

/**
 * The polling delay while the page waits for Stripe's webhook after Checkout, from how many answers
 * it has had: 1 s, then a little longer each time (1.6 s, 2.6 s, … up to 10 s), so about seven
 * requests in half a minute. A function of the count, not of calls, since the query asks it on
 * every render.
 */
export function confirmationDelay(answers: number): number {
  let delay = POLL_MIN_MS;
  for (let step = 1; step < answers; step += 1) delay = nextPollDelay(delay, false);
  return delay;
}

/** A refusal of Checkout or the portal in words: Stripe's outages said as such, the rest as anywhere. */
export function stripeErrorWords(error: unknown): { title: string; message: string } {
  if (error instanceof ApiProblem) {
    if (error.code === "stripe-unavailable" || (error.status === 503 && error.code !== "permission-cache-unavailable")) {
      return {
        title: "Stripe could not be reached",
        message: "Our payment provider did not answer. Nothing was charged and nothing changed: try again in a few minutes.",
      };
    }
    if (error.code === "stripe-refused" || error.status === 502) {
      return {
        title: "Stripe refused the request",
        message: "Our payment provider answered with an error. Nothing was charged and nothing changed: try again later, or tell us if it keeps happening.",
      };
    }
  }
  const description = describeError(error);
  return { title: description.title, message: description.message };
}

/** The paid features the org has and lacks, each lacking one with the plan that adds it. */
export function featureList(billing: Pick<Billing, "entitlements" | "plans">): { feature: Feature; name: string; included: boolean; plan: string | undefined }[] {
  return FEATURES.map((feature) => ({
    feature,
    name: featureName(feature),
    included: billing.entitlements.includes(feature),
    plan: cheapestPlanWith(billing.plans, feature)?.name,
  }));
}

/** Whether a URL the API answered (Checkout, the portal) is a web page the browser may be sent to. */
export function isWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}

/** Leaves the app for Stripe's page (Checkout, the portal); a seam that tests replace. */
export const stripeNavigation = {
  go(url: string): void {
    window.location.assign(url);
  },
};
