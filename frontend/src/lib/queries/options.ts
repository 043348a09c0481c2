/**
 * The queries' options (key and fetch), without React: the server prefetches the first screen with
 * them and the client hooks (me.ts, tasks.ts, scoring.ts) use the same, so both share one cache.
 */
import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";
import type { Client } from "openapi-fetch";

import { unwrap } from "@/lib/api/client";
import type { paths } from "@/lib/api/schema";
import type { Me } from "@/lib/api/types";
import { auditQueryOf } from "@/lib/audit";
import { taskRowPageOf, type TaskRow, type TaskRowPage } from "@/lib/tasks";

import { queryKeys, type AuditFilters, type TaskFilters } from "./keys";

export const TASK_PAGE_SIZE = 50;

export function meQuery(api: Client<paths>) {
  return queryOptions({
    queryKey: queryKeys.me,
    queryFn: async () => unwrap(await api.GET("/api/v2/me")),
    staleTime: 30_000,
  });
}

/**
 * The logged-in person, or null for a visitor. The pages anyone may open (an invitation link)
 * get it from the server first, so a visitor's browser never logs a refused request.
 */
export function optionalMeQuery(api: Client<paths>) {
  return queryOptions({
    queryKey: [...queryKeys.me, "optional"] as const,
    queryFn: async (): Promise<Me | null> => {
      const result = await api.GET("/api/v2/me");
      if (result.response.status === 401) return null;
      return unwrap(result);
    },
    staleTime: 30_000,
  });
}

export function tasksOf(data: { pages: readonly TaskRowPage[] } | undefined): TaskRow[] {
  return data?.pages.flatMap((page) => page.items) ?? [];
}

/** Drops empty filters so that `?q=` and no `q` are one query. */
export function cleanFilters(filters: TaskFilters): TaskFilters {
  const clean: TaskFilters = {};
  if (filters.sort && filters.sort !== "-created_at") clean.sort = filters.sort;
  if (filters.status) clean.status = filters.status;
  if (typeof filters.overridden === "boolean") clean.overridden = filters.overridden;
  const q = filters.q?.trim();
  if (q) clean.q = q;
  return clean;
}

export function taskListQuery(api: Client<paths>, org: string, filters: TaskFilters) {
  const clean = cleanFilters(filters);
  return infiniteQueryOptions({
    queryKey: queryKeys.taskList(org, clean),
    // Each task as its row shows it (TaskRow): what the server sends with the page, and what
    // polling compares, is then a fraction of the whole tasks.
    queryFn: async ({ pageParam }) =>
      taskRowPageOf(
        unwrap(
          await api.GET("/api/v2/orgs/{org}/tasks", {
            params: {
              path: { org },
              query: { limit: TASK_PAGE_SIZE, ...clean, ...(pageParam ? { cursor: pageParam } : {}) },
            },
          }),
        ),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (lastPage) => lastPage.next_cursor ?? undefined,
    // The page the server rendered is not fetched again as the browser takes it over (a slow
    // phone hydrates seconds later); polling keeps it fresh while tasks score.
    staleTime: 10_000,
  });
}

export function taskQuery(api: Client<paths>, org: string, id: string) {
  return queryOptions({
    queryKey: queryKeys.task(org, id),
    queryFn: async () =>
      unwrap(await api.GET("/api/v2/orgs/{org}/tasks/{task_id}", { params: { path: { org, task_id: id } } })),
  });
}

/**
 * A task's scores, newest first. Keyed by the newest score's time too, so that a new score (after
 * a re-score) loads the history again.
 */
export function taskScoresQuery(api: Client<paths>, org: string, id: string, scoredAt: string | undefined) {
  return queryOptions({
    queryKey: [...queryKeys.taskScores(org, id), scoredAt ?? "none"] as const,
    queryFn: async () =>
      unwrap(await api.GET("/api/v2/orgs/{org}/tasks/{task_id}/scores", { params: { path: { org, task_id: id } } })),
  });
}

/** One score with the inputs that made it; a score never changes, so it is fetched once. */
export function scoreDetailQuery(api: Client<paths>, org: string, id: string, scoreId: number) {
  return queryOptions({
    queryKey: queryKeys.taskScore(org, id, scoreId),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v2/orgs/{org}/tasks/{task_id}/scores/{score_id}", {
          params: { path: { org, task_id: id, score_id: scoreId } },
        }),
      ),
    staleTime: Infinity,
  });
}

/** The org's AI rules, what is always redacted, and this period's AI calls against the plan's allowance. */
export function aiSettingsQuery(api: Client<paths>, org: string) {
  return queryOptions({
    queryKey: queryKeys.ai(org),
    queryFn: async () => unwrap(await api.GET("/api/v2/orgs/{org}/ai", { params: { path: { org } } })),
    staleTime: 10_000,
  });
}

