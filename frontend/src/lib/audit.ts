/**
 * The audit log in words: each event as "who did what to what", how they acted (a browser session,
 * an API key, the system), and the filters of the log's page as the URL says them.
 */
import { SCHEMA_LIMITS } from "./api/limits";
import type { AuditActorKind, AuditEvent, AuditListParams } from "./api/types";
import { planName } from "./errors";
import { formatScore } from "./format";
import type { AuditFilters } from "./queries/keys";

export const ACTOR_MAX = SCHEMA_LIMITS.AuditQuery.actor.maxLength;
const ACTION_PATTERN = new RegExp(SCHEMA_LIMITS.AuditQuery.action.pattern);
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** The actions the app records, grouped as the filter lists them. Others (newer ones) still show. */
export const AUDIT_ACTION_GROUPS: readonly { label: string; actions: Readonly<Record<string, string>> }[] = [
  {
    label: "Members and invitations",
    actions: {
      "invitation.created": "Invitation sent",
      "invitation.revoked": "Invitation revoked",
      "invitation.accepted": "Invitation accepted",
      "invitation.declined": "Invitation declined",
      "member.role_changed": "Member's role changed",
      "member.removed": "Member removed",
    },
  },
  {
    label: "Roles",
    actions: {
      "role.created": "Custom role created",
      "role.updated": "Custom role changed",
      "role.deleted": "Custom role deleted",
    },
  },
  {
    label: "API keys",
    actions: {
      "api_key.created": "API key created",
      "api_key.revoked": "API key revoked",
    },
  },
  {
    label: "Scores and AI",
    actions: {
      "score.overridden": "Score overridden",
      "score.override_cleared": "Override cleared",
      "calibration.labels_imported": "Calibration ratings imported",
      "org.ai_rules_changed": "AI rules changed",
    },
  },
  {
    label: "Organization and billing",
    actions: {
      "org.created": "Organization created",
      "org.export_requested": "Data export started",
      "org.export_downloaded": "Data export downloaded",
      "billing.customer_created": "Billing account created",
      "billing.plan_granted": "Plan granted",
      "billing.subscription_changed": "Subscription changed",
      "billing.payment_failed": "Payment failed",
    },
  },
];

/** A short label of any action (the filter's words, or the action's own words for a newer one). */
export function actionLabel(action: string): string {
  for (const group of AUDIT_ACTION_GROUPS) {
    const label = group.actions[action];
    if (label !== undefined) return label;
  }
  const words = action.replace(/[._]/g, " ");
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}`;
}

// ---------------------------------------------------------------------------------- filters

function isDay(value: string | null): value is string {
  return value !== null && DAY_PATTERN.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00`));
}

/** The filters the URL holds (anything malformed is left out). */
export function auditFiltersFromParams(params: URLSearchParams): AuditFilters {
  const action = params.get("action");
  const actor = params.get("actor")?.trim();
  const from = params.get("from");
  const to = params.get("to");
  return {
    ...(action && ACTION_PATTERN.test(action) ? { action } : {}),
    ...(actor ? { actor: actor.slice(0, ACTOR_MAX) } : {}),
    ...(isDay(from) ? { from } : {}),
    ...(isDay(to) ? { to } : {}),
  };
}

/** The URL's query string of a view of the log (empty filters left out). */
export function paramsFromAuditFilters(filters: AuditFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.action) params.set("action", filters.action);
  const actor = filters.actor?.trim();
  if (actor) params.set("actor", actor);
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  return params;
}

export function isFiltered(filters: AuditFilters): boolean {
  return Boolean(filters.action || filters.actor || filters.from || filters.to);
}

/** Midnight starting `day` (`YYYY-MM-DD`) in the reader's time zone, as an instant. */
function startOfDay(day: string): Date {
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  return new Date(year, month - 1, date);
}

/**
 * The API's query for the filters: whole days in the reader's time zone, `to` included (the API's
 * `until` is exclusive, so it is the midnight after it).
 */
export function auditQueryOf(filters: AuditFilters): Omit<AuditListParams, "limit" | "cursor"> {
  const query: Omit<AuditListParams, "limit" | "cursor"> = {};
  if (filters.action) query.action = filters.action;
  if (filters.actor) query.actor = filters.actor;
  if (filters.from) query.since = startOfDay(filters.from).toISOString();
  if (filters.to) {
    const end = startOfDay(filters.to);
    end.setDate(end.getDate() + 1);
    query.until = end.toISOString();
  }
  return query;
}

/** Why the date range cannot be used, or null. */
export function dateRangeError(filters: AuditFilters): string | null {
  if (filters.from && filters.to && filters.from > filters.to) return "The first day comes after the last one.";
  return null;
}

// ---------------------------------------------------------------------------------- events

type Snapshot = Record<string, unknown> | null;

function text(snapshot: Snapshot, key: string): string | undefined {
  const value = snapshot?.[key];
  return typeof value === "string" && value !== "" ? value : typeof value === "number" ? String(value) : undefined;
}

function list(snapshot: Snapshot, key: string): string[] {
  const value = snapshot?.[key];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** How an event's role keys are named (the org's roles; a deleted role keeps its key). */
export type RoleNamer = (key: string) => string;

const AI_RULE_WORDS: Record<string, string> = {
  enabled: "AI rating",
  send_title: "sending the title",
  send_description: "sending the description",
};

function permissionCount(count: number): string {
  return `${count} ${count === 1 ? "permission" : "permissions"}`;
}

