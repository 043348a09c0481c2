/** Who may do what in an org, for the team pages: roles, permissions grouped by area, grants. */
import { SCHEMA_LIMITS } from "./api/limits";
import type { Permission, Role } from "./api/types";
import { PERMISSION_WORDS } from "./errors";

export const INVITE_EMAIL_MAX = SCHEMA_LIMITS.InvitationIn.email.maxLength;
export const KEY_NAME_MAX = SCHEMA_LIMITS.ApiKeyIn.name.maxLength;
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
  if (!/^[^\s@]+@[^\s@]+$/.test(trimmed)) return "Enter an email address like name@example.com.";
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
