/** Where things are in the web app. Every link the backend mails or returns has a route here. */

/** A `next` parameter that stays on this site (a path, never `//host` or a URL). */
export function safeNextPath(next: string | null | undefined, fallback = "/"): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return fallback;
  return next;
}

export function loginPath(next?: string): string {
  return next && next !== "/" ? `/login?next=${encodeURIComponent(next)}` : "/login";
}

/** The "check your inbox" page, with the way on once the address is verified. */
export function verifyEmailNoticePath(next?: string): string {
  return next && next !== "/" ? `/verify-email?next=${encodeURIComponent(next)}` : "/verify-email";
}

export const paths = {
  home: "/",
  login: "/login",
  signup: "/signup",
  forgotPassword: "/password/forgot",
  verifyEmailNotice: "/verify-email",
  onboarding: "/onboarding",
  account: "/account",
  /** The account page's two-factor authentication section (set up, recovery codes, turn off). */
  accountTwoFactor: "/account#two-factor",
  outbox: "/outbox",
  org: (org: string) => `/orgs/${encodeURIComponent(org)}`,
  tasks: (org: string) => `/orgs/${encodeURIComponent(org)}/tasks`,
  task: (org: string, id: string) => `/orgs/${encodeURIComponent(org)}/tasks/${encodeURIComponent(id)}`,
  importTasks: (org: string) => `/orgs/${encodeURIComponent(org)}/tasks/import`,
  scoring: (org: string) => `/orgs/${encodeURIComponent(org)}/scoring`,
  scoringVersion: (org: string, modelId: number, number: number) =>
    `/orgs/${encodeURIComponent(org)}/scoring/models/${modelId}/versions/${number}`,
  scoringCompare: (org: string, fromVersionId?: number, toVersionId?: number) =>
    `/orgs/${encodeURIComponent(org)}/scoring/compare` +
    (fromVersionId !== undefined && toVersionId !== undefined ? `?from=${fromVersionId}&to=${toVersionId}` : ""),
  ai: (org: string) => `/orgs/${encodeURIComponent(org)}/ai`,
  members: (org: string) => `/orgs/${encodeURIComponent(org)}/members`,
  roles: (org: string) => `/orgs/${encodeURIComponent(org)}/members/roles`,
  security: (org: string) => `/orgs/${encodeURIComponent(org)}/members/security`,
  apiKeys: (org: string) => `/orgs/${encodeURIComponent(org)}/api-keys`,
  audit: (org: string, query?: URLSearchParams) => {
    const search = query?.toString();
    return `/orgs/${encodeURIComponent(org)}/audit${search ? `?${search}` : ""}`;
  },
  billing: (org: string) => `/orgs/${encodeURIComponent(org)}/billing`,
  /** The org's settings: exporting all of its data, deleting it. */
  settings: (org: string) => `/orgs/${encodeURIComponent(org)}/settings`,
} as const;
