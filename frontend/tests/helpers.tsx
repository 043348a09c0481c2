import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";

import { ToastProvider } from "@/components/ui";
import { createApiClient, type ApiClient, type FetchFunction } from "@/lib/api/client";
import { ApiClientProvider } from "@/lib/api/context";
import type { Permission, Task } from "@/lib/api/types";

export const BASE_URL = "http://web.test";

export function jsonResponse(status: number, body: unknown, contentType = "application/json"): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": contentType } });
}

export function problemResponse(
  status: number,
  problem: { title: string; detail?: string; errors?: { field: string; message: string }[]; type?: string; permission?: string },
): Response {
  return jsonResponse(status, { type: "about:blank", status, ...problem }, "application/problem+json");
}

/** A request the fake fetch received, with its body already read. */
export interface SentRequest {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: Headers;
  credentials: RequestCredentials;
  body: unknown;
}

type Route = (request: SentRequest) => Response | Promise<Response> | undefined;

/**
 * A fetch mock for the API client: `route` answers each request (undefined → 404), and every
 * request is recorded in `sent`. No network is involved.
 */
export function fakeFetch(route: Route) {
  const sent: SentRequest[] = [];
  const fetch = vi.fn<FetchFunction>(async (request) => {
    const url = new URL(request.url);
    const text = await request.text();
    const sentRequest: SentRequest = {
      method: request.method,
      path: url.pathname,
      search: url.searchParams,
      headers: request.headers,
      credentials: request.credentials,
      body: text === "" ? undefined : (JSON.parse(text) as unknown),
    };
    sent.push(sentRequest);
    return (await route(sentRequest)) ?? problemResponse(404, { title: "Not Found" });
  });
  return { fetch, sent };
}

export function makeClient(fetch: FetchFunction): ApiClient {
  return createApiClient({ fetch, baseUrl: BASE_URL });
}

export function renderWithApi(ui: ReactElement, client: ApiClient) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={queryClient}>
      <ApiClientProvider client={client}>
        <ToastProvider>{ui}</ToastProvider>
      </ApiClientProvider>
    </QueryClientProvider>,
  );
}

let taskCounter = 0;

export function makeTask(overrides: Partial<Task> = {}): Task {
  taskCounter += 1;
  return {
    id: `00000000-0000-4000-8000-${String(taskCounter).padStart(12, "0")}`,
    title: `Task ${taskCounter}`,
    description: "",
    attributes: { reach: 100, impact: 5, confidence: 80, effort: 3 },
    status: "queued",
    failure_reason: null,
    created_at: "2026-01-02T03:04:05Z",
    updated_at: "2026-01-02T03:04:05Z",
    score: null,
    overrides: [],
    ...overrides,
  };
}

export function scoredTask(value: number, overrides: Partial<Task> = {}): Task {
  return makeTask({
    status: "scored",
    score: {
      id: taskCounter + 1000,
      value,
      machine_value: value,
      overridden: false,
      version: 1,
      scored_at: "2026-01-02T03:05:00Z",
      breakdown: [
        { key: "reach", label: "Reach", kind: "attribute", weight: 0.4, value: 100, normalized: 0.1, contribution: 4 },
        { key: "effort", label: "Effort", kind: "attribute", weight: 0.2, value: 3, normalized: 0.7, contribution: 14 },
      ],
    },
    ...overrides,
  });
}

/** The default template's version 1, as `GET …/scoring/active` answers. */
export const ACTIVE_VERSION = {
  id: 11,
  model_id: 3,
  number: 1,
  status: "published" as const,
  is_active: true,
  notes: "",
  created_at: "2026-01-01T00:00:00Z",
  published_at: "2026-01-01T00:00:00Z",
  activated_at: "2026-01-01T00:00:00Z",
  criteria: [
    { kind: "attribute" as const, key: "reach", label: "Reach", weight: 2, attribute: "reach", min: 0, max: 1000, invert: false },
    { kind: "attribute" as const, key: "effort", label: "Effort", weight: 2, attribute: "effort", min: 0, max: 10, invert: true },
    { kind: "ai" as const, key: "clarity", label: "Clarity", weight: 2, rubric: "Is it clear?", high_anchor: "", low_anchor: "" },
  ],
};

