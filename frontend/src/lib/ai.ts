/** The org's AI allowance and rules in words: usage, estimates of a request's AI calls, redaction. */
import type { AIEstimate, AIUsage } from "./api/types";
import { planName } from "./errors";
import { formatNumber } from "./format";

/** What is always redacted before the AI reads a task, in plain words, by the API's kind. */
export const REDACTION_WORDS: Record<string, string> = {
  email: "Email addresses",
  phone: "Phone numbers",
  card: "Payment card numbers",
  secret: "Passwords, API keys, tokens and other secrets",
  query: "The part of a link after ? or # (where links often carry tokens and personal data)",
};

/** A redaction kind in words; one this app does not know yet is said as the API names it. */
export function redactionWords(kind: string): string {
  return REDACTION_WORDS[kind] ?? kind;
}

/** The task fields the AI may read, in words (`title and description`). */
export const FIELD_WORDS: Record<string, string> = { title: "title", description: "description" };

export function fieldsWords(fields: readonly string[]): string {
  const words = fields.map((field) => FIELD_WORDS[field] ?? field);
  if (words.length === 0) return "nothing";
  if (words.length === 1) return words[0] ?? "";
  return `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

function calls(count: number): string {
  return `${formatNumber(count)} AI ${count === 1 ? "call" : "calls"}`;
}

export interface UsageSummary {
  /** The share of the allowance used (0–1), or null when unlimited. */
  share: number | null;
  /** `312 of 1,000 AI calls used` or `312 AI calls used`. */
  used: string;
  /** `688 left this month`, `None left this month` or `Unlimited`. */
  left: string;
  plan: string;
  /** The meter turns amber past 80% and red when nothing is left. */
  tone: "normal" | "low" | "out";
}

/** This period's AI calls against the plan's monthly allowance, in words. */
export function usageSummary(usage: AIUsage): UsageSummary {
  const plan = `${planName(usage.plan)} plan`;
  if (usage.limit === null) {
    return { share: null, used: `${calls(usage.calls)} used`, left: "Unlimited", plan, tone: "normal" };
  }
  const share = usage.limit > 0 ? Math.min(1, usage.calls / usage.limit) : 1;
  const remaining = usage.remaining ?? Math.max(0, usage.limit - usage.calls);
  return {
    share,
    used: `${formatNumber(usage.calls)} of ${calls(usage.limit)} used`,
    left: remaining === 0 ? "None left this month" : `${formatNumber(remaining)} left this month`,
    plan,
    tone: remaining === 0 ? "out" : share >= 0.8 ? "low" : "normal",
  };
}

/**
 * What a request that spends AI calls on many tasks would cost, as one sentence:
 * `Re-score 12 tasks: up to 12 AI calls; 988 left this month.`
 */
export function estimateSentence(verb: string, estimate: AIEstimate): string {
  const tasks = `${verb} ${formatNumber(estimate.tasks)} ${estimate.tasks === 1 ? "task" : "tasks"}`;
  const cost = estimate.ai_calls === 0 ? "no AI calls" : `up to ${calls(estimate.ai_calls)}`;
  const { usage } = estimate;
  const left =
    usage.limit === null
      ? `AI calls are unlimited on the ${planName(usage.plan)} plan`
      : `${formatNumber(usage.remaining ?? Math.max(0, usage.limit - usage.calls))} left this month`;
  return `${tasks}: ${cost}; ${left}.`;
}

/** Why an estimate is not covered, and what the person can do. */
export function notCoveredWords(estimate: AIEstimate): string {
  const { usage } = estimate;
  const remaining = usage.remaining ?? 0;
  const limit = usage.limit === null ? "" : ` of the ${planName(usage.plan)} plan's ${formatNumber(usage.limit)} a month`;
  return (
    `This needs up to ${calls(estimate.ai_calls)}, and ${formatNumber(remaining)}${limit} are left. ` +
    "Nothing is spent: try it on fewer tasks, wait for the next period, or move to a larger plan."
  );
}
