import { SCHEMA_LIMITS } from "./api/limits";
import type { TaskSort, TaskStatus } from "./api/types";
import type { TaskFilters } from "./queries/keys";
import { TASK_STATUSES } from "./tasks";

export const SORT_LABELS: Record<TaskSort, string> = {
  "-score": "Highest score first",
  score: "Lowest score first",
  "-created_at": "Newest first",
  created_at: "Oldest first",
};
export const SORTS = Object.keys(SORT_LABELS) as TaskSort[];
export const SEARCH_MAX = SCHEMA_LIMITS.TaskListQuery.q.maxLength;

export function isSort(value: string | null): value is TaskSort {
  return value !== null && (SORTS as string[]).includes(value);
}

/** The review filter: every task, only those a person overrode, or only the others. */
export type ReviewFilter = "all" | "overridden" | "not-overridden";

export const REVIEW_FILTER_LABELS: Record<ReviewFilter, string> = {
  all: "Any review",
  overridden: "Overridden",
  "not-overridden": "Not overridden",
};
export const REVIEW_FILTERS = Object.keys(REVIEW_FILTER_LABELS) as ReviewFilter[];

export function isReviewFilter(value: string | null): value is ReviewFilter {
  return value !== null && (REVIEW_FILTERS as string[]).includes(value);
}

/** The API's `overridden` parameter of a review filter (undefined: not filtered). */
export function overriddenOf(filter: ReviewFilter): boolean | undefined {
  return filter === "all" ? undefined : filter === "overridden";
}

/** The review filter of the API's `overridden` parameter. */
export function reviewFilterOf(overridden: boolean | null | undefined): ReviewFilter {
  return overridden === true ? "overridden" : overridden === false ? "not-overridden" : "all";
}

export function isStatus(value: string | null): value is TaskStatus {
  return value !== null && (TASK_STATUSES as readonly string[]).includes(value);
}

/** The URL's query string of a list view (the default sort and empty filters are left out). */
export function paramsFromFilters(filters: TaskFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.sort && filters.sort !== "-score") params.set("sort", filters.sort);
  if (filters.status) params.set("status", filters.status);
  if (typeof filters.overridden === "boolean") params.set("overridden", String(filters.overridden));
  if (filters.q) params.set("q", filters.q);
  return params;
}

/** The list's view as the URL says it (so it survives a reload and can be shared). */
export function filtersFromParams(params: URLSearchParams): Required<Pick<TaskFilters, "sort">> & TaskFilters {
  const sort = params.get("sort");
  const status = params.get("status");
  const q = params.get("q");
  // The API's own parameter: `overridden=true|false`.
  const rawOverridden = params.get("overridden");
  const overridden = rawOverridden === "true" ? true : rawOverridden === "false" ? false : undefined;
  return {
    sort: isSort(sort) ? sort : "-score",
    ...(isStatus(status) ? { status } : {}),
    ...(overridden !== undefined ? { overridden } : {}),
    ...(q ? { q: q.slice(0, SEARCH_MAX) } : {}),
  };
}
