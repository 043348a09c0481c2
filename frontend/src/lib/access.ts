/** Who may do what in an org, for the team pages: roles, permissions grouped by area, grants. */
import { SCHEMA_LIMITS } from "./api/limits";
import type { Permission, Role } from "./api/types";
import { PERMISSION_WORDS } from "./errors";

export const INVITE_EMAIL_MAX = SCHEMA_LIMITS.InvitationIn.email.maxLength;
// The API's own pattern for an invited address, so the form refuses what the API would.
const INVITE_EMAIL_PATTERN = new RegExp(SCHEMA_LIMITS.InvitationIn.email.pattern);
export const KEY_NAME_MAX = SCHEMA_LIMITS.ApiKeyIn.name.maxLength;
/** The longest a key may be made to last, in days (the API's bound). */
export const KEY_LIFETIME_MAX_DAYS = SCHEMA_LIMITS.ApiKeyIn.expires_in_days.maximum;
export const ROLE_NAME_MAX = SCHEMA_LIMITS.RoleIn.name.maxLength;
export const ROLE_KEY_MIN = SCHEMA_LIMITS.RoleIn.key.minLength;
export const ROLE_KEY_MAX = SCHEMA_LIMITS.RoleIn.key.maxLength;
export const ROLE_DESCRIPTION_MAX = SCHEMA_LIMITS.RoleIn.description.maxLength;
/** The API's rule for a custom role's key (checked by its service, so not in the schema). */
const ROLE_KEY_PATTERN = /^[a-z][a-z0-9-]{1,39}$/;
const BUILTIN_KEYS = ["owner", "admin", "member", "viewer"] as const;

/** The areas a role's permissions are grouped by, in the order the editor shows them. */
export type PermissionArea = "tasks" | "scoring" | "team" | "apikeys" | "billing" | "audit" | "ownership" | "other";

export const PERMISSION_AREA_LABELS: Record<PermissionArea, string> = {
  tasks: "Tasks and scores",
  scoring: "Scoring model",
  team: "Members and roles",
  apikeys: "API keys",
  billing: "Billing",
  audit: "Audit log",
  ownership: "Ownership",
  other: "Other",
};
const AREAS = Object.keys(PERMISSION_AREA_LABELS) as PermissionArea[];

const AREA_OF_RESOURCE: Record<string, PermissionArea> = {
  task: "tasks",
  score: "tasks",
  scoring: "scoring",
  members: "team",
  apikeys: "apikeys",
  billing: "billing",
  audit: "audit",
  org: "ownership",
};

/** The area of a `resource.action` permission. */
export function areaOf(permission: string): PermissionArea {
  return AREA_OF_RESOURCE[permission.split(".")[0] ?? ""] ?? "other";
}

/** The catalog grouped by area, areas in their fixed order, empty ones left out. */
export function groupByArea(catalog: readonly Permission[]): { area: PermissionArea; label: string; permissions: Permission[] }[] {
  return AREAS.map((area) => ({
    area,
    label: PERMISSION_AREA_LABELS[area],
    permissions: catalog.filter((permission) => areaOf(permission.key) === area),
  })).filter((group) => group.permissions.length > 0);
}

/** A permission as a short phrase ("submit tasks"), or its key when the app does not know it yet. */
export function permissionPhrase(permission: string): string {
  return PERMISSION_WORDS[permission] ?? permission;
}

/** A role's name by its key (a role since deleted keeps its key). */
export function roleNameOf(roles: readonly Role[] | undefined, key: string): string {
  return roles?.find((role) => role.key === key)?.name ?? key;
}

/** The roles the caller may hand out (invite with, give to a member or a key), built-in ones first. */
export function grantableRoles(roles: readonly Role[] | undefined): Role[] {
  return (roles ?? []).filter((role) => role.can_grant);
}

/**
 * Whether the caller may touch a member or key holding `roleKey` (change or remove it): the API
 * refuses one whose role holds a permission the caller lacks.
 */
export function canTouchRole(roles: readonly Role[] | undefined, roleKey: string): boolean {
  return roles?.find((role) => role.key === roleKey)?.can_grant ?? false;
}

/** Why a custom role may not hold `permission` when `editorPermissions` are the editor's, or null. */
export function permissionBlockReason(permission: string, editorPermissions: readonly string[]): string | null {
  return editorPermissions.includes(permission) ? null : "You do not hold this permission, so you cannot give it.";
}

