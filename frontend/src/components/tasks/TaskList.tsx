"use client";

import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { memo, useEffect, useId, useRef, useState } from "react";

import { Alert, Badge, Button, DateTime, EmptyState, Input, Select, Skeleton } from "@/components/ui";
import { describeError } from "@/lib/errors";
import { formatScore } from "@/lib/format";
import { paths } from "@/lib/paths";
import type { TaskFilters } from "@/lib/queries/keys";
import {
  filtersFromParams,
  isReviewFilter,
  isSort,
  isStatus,
  overriddenOf,
  paramsFromFilters,
  REVIEW_FILTER_LABELS,
  REVIEW_FILTERS,
  reviewFilterOf,
  SEARCH_MAX,
  SORT_LABELS,
  SORTS,
} from "@/lib/task-filters";
import { tasksOf } from "@/lib/queries/options";
import { useRecentPending, useTaskList } from "@/lib/queries/tasks";
import { isPending, TASK_STATUSES, type TaskRow } from "@/lib/tasks";

import { STATUS_BADGE, StatusBadge } from "./StatusBadge";

// Memoized: the list re-renders on every poll and fetch state change, and each task keeps its
// object while it is unchanged (TanStack Query's structural sharing), so only changed rows render.
const TaskItem = memo(function TaskItem({ org, task, rank }: { org: string; task: TaskRow; rank: number | null }) {
  return (
    <li data-testid="task-row" data-status={task.status} data-task-id={task.id}>
      {/* No prefetch: fifty rows in view would each fetch and process a task page as the list
          loads (main-thread work on a slow phone, requests on the API); the task page has its
          own loading state. */}
      <Link
        href={paths.task(org, task.id)}
        prefetch={false}
        className="grid grid-cols-[1fr_auto] items-center gap-x-4 gap-y-1 rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-xs hover:border-indigo-300 hover:bg-indigo-50/30 focus-visible:outline-2 focus-visible:outline-indigo-600 sm:grid-cols-[2.5rem_1fr_auto_5rem]"
      >
        <span className="hidden text-sm text-slate-500 tabular-nums sm:block" aria-hidden={rank === null}>
          {rank !== null ? <><span className="sr-only">Rank </span>{rank}</> : null}
        </span>
        <span className="min-w-0">
          <span className="block truncate font-medium text-slate-900" data-testid="task-title">
            {task.title}
          </span>
          <span className="block text-xs text-slate-600">
            Submitted <DateTime iso={task.created_at} />
          </span>
        </span>
        <span className="col-start-1 row-start-2 sm:col-start-auto sm:row-start-auto">
          <StatusBadge status={task.status} />
        </span>
        <span className="col-start-2 row-span-2 row-start-1 text-right sm:col-start-auto sm:row-span-1 sm:row-start-auto">
          {task.score ? (
            <>
              <span className="sr-only">Score </span>
              <span data-testid="task-score" className="text-xl font-semibold text-slate-900 tabular-nums">
                {formatScore(task.score.value)}
              </span>
              {task.score.overridden ? (
                <span className="block" data-testid="reviewed-marker" title={`The machine's score: ${formatScore(task.score.machine_value)}`}>
                  <Badge tone="info">Reviewed</Badge>
                  <span className="sr-only">, the machine&apos;s score {formatScore(task.score.machine_value)}</span>
                </span>
              ) : null}
            </>
          ) : (
            <span className="text-sm text-slate-500">{task.status === "failed" ? "no score" : "—"}</span>
          )}
        </span>
      </Link>
    </li>
  );
});