/** The org's security settings (whether owners and admins must use two-factor authentication). */
export function securityQuery(api: Client<paths>, org: string) {
  return queryOptions({
    queryKey: queryKeys.security(org),
    queryFn: async () => unwrap(await api.GET("/api/v2/orgs/{org}/security", { params: { path: { org } } })),
  });
}

export function activeVersionQuery(api: Client<paths>, org: string) {
  return queryOptions({
    queryKey: queryKeys.activeVersion(org),
    queryFn: async () => unwrap(await api.GET("/api/v2/orgs/{org}/scoring/active", { params: { path: { org } } })),
    staleTime: 30_000,
  });
}

export function modelsQuery(api: Client<paths>, org: string) {
  return queryOptions({
    queryKey: queryKeys.models(org),
    queryFn: async () => unwrap(await api.GET("/api/v2/orgs/{org}/scoring/models", { params: { path: { org } } })),
  });
}

export function modelQuery(api: Client<paths>, org: string, modelId: number) {
  return queryOptions({
    queryKey: queryKeys.model(org, modelId),
    queryFn: async () =>
      unwrap(await api.GET("/api/v2/orgs/{org}/scoring/models/{model_id}", { params: { path: { org, model_id: modelId } } })),
  });
}

export const ACCESS_PAGE_SIZE = 50;

/** The items of every page loaded so far of a cursor list. */
export function itemsOf<Item>(data: { pages: readonly { items: readonly Item[] }[] } | undefined): Item[] {
  return data?.pages.flatMap((page) => page.items) ?? [];
}

export function memberListQuery(api: Client<paths>, org: string) {
  return infiniteQueryOptions({
    queryKey: queryKeys.members(org),
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET("/api/v2/orgs/{org}/members", {
          params: { path: { org }, query: { limit: ACCESS_PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (lastPage) => lastPage.next_cursor ?? undefined,
    // The page the server rendered is not fetched again as the browser takes it over (a slow
    // phone hydrates seconds later); polling keeps it fresh while tasks score.
    staleTime: 10_000,
  });
}

export function invitationListQuery(api: Client<paths>, org: string) {
  return infiniteQueryOptions({
    queryKey: queryKeys.invitations(org),
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET("/api/v2/orgs/{org}/invitations", {
          params: { path: { org }, query: { limit: ACCESS_PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (lastPage) => lastPage.next_cursor ?? undefined,
    // The page the server rendered is not fetched again as the browser takes it over (a slow
    // phone hydrates seconds later); polling keeps it fresh while tasks score.
    staleTime: 10_000,
  });
}

/** The built-in and custom roles, each saying whether the caller may grant it. */
export function rolesQuery(api: Client<paths>, org: string) {
  return queryOptions({
    queryKey: queryKeys.roles(org),
    queryFn: async () => unwrap(await api.GET("/api/v2/orgs/{org}/roles", { params: { path: { org } } })),
    staleTime: 30_000,
  });
}

/** What a custom role can hold; it changes only with a deploy. */
export function permissionsQuery(api: Client<paths>, org: string) {
  return queryOptions({
    queryKey: queryKeys.permissions(org),
    queryFn: async () => unwrap(await api.GET("/api/v2/orgs/{org}/permissions", { params: { path: { org } } })),
    staleTime: Infinity,
  });
}

export function apiKeyListQuery(api: Client<paths>, org: string) {
  return infiniteQueryOptions({
    queryKey: queryKeys.apiKeys(org),
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET("/api/v2/orgs/{org}/api-keys", {
          params: { path: { org }, query: { limit: ACCESS_PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (lastPage) => lastPage.next_cursor ?? undefined,
    // The page the server rendered is not fetched again as the browser takes it over (a slow
    // phone hydrates seconds later); polling keeps it fresh while tasks score.
    staleTime: 10_000,
  });
}

/** The audit log, newest first, filtered as the URL says (days in the reader's time zone). */
export function auditListQuery(api: Client<paths>, org: string, filters: AuditFilters) {
  return infiniteQueryOptions({
    queryKey: queryKeys.auditList(org, filters),
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET("/api/v2/orgs/{org}/audit-events", {
          params: {
            path: { org },
            query: { limit: ACCESS_PAGE_SIZE, ...auditQueryOf(filters), ...(pageParam ? { cursor: pageParam } : {}) },
          },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (lastPage) => lastPage.next_cursor ?? undefined,
    // The page the server rendered is not fetched again as the browser takes it over (a slow
    // phone hydrates seconds later); polling keeps it fresh while tasks score.
    staleTime: 10_000,
  });
}

/** How many of the org's exports the settings page lists (an org makes at most a few a day). */
export const EXPORT_LIST_SIZE = 20;

/** The org's newest exports (an owner's): their progress, and a download while they last. */
export function exportListQuery(api: Client<paths>, org: string) {
  return queryOptions({
    queryKey: queryKeys.exports(org),
    queryFn: async () =>
      unwrap(await api.GET("/api/v2/orgs/{org}/exports", { params: { path: { org }, query: { limit: EXPORT_LIST_SIZE } } })),
  });
}
