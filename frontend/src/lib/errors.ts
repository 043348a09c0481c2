import { AllauthError } from "./api/allauth";
import { ApiProblem } from "./api/problem";

/** An error said in words a person understands, and what they can do about it. */
export interface ErrorDescription {
  title: string;
  message: string;
  /** Asking again may work (network, 5xx, 429 after the wait). */
  isRetryable: boolean;
  /** Seconds to wait before retrying (a 429's Retry-After). */
  retryAfterSeconds?: number | undefined;
  /** A 402's way out, on the billing page (`BillingActionLink` renders it). */
  action?: BillingAction | undefined;
}

/** What a refusal offers on the billing page: its button's words. */
export interface BillingAction {
  label: string;
}

/** What each permission lets a person do, for "you need …" messages. */
export const PERMISSION_WORDS: Record<string, string> = {
  "task.read": "see tasks",
  "task.create": "submit tasks",
  "task.rescore": "re-score tasks",
  "score.review": "review and override scores",
  "scoring.manage": "change the scoring model",
  "members.read": "see members",
  "members.manage": "manage members",
  "apikeys.read": "see API keys",
  "apikeys.manage": "manage API keys",
  "billing.read": "see billing",
  "billing.manage": "change billing",
  "audit.read": "read the audit log",
  "org.owner": "act as an owner",
};

/** A plan's code as its name (`free` → `Free`). */
export function planName(code: string): string {
  return code === "" ? code : `${code.charAt(0).toUpperCase()}${code.slice(1)}`;
}

/** The paid features a plan may include (the API's `feature` of a 402), as a person reads them. */
export const FEATURE_WORDS: Record<string, { name: string; isPlural: boolean }> = {
  api_keys: { name: "API keys", isPlural: true },
  custom_roles: { name: "Custom roles", isPlural: true },
  audit_log: { name: "The audit log", isPlural: false },
};

/** A 402 for a paid feature: what is refused, and the plan that includes it. */
function planFeatureWords(error: ApiProblem): { title: string; message: string } {
  if (!error.requiredPlan) return { title: "Not in your plan", message: error.detail ?? "Upgrade the plan to do this." };
  const feature = error.feature ? FEATURE_WORDS[error.feature] : undefined;
  const name = feature?.name ?? "This";
  const isPlural = feature?.isPlural ?? false;
  const required = planName(error.requiredPlan);
  const current = error.plan ? ` This organization is on the ${planName(error.plan)} plan.` : "";
  return {
    title: `${name} ${isPlural ? "need" : "needs"} the ${required} plan`,
    message: `${name} ${isPlural ? "come" : "comes"} with the ${required} plan.${current} Upgrade to use ${isPlural ? "them" : "it"}.`,
  };
}

/**
 * What a person can do on the billing page about a 402: upgrade (a paid feature, a quota) or pay
 * (an overdue payment). Null for other errors and for the AI budget (it renews each month).
 */
export function billingActionOf(error: unknown): BillingAction | null {
  if (!(error instanceof ApiProblem) || error.status !== 402 || error.code === "ai-budget-exceeded") return null;
  if (error.code === "payment-overdue") return { label: "Update the payment method" };
  return { label: error.requiredPlan ? `Upgrade to ${planName(error.requiredPlan)}` : "Upgrade" };
}

function count(value: number): string {
  return new Intl.NumberFormat("en").format(value);
}

/** A 402 `/problems/ai-budget-exceeded`: what the request needs and what the month has left. */
function aiBudgetMessage(error: ApiProblem): string {
  const { needed, used, limit, plan } = error;
  if (needed === undefined || used === undefined || limit === undefined) {
    return error.detail ?? "This month's AI calls do not cover this. Try fewer tasks, or wait for the next period.";
  }
  const left = Math.max(0, limit - used);
  const planWords = plan ? `the ${planName(plan)} plan's ${count(limit)}` : `the ${count(limit)}`;
  return (
    `This needs up to ${count(needed)} AI ${needed === 1 ? "call" : "calls"}, and ${count(left)} of ${planWords} ` +
    "AI calls a month are left. Try it on fewer tasks, wait for the next period, or move to a larger plan."
  );
}

function waitWords(seconds: number): string {
  if (seconds <= 1) return "a second";
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/** Turns anything thrown by the API client into words for a person. */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof ApiProblem) {
    const detail = error.detail;
    switch (error.status) {
      case 401:
        return { title: "You are logged out", message: "Log in again to continue.", isRetryable: false };
      case 402: {
        // The AI budget renews each month, so its way out is to compare plans, not to pay.
        const action = billingActionOf(error) ?? { label: "See plans" };
        if (error.code === "ai-budget-exceeded") {
          return { title: "Not enough AI calls left this month", message: aiBudgetMessage(error), isRetryable: false, action };
        }
        if (error.requiredPlan !== undefined || error.feature !== undefined) {
          return { ...planFeatureWords(error), isRetryable: false, action };
        }
        if (error.code === "payment-overdue") {
          return {
            title: "A payment is overdue",
            message: detail ?? "New tasks are refused until the overdue invoice is paid: update the payment method.",
            isRetryable: false,
            action,
          };
        }
        return {
          title: "Your plan's limit is reached",
          message: detail ? `${detail} Upgrade for more, or wait for the next period.` : "Upgrade the plan to do this.",
          isRetryable: false,
          action,
        };
      }
      case 403: {
        const action = error.permission ? PERMISSION_WORDS[error.permission] : undefined;
        return {
          title: "Not allowed",
          message:
            detail && error.code !== "permission-denied"
              ? detail
              : action
                ? `Your role does not let you ${action}. Ask an owner or admin of this organization.`
                : (detail ?? "Your role does not allow this."),
          isRetryable: false,
        };
      }
      case 404:
        return { title: "Not found", message: detail ?? "It does not exist, or it was removed.", isRetryable: false };
      case 409:
        return { title: "That clashes with something", message: detail ?? "Reload and try again.", isRetryable: false };
      case 422:
        return {
          title: "Some input needs fixing",
          message: detail ?? "Please correct the highlighted fields.",
          isRetryable: false,
        };
      case 429: {
        const wait = error.retryAfterSeconds;
        return {
          title: "Too many requests",
          message: wait !== undefined ? `Please wait ${waitWords(wait)} and try again.` : "Please wait a moment and try again.",
          isRetryable: true,
          retryAfterSeconds: wait,
        };
      }
      default:
        if (error.status >= 500) {
          return {
            title: "Something went wrong on our side",
            message: "It is not your fault. Try again in a moment; if it keeps happening, tell us.",
            isRetryable: true,
            retryAfterSeconds: error.retryAfterSeconds,
          };
        }
        return { title: error.title, message: detail ?? "The request was refused.", isRetryable: false };
    }
  }
  if (error instanceof AllauthError) {
    if (error.status === 429) {
      return { title: "Too many attempts", message: "Please wait a moment and try again.", isRetryable: true };
    }
    return {
      title: error.status >= 500 ? "Something went wrong on our side" : "That did not work",
      message: error.messages.join(" "),
      isRetryable: error.status >= 500,
    };
  }
  return {
    title: "Could not reach Taskscore",
    message: "Check your connection and try again.",
    isRetryable: true,
  };
}
