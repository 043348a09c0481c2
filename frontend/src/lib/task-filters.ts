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

export function isStatus(value: string | null): value is TaskStatus {
  return value !== null && (TASK_STATUSES as readonly string[]).includes(value);
}

/** The list's view as the URL says it (so it survives a reload and can be shared). */
export function filtersFromParams(params: URLSearchParams): Required<Pick<TaskFilters, "sort">> & TaskFilters {
  const sort = params.get("sort");
  const status = params.get("status");
  const q = params.get("q");
  return {
    sort: isSort(sort) ? sort : "-score",
    ...(isStatus(status) ? { status } : {}),
    ...(q ? { q: q.slice(0, SEARCH_MAX) } : {}),
  };
}
