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
      case 402:
        if (error.code === "ai-budget-exceeded") {
          return { title: "Not enough AI calls left this month", message: aiBudgetMessage(error), isRetryable: false };
        }
        return {
          title: "Your plan's limit is reached",
          message: detail ?? "Upgrade the plan to do this.",
          isRetryable: false,
        };
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
