import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { useState } from "react";

import { expectOk, IDEMPOTENCY_HEADER, unwrap } from "@/lib/api/client";
import { useApiClient } from "@/lib/api/context";
import type { OverrideInput, TaskBatchInput, TaskInput } from "@/lib/api/types";
import { createTaskPoller, isPending, taskRowOf } from "@/lib/tasks";

import { queryKeys, type TaskFilters } from "./keys";
import { scoreDetailQuery, taskListQuery, taskQuery, taskScoresQuery, tasksOf } from "./options";

/** The org's tasks in the chosen order, page by page, refetched while tasks score (with backoff). */
export function useTaskList(org: string, filters: TaskFilters) {
  const { api } = useApiClient();
  const [poll] = useState(createTaskPoller);
  return useInfiniteQuery({
    ...taskListQuery(api, org, filters),
    refetchInterval: (query) => poll(query.state.data ? tasksOf(query.state.data) : undefined),
  });
}

/** One task, refetched (with backoff) while it waits for its score; its scores follow. */
export function useTask(org: string, id: string) {
  const { api } = useApiClient();
  const [poll] = useState(createTaskPoller);
  return useQuery({
    ...taskQuery(api, org, id),
    refetchInterval: (query) => {
      const task = query.state.data;
      return task && isPending(task) ? poll([task]) : false;
    },
  });
}

export function useTaskScores(org: string, id: string, scoredAt: string | undefined) {
  const { api } = useApiClient();
  return useQuery(taskScoresQuery(api, org, id, scoredAt));
}

export function useSubmitTask(org: string) {
  const { api } = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ input, idempotencyKey }: { input: TaskInput; idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/tasks", {
          params: { path: { org } },
          body: input,
          headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.tasks(org) });
    },
  });
}

export function useSubmitBatch(org: string) {
  const { api } = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ input, idempotencyKey }: { input: TaskBatchInput; idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/tasks/batch", {
          params: { path: { org } },
          body: input,
          headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.tasks(org) });
    },
  });
}

export function useRescoreTask(org: string, id: string) {
  const { api } = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v2/orgs/{org}/tasks/{task_id}/rescore", { params: { path: { org, task_id: id } } })),
    onSuccess: async (task) => {
      queryClient.setQueryData(queryKeys.task(org, id), task);
      await queryClient.invalidateQueries({ queryKey: queryKeys.tasks(org) });
    },
  });
}

/** What re-scoring every task would cost in AI calls, and whether this month's allowance covers it. */
export function useRescoreEstimate(org: string, enabled: boolean) {
  const { api } = useApiClient();
  return useQuery({
    queryKey: queryKeys.rescoreEstimate(org),
    queryFn: async () => unwrap(await api.GET("/api/v2/orgs/{org}/tasks/rescore/estimate", { params: { path: { org } } })),
    enabled,
    // Asked each time the confirmation opens: tasks and calls change between two looks.
    staleTime: 0,
    gcTime: 0,
  });
}

export function useRescoreAll(org: string) {
  const { api } = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ idempotencyKey }: { idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/tasks/rescore", {
          params: { path: { org } },
          headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        }),
      ),
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.tasks(org) }),
        queryClient.invalidateQueries({ queryKey: queryKeys.ai(org) }),
      ]);
    },
  });
}

/** One score of a task with the inputs that made it and the value recomputed from them. */
export function useScoreDetail(org: string, id: string, scoreId: number | undefined) {
  const { api } = useApiClient();
  return useQuery({ ...scoreDetailQuery(api, org, id, scoreId ?? 0), enabled: scoreId !== undefined });
}

/** Every override of a task, cleared ones too, newest first (fetched when the history is opened). */
export function useOverrideHistory(org: string, id: string, enabled: boolean) {
  const { api } = useApiClient();
  return useQuery({
    queryKey: queryKeys.taskOverrides(org, id),
    queryFn: async () =>
      unwrap(await api.GET("/api/v2/orgs/{org}/tasks/{task_id}/overrides", { params: { path: { org, task_id: id } } })),
    enabled,
  });
}

/**
 * After a review changed a task: the task, every list (the reviewed value orders them) and the
 * calibration figures (a review of an AI criterion is a label).
 */
function useAfterReview(org: string) {
  const queryClient = useQueryClient();
  return async () => {
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: queryKeys.tasks(org) }),
      queryClient.invalidateQueries({ queryKey: queryKeys.calibrations(org) }),
    ]);
  };
}

export function useCreateOverride(org: string, id: string) {
  const { api } = useApiClient();
  const afterReview = useAfterReview(org);
  return useMutation({
    mutationFn: async ({ input, idempotencyKey }: { input: OverrideInput; idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/tasks/{task_id}/overrides", {
          params: { path: { org, task_id: id } },
          body: input,
          headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        }),
      ),
    onSuccess: afterReview,
  });
}

export function useClearOverride(org: string, id: string) {
  const { api } = useApiClient();
  const afterReview = useAfterReview(org);
  return useMutation({
    mutationFn: async (overrideId: string) =>
      expectOk(
        await api.DELETE("/api/v2/orgs/{org}/tasks/{task_id}/overrides/{override_id}", {
          params: { path: { org, task_id: id, override_id: overrideId } },
        }),
      ),
    onSuccess: afterReview,
  });
}

const RECENT_LIMIT = 20;

/**
 * The newest tasks still waiting for their score, for lists ordered by score (where unscored
 * tasks come last): they are shown on top while they score. When one gets its score, the
 * ordered list is fetched again so it appears in its place.
 */
export function useRecentPending(org: string, q: string | undefined, enabled: boolean) {
  const { api } = useApiClient();
  const queryClient = useQueryClient();
  const [poll] = useState(createTaskPoller);
  const [pendingIds, setPendingIds] = useState<readonly string[]>([]);
  const query = useQuery({
    queryKey: [...queryKeys.tasks(org), "recent-pending", q ?? ""] as const,
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v2/orgs/{org}/tasks", {
          params: { path: { org }, query: { limit: RECENT_LIMIT, ...(q ? { q } : {}) } },
        }),
      ).items.map(taskRowOf),
    enabled,
    refetchInterval: (current) => poll(current.state.data),
  });
  const pending = (query.data ?? []).filter(isPending);
  const ids = pending.map((task) => task.id);
  if (ids.join() !== pendingIds.join()) {
    // Adjusting state while rendering (React's documented pattern): a task left the pending set.
    if (pendingIds.some((id) => !ids.includes(id))) {
      void queryClient.invalidateQueries({ queryKey: [...queryKeys.tasks(org), "list"] });
    }
    setPendingIds(ids);
  }
  return pending;
}