function roleChangeWords(before: Snapshot, after: Snapshot): string {
  const changes: string[] = [];
  const oldName = text(before, "name");
  const newName = text(after, "name");
  if (oldName && newName && oldName !== newName) changes.push(`renamed it ${newName}`);
  const had = new Set(list(before, "permissions"));
  const has = new Set(list(after, "permissions"));
  const added = [...has].filter((permission) => !had.has(permission));
  const removed = [...had].filter((permission) => !has.has(permission));
  if (added.length > 0) changes.push(`added ${added.join(", ")}`);
  if (removed.length > 0) changes.push(`removed ${removed.join(", ")}`);
  return changes.length > 0 ? `: ${changes.join("; ")}` : "";
}

function overrideTarget(snapshot: Snapshot): string {
  const criterion = text(snapshot, "criterion");
  return criterion ? `the criterion ${criterion} of a task` : "the score of a task";
}

function overrideValue(value: unknown): string {
  return typeof value === "number" ? formatScore(value) : "—";
}

/** What an event did, as the rest of a sentence that starts with who did it ("invited …"). */
export function auditWhat(event: Pick<AuditEvent, "action" | "before" | "after" | "target_id">, roleName: RoleNamer): string {
  const { before, after } = event;
  const role = (snapshot: Snapshot) => {
    const key = text(snapshot, "role");
    return key ? roleName(key) : "a role";
  };
  switch (event.action) {
    case "invitation.created":
      return `invited ${text(after, "email") ?? "someone"} as ${role(after)}`;
    case "invitation.revoked":
      return `revoked the invitation of ${text(before, "email") ?? "someone"}`;
    case "invitation.accepted":
      return `accepted the invitation and joined as ${role(after)}`;
    case "invitation.declined":
      return `declined the invitation to join as ${role(before)}`;
    case "member.role_changed":
      return `changed the role of ${text(after, "email") ?? text(before, "email") ?? "a member"} from ${role(before)} to ${role(after)}`;
    case "member.removed":
      return `removed ${text(before, "email") ?? "a member"} (${role(before)}) from the organization`;
    case "role.created":
      return `created the custom role ${text(after, "name") ?? event.target_id} with ${permissionCount(list(after, "permissions").length)}`;
    case "role.updated":
      return `changed the custom role ${text(after, "name") ?? event.target_id}${roleChangeWords(before, after)}`;
    case "role.deleted":
      return `deleted the custom role ${text(before, "name") ?? event.target_id}`;
    case "api_key.created": {
      const prefix = text(after, "prefix");
      return `created the API key “${text(after, "name") ?? "API key"}”${prefix ? ` (ts_${prefix}…)` : ""} with the role ${role(after)}`;
    }
    case "api_key.revoked": {
      const prefix = text(before, "prefix");
      return `revoked the API key ${prefix ? `ts_${prefix}…` : event.target_id} (${role(before)})`;
    }
    case "org.created":
      return "created the organization";
    case "org.export_requested":
      return "started an export of all of the organization's data";
    case "org.export_downloaded":
      return "downloaded an export of all of the organization's data";
    case "org.ai_rules_changed": {
      const changes = Object.keys(AI_RULE_WORDS)
        .filter((key) => before?.[key] !== after?.[key] && typeof after?.[key] === "boolean")
        .map((key) => `${AI_RULE_WORDS[key]} ${after?.[key] ? "on" : "off"}`);
      return `changed the AI rules${changes.length > 0 ? `: ${changes.join(", ")}` : ""}`;
    }
    case "score.overridden": {
      const reason = text(after, "reason");
      return `overrode ${overrideTarget(after)}: ${overrideValue(before?.machine_value)} → ${overrideValue(after?.value)}${reason ? ` (“${reason}”)` : ""}`;
    }
    case "score.override_cleared":
      return `cleared the override of ${overrideTarget(before)} (${overrideValue(before?.value)})`;
    case "calibration.labels_imported": {
      const rows = after?.rows;
      return `imported ${typeof rows === "number" ? rows : "some"} calibration ratings`;
    }
    case "billing.customer_created":
      return "created the organization's billing account";
    case "billing.subscription_changed":
      return `changed the subscription from ${(text(before, "status") ?? "none").replace("_", " ")} to ${(text(after, "status") ?? "none").replace("_", " ")}`;
    case "billing.payment_failed":
      return "recorded a failed payment";
    case "billing.plan_granted": {
      const granted = text(after, "granted_plan");
      return granted ? `granted the ${planName(granted)} plan` : "took back the granted plan";
    }
    default:
      return `${actionLabel(event.action).toLowerCase()} (${event.target_id})`;
  }
}

/** Who acted, in words: a member's email, an API key by name and prefix, or the system. */
export function auditWho(event: Pick<AuditEvent, "actor" | "actor_kind" | "actor_api_key_name">): string {
  const kind: AuditActorKind = event.actor_kind;
  switch (kind) {
    case "user":
      return event.actor;
    case "api_key": {
      const prefix = event.actor.replace(/^API key /, "");
      return event.actor_api_key_name ? `API key “${event.actor_api_key_name}” (${prefix}…)` : `${event.actor}…`;
    }
    case "system":
      return event.actor === "system" ? "The system" : event.actor;
  }
}

/** How they acted: the channel each kind of actor uses. */
export const ACTOR_KIND_WORDS: Record<AuditActorKind, string> = {
  user: "in a browser session",
  api_key: "with an API key",
  system: "by the system (an operator's command or Stripe)",
};

/** The whole event as one sentence: who did what. */
export function auditSentence(event: AuditEvent, roleName: RoleNamer): string {
  return `${auditWho(event)} ${auditWhat(event, roleName)}.`;
}