/** Resolves after pending promises and React updates have run. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** `GET /api/v2/me` for a person in the org `acme` holding `permissions`. */
export function meWith(permissions: readonly string[]) {
  return {
    id: 1,
    email: "rita@example.test",
    email_verified: true,
    orgs: [{ slug: "acme", name: "Acme", role: "custom", permissions: [...permissions] }],
  };
}

export const OWNER_PERMISSIONS = ["score.review", "scoring.manage", "task.create", "task.read", "task.rescore"] as const;

/** This period's AI usage on the Free plan (1,000 calls a month). */
export const FREE_USAGE = {
  plan: "free",
  period_start: "2026-12-01T00:00:00Z",
  calls: 12,
  limit: 1000,
  remaining: 988,
  cost_usd: 0.0123,
};

/** A scored task whose breakdown has two attribute criteria and one AI criterion. */
export function reviewableTask(overrides: Partial<Task> = {}): Task {
  return makeTask({
    status: "scored",
    score: {
      id: 77,
      value: 60,
      machine_value: 60,
      overridden: false,
      version: 1,
      scored_at: "2026-01-02T03:05:00Z",
      breakdown: [
        { key: "reach", label: "Reach", kind: "attribute", weight: 2, value: 400, normalized: 0.4, contribution: 16, human_value: null, skipped: null },
        { key: "effort", label: "Effort", kind: "attribute", weight: 2, value: 2, normalized: 0.8, contribution: 32, human_value: null, skipped: null },
        { key: "clarity", label: "Clarity", kind: "ai", weight: 1, value: 6, normalized: 0.6, contribution: 12, rationale: "Clear enough.", human_value: null, skipped: null },
      ],
    },
    ...overrides,
  });
}

/** The permission catalog, as `GET …/permissions` answers. */
export const PERMISSION_CATALOG: Permission[] = [
  { key: "task.read", description: "See tasks, their scores and the scoring models" },
  { key: "task.create", description: "Submit tasks" },
  { key: "task.rescore", description: "Re-score tasks with the active scoring version" },
  { key: "score.review", description: "Override a task's score" },
  { key: "scoring.manage", description: "Create, publish and activate scoring versions" },
  { key: "members.read", description: "See the members, invitations and roles" },
  { key: "members.manage", description: "Invite, remove and change the role of members; manage custom roles" },
  { key: "apikeys.read", description: "See the org's API keys" },
  { key: "apikeys.manage", description: "Create and revoke API keys" },
  { key: "billing.read", description: "See the plan, usage and invoices" },
  { key: "billing.manage", description: "Change the plan and payment details" },
  { key: "audit.read", description: "Read the audit log" },
  { key: "org.owner", description: "Act as an owner: grant the owner role, remove owners" },
];

const VIEWER_PERMISSIONS = ["billing.read", "members.read", "task.read"];
const MEMBER_ROLE_PERMISSIONS = [...VIEWER_PERMISSIONS, "task.create"];
export const ADMIN_ROLE_PERMISSIONS = [
  ...MEMBER_ROLE_PERMISSIONS,
  "apikeys.manage",
  "apikeys.read",
  "audit.read",
  "members.manage",
  "score.review",
  "scoring.manage",
  "task.rescore",
];
export const OWNER_ROLE_PERMISSIONS = PERMISSION_CATALOG.map((permission) => permission.key);

/** The built-in roles and one custom role, as `GET …/roles` answers to a caller holding `callerPermissions`. */
export function rolesFor(callerPermissions: readonly string[]) {
  const roles = [
    { key: "owner", name: "Owner", description: "", permissions: OWNER_ROLE_PERMISSIONS, is_builtin: true },
    { key: "admin", name: "Admin", description: "", permissions: ADMIN_ROLE_PERMISSIONS, is_builtin: true },
    { key: "member", name: "Member", description: "", permissions: MEMBER_ROLE_PERMISSIONS, is_builtin: true },
    { key: "viewer", name: "Viewer", description: "", permissions: VIEWER_PERMISSIONS, is_builtin: true },
    { key: "triage", name: "Triage", description: "Re-scores, never edits the model", permissions: ["task.read", "task.rescore"], is_builtin: false },
  ];
  return roles.map((role) => ({ ...role, can_grant: role.permissions.every((permission) => callerPermissions.includes(permission)) }));
}

/** A page of a cursor list. */
export function pageOf<Item>(items: readonly Item[], nextCursor: string | null = null) {
  return { items: [...items], next_cursor: nextCursor };
}