function Toolbar({ filters, onChange }: { filters: ReturnType<typeof filtersFromParams>; onChange: (next: TaskFilters) => void }) {
  const id = useId();
  const [search, setSearch] = useState(filters.q ?? "");
  const currentQ = filters.q ?? "";
  // The latest filters and callback, read when the debounced search fires (not a reason to re-arm it).
  const latest = useRef({ filters, onChange });
  useEffect(() => {
    latest.current = { filters, onChange };
  });
  useEffect(() => {
    if (search.trim() === currentQ) return;
    const timer = window.setTimeout(() => {
      latest.current.onChange({ ...latest.current.filters, q: search.trim() });
    }, SEARCH_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [search, currentQ]);

  return (
    <div role="search" className="grid grid-cols-2 gap-2 sm:grid-cols-[1fr_auto_auto_auto]">
      <div className="col-span-2 sm:col-span-1">
        <label htmlFor={`${id}-q`} className="sr-only">
          Search titles
        </label>
        <Input
          id={`${id}-q`}
          type="search"
          placeholder="Search titles"
          maxLength={SEARCH_MAX}
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
      </div>
      <div>
        <label htmlFor={`${id}-status`} className="sr-only">
          Status
        </label>
        <Select
          id={`${id}-status`}
          value={filters.status ?? ""}
          onChange={(event) => {
            const value = event.target.value;
            onChange({ ...filters, status: isStatus(value) ? value : undefined });
          }}
        >
          <option value="">Any status</option>
          {TASK_STATUSES.map((status) => (
            <option key={status} value={status}>
              {STATUS_BADGE[status].label}
            </option>
          ))}
        </Select>
      </div>
      <div>
        <label htmlFor={`${id}-review`} className="sr-only">
          Review
        </label>
        <Select
          id={`${id}-review`}
          value={reviewFilterOf(filters.overridden)}
          onChange={(event) => {
            const value = event.target.value;
            if (isReviewFilter(value)) onChange({ ...filters, overridden: overriddenOf(value) });
          }}
        >
          {REVIEW_FILTERS.map((filter) => (
            <option key={filter} value={filter}>
              {REVIEW_FILTER_LABELS[filter]}
            </option>
          ))}
        </Select>
      </div>
      <div className="col-span-2 sm:col-span-1">
        <label htmlFor={`${id}-sort`} className="sr-only">
          Order
        </label>
        <Select
          id={`${id}-sort`}
          value={filters.sort}
          onChange={(event) => {
            const value = event.target.value;
            if (isSort(value)) onChange({ ...filters, sort: value });
          }}
        >
          {SORTS.map((sort) => (
            <option key={sort} value={sort}>
              {SORT_LABELS[sort]}
            </option>
          ))}
        </Select>
      </div>
    </div>
  );
}

const SEARCH_DEBOUNCE_MS = 300;

/** The org's tasks, ranked, filtered and searched, staying live while tasks score. */
export function TaskList({ org }: { org: string }) {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const filters = filtersFromParams(new URLSearchParams(searchParams.toString()));
  const tasksQuery = useTaskList(org, filters);
  const isScoreOrder = filters.sort === "-score" || filters.sort === "score";
  // Ordered by score, unscored tasks come last: the ones just submitted are shown on top instead.
  const recentPending = useRecentPending(org, filters.q ?? undefined, isScoreOrder && !filters.status && filters.overridden === undefined);
  const pinned = new Set(recentPending.map((task) => task.id));
  const tasks = [...recentPending, ...tasksOf(tasksQuery.data).filter((task) => !pinned.has(task.id))];
  const pendingCount = tasks.filter(isPending).length;
  const isFiltered = filters.status !== undefined || filters.overridden !== undefined || (filters.q ?? "") !== "";
  const isRanked = filters.sort === "-score";
  // Bumped when the filters are cleared from outside the toolbar, so its search box empties too.
  const [toolbarGeneration, setToolbarGeneration] = useState(0);

  function updateFilters(next: TaskFilters) {
    const query = paramsFromFilters(next).toString();
    router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
  }

  let content;
  if (tasksQuery.isPending) {
    content = (
      <div className="space-y-2" aria-hidden="true">
        {[0, 1, 2, 3].map((row) => (
          <Skeleton key={row} className="h-16" />
        ))}
      </div>
    );
  } else if (tasksQuery.isError && tasks.length === 0) {
    content = (
      <Alert
        tone="error"
        title="Tasks could not be loaded"
        actions={<Button variant="secondary" size="sm" onClick={() => void tasksQuery.refetch()}>Try again</Button>}
      >
        {describeError(tasksQuery.error).message}
      </Alert>
    );
  } else if (tasks.length === 0) {
    const clearFilters = (
      <Button
        variant="secondary"
        size="sm"
        onClick={() => {
          setToolbarGeneration((generation) => generation + 1);
          updateFilters({ sort: filters.sort });
        }}
      >
        Clear the filters
      </Button>
    );
    const isOnlyOverridden = filters.overridden === true && filters.status === undefined && (filters.q ?? "") === "";
    content = isOnlyOverridden ? (
      <EmptyState title="No overridden tasks" action={clearFilters}>
        No one has overridden a task&apos;s score or one of its criteria. A reviewer does it on a task&apos;s page, with a reason.
      </EmptyState>
    ) : isFiltered ? (
      <EmptyState title="No task matches" action={clearFilters}>
        No task has this status, review state or a title with these words.
      </EmptyState>
    ) : (
      <EmptyState title="No tasks yet">
        Submit a task with the form, or import many from a CSV file. Each one is scored within seconds.
      </EmptyState>
    );
  } else {
    let rank = 0;
    content = (
      <ol data-testid="task-list" className="space-y-2">
        {tasks.map((task) => {
          const taskRank = isRanked && task.score && !pinned.has(task.id) ? ++rank : null;
          return <TaskItem key={task.id} org={org} task={task} rank={taskRank} />;
        })}
      </ol>
    );
  }

  return (
    <section aria-labelledby="task-list-heading" className="space-y-3">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="task-list-heading" className="text-lg font-semibold text-slate-900">
          {isRanked ? "Ranked by score" : "Tasks"}
        </h2>
        <p className="text-sm text-slate-600" aria-live="polite" data-testid="pending-count">
          {pendingCount > 0 ? `Scoring ${pendingCount} ${pendingCount === 1 ? "task" : "tasks"}…` : ""}
        </p>
      </div>
      <Toolbar key={toolbarGeneration} filters={filters} onChange={updateFilters} />
      {tasksQuery.isError && tasks.length > 0 ? (
        <Alert tone="warning">The list could not be refreshed: {describeError(tasksQuery.error).message}</Alert>
      ) : null}
      {content}
      {tasksQuery.hasNextPage ? (
        <Button
          variant="secondary"
          className="w-full"
          onClick={() => void tasksQuery.fetchNextPage()}
          isLoading={tasksQuery.isFetchingNextPage}
        >
          Show more tasks
        </Button>
      ) : null}
    </section>
  );
}