/** A key for a new custom role from its name ("Support lead" → "support-lead"). */
export function roleKeyFromName(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "")
    .slice(0, ROLE_KEY_MAX)
    .replace(/-+$/, "");
  return slug;
}

/** Why a custom role's key is not valid, or null. */
export function roleKeyError(key: string): string | null {
  if (key.length < ROLE_KEY_MIN) return `Use at least ${ROLE_KEY_MIN} characters.`;
  if (!ROLE_KEY_PATTERN.test(key)) return "Use lowercase letters, digits and -, starting with a letter.";
  if ((BUILTIN_KEYS as readonly string[]).includes(key)) return "This is a built-in role's key; choose another.";
  return null;
}

/** Whether an email address looks like one (the API decides; this catches typos early). */
export function emailError(email: string): string | null {
  const trimmed = email.trim();
  if (trimmed === "") return "Enter an email address.";
  if (!INVITE_EMAIL_PATTERN.test(trimmed)) return "Enter an email address like name@example.com.";
  if (trimmed.length > INVITE_EMAIL_MAX) return `Use at most ${INVITE_EMAIL_MAX} characters.`;
  return null;
}

/** The base of the API as this web app serves it (`https://app.example/api/v2`). */
export function apiBaseUrl(origin: string): string {
  return `${origin.replace(/\/+$/, "")}/api/v2`;
}

/** A first request with a key: list the org's newest tasks. The token stays in a variable. */
export function curlSnippet(origin: string, org: string): string {
  return [
    'export TASKSCORE_TOKEN="ts_…"  # the key\'s token',
    `curl -H "Authorization: Bearer $TASKSCORE_TOKEN" \\`,
    `  "${apiBaseUrl(origin)}/orgs/${encodeURIComponent(org)}/tasks?limit=5"`,
  ].join("\n");
}

// ---------------------------------------------------------------------------------- key expiry

/** How long a new key lasts, as the create form offers it. */
export type KeyExpiry = "7" | "30" | "90" | "365" | "date" | "never";

export const KEY_EXPIRY_LABELS: Record<KeyExpiry, string> = {
  "7": "In 7 days",
  "30": "In 30 days",
  "90": "In 90 days",
  "365": "In a year",
  date: "On a date…",
  never: "Never",
};
export const KEY_EXPIRY_CHOICES = Object.keys(KEY_EXPIRY_LABELS) as KeyExpiry[];
/** A key lasts a month unless its creator chooses otherwise (a forgotten key then stops by itself). */
export const KEY_EXPIRY_DEFAULT: KeyExpiry = "30";

const DAY_MS = 86_400_000;

/** A local calendar day as `YYYY-MM-DD`. */
export function calendarDay(moment: Date): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}`;
}

/** Whole calendar days from `now`'s day to `day` (`YYYY-MM-DD`), in the reader's time zone; null for no such day. */
export function daysUntil(day: string, now: Date): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const target = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (Number.isNaN(target.getTime()) || calendarDay(target) !== day) return null;
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return Math.round((target.getTime() - today.getTime()) / DAY_MS);
}

/** The first and last day a key can be made to expire on, from `now`. */
export function keyExpiryDayRange(now: Date): { min: string; max: string } {
  const day = (offset: number) => calendarDay(new Date(now.getFullYear(), now.getMonth(), now.getDate() + offset));
  return { min: day(1), max: day(KEY_LIFETIME_MAX_DAYS) };
}

/** Why a chosen expiry day cannot be, or null when it can. */
export function keyExpiryDayError(day: string, now: Date): string | null {
  const days = daysUntil(day, now);
  if (days === null) return "Choose the day the key stops working.";
  if (days < 1) return "Choose a day after today.";
  if (days > KEY_LIFETIME_MAX_DAYS) return `A key can last at most ${KEY_LIFETIME_MAX_DAYS} days; choose “Never” for one that does not expire.`;
  return null;
}

/** What the API takes for a choice (`expires_in_days`): days, or null for never. A day is counted in whole calendar
 * days from today: the key stops working on that day at the time it was created. */
export function expiresInDays(choice: KeyExpiry, day: string, now: Date): number | null {
  if (choice === "never") return null;
  if (choice === "date") return daysUntil(day, now);
  return Number(choice);
}

/** When a key created at `now` to last `days` stops working (as the API counts: days of 24 hours). */
export function expiryMoment(days: number, now: Date): Date {
  return new Date(now.getTime() + days * DAY_MS);
}
