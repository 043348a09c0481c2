import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { IDEMPOTENCY_HEADER, unwrap } from "@/lib/api/client";
import { useApiClient } from "@/lib/api/context";
import type { Criterion, PreviewRun, TaskInput } from "@/lib/api/types";
import { POLL_MIN_MS } from "@/lib/tasks";

import { queryKeys } from "./keys";
import { activeVersionQuery, modelQuery, modelsQuery } from "./options";

export function useActiveVersion(org: string) {
  const { api } = useApiClient();
  return useQuery(activeVersionQuery(api, org));
}

export function useModels(org: string) {
  const { api } = useApiClient();
  return useQuery(modelsQuery(api, org));
}

export function useTemplates(org: string) {
  const { api } = useApiClient();
  return useQuery({
    queryKey: queryKeys.templates(org),
    queryFn: async () => unwrap(await api.GET("/api/v2/orgs/{org}/scoring/templates", { params: { path: { org } } })),
    staleTime: Infinity,
  });
}

/** After a change to versions: the models, the active version and (activation) the tasks. */
function useInvalidateScoring(org: string) {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: queryKeys.scoring(org) });
}

export function useCreateModel(org: string) {
  const { api } = useApiClient();
  const invalidate = useInvalidateScoring(org);
  return useMutation({
    mutationFn: async ({ name, template, idempotencyKey }: { name: string; template: string; idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/scoring/models", {
          params: { path: { org } },
          body: { name, template: template as "rice_ai" | "rice" | "wsjf" | "quality", description: "" },
          headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        }),
      ),
    onSuccess: invalidate,
  });
}

export function useCreateVersion(org: string, modelId: number) {
  const { api } = useApiClient();
  const invalidate = useInvalidateScoring(org);
  return useMutation({
    mutationFn: async (input: { criteria: Criterion[]; notes: string; idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/scoring/models/{model_id}/versions", {
          params: { path: { org, model_id: modelId } },
          body: { criteria: input.criteria, notes: input.notes },
          headers: { [IDEMPOTENCY_HEADER]: input.idempotencyKey },
        }),
      ),
    onSuccess: invalidate,
  });
}

export function usePublishVersion(org: string, modelId: number, number: number) {
  const { api } = useApiClient();
  const invalidate = useInvalidateScoring(org);
  return useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/scoring/models/{model_id}/versions/{number}/publish", {
          params: { path: { org, model_id: modelId, number } },
        }),
      ),
    onSuccess: invalidate,
  });
}

export function useActivateVersion(org: string, modelId: number, number: number) {
  const { api } = useApiClient();
  const invalidate = useInvalidateScoring(org);
  return useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/scoring/models/{model_id}/versions/{number}/activate", {
          params: { path: { org, model_id: modelId, number } },
        }),
      ),
    onSuccess: invalidate,
  });
}

/** Scores one sample task with draft criteria; nothing is stored. */
export function useSamplePreview(org: string) {
  const { api } = useApiClient();
  return useMutation({
    mutationFn: async (input: { criteria: Criterion[]; task: TaskInput }) =>
      unwrap(await api.POST("/api/v2/orgs/{org}/scoring/preview", { params: { path: { org } }, body: input })),
  });
}

/** What a preview run of these criteria over the latest `limit` tasks would cost in AI calls. */
export function usePreviewEstimate(org: string) {
  const { api } = useApiClient();
  return useMutation({
    mutationFn: async (input: { criteria: Criterion[]; limit: number }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/scoring/previews/estimate", {
          params: { path: { org } },
          body: { criteria: input.criteria, limit: input.limit },
        }),
      ),
  });
}

/** Starts a preview of draft criteria over the org's latest tasks (a job; poll `usePreviewRun`). */
export function useStartPreviewRun(org: string) {
  const { api } = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (input: { criteria: Criterion[]; limit: number; idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/scoring/previews", {
          params: { path: { org } },
          body: { criteria: input.criteria, limit: input.limit },
          headers: { [IDEMPOTENCY_HEADER]: input.idempotencyKey },
        }),
      ),
    // The run reserved AI calls from this month's allowance.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.ai(org) }),
  });
}

export function isPreviewRunFinished(run: Pick<PreviewRun, "status">): boolean {
  return run.status === "done" || run.status === "failed";
}

/** A preview run, polled with backoff until it is done or failed. */
export function usePreviewRun(org: string, runId: string | null) {
  const { api } = useApiClient();
  return useQuery({
    queryKey: queryKeys.previewRun(org, runId ?? ""),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v2/orgs/{org}/scoring/previews/{run_id}", {
          params: { path: { org, run_id: runId ?? "" } },
        }),
      ),
    enabled: runId !== null,
    // A run lasts seconds to a few minutes and a person is watching its progress bar.
    refetchInterval: (query) => (query.state.data && isPreviewRunFinished(query.state.data) ? false : POLL_MIN_MS),
  });
}

export function useComparison(org: string, from: number | null, to: number | null) {
  const { api } = useApiClient();
  return useQuery({
    queryKey: queryKeys.comparison(org, from ?? 0, to ?? 0),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v2/orgs/{org}/scoring/compare", {
          params: { path: { org }, query: { from_version: from ?? 0, to_version: to ?? 0 } },
        }),
      ),
    enabled: from !== null && to !== null && from !== to,
  });
}

/** How each AI criterion of a version agrees with people's ratings of the same tasks. */
export function useCalibration(org: string, modelId: number, number: number, enabled = true) {
  const { api } = useApiClient();
  return useQuery({
    queryKey: queryKeys.calibration(org, modelId, number),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v2/orgs/{org}/scoring/models/{model_id}/versions/{number}/calibration", {
          params: { path: { org, model_id: modelId, number } },
        }),
      ),
    enabled,
  });
}

/** Imports people's ratings (CSV `task_id,criterion,rating`) for calibration: all rows or none. */
export function useImportLabels(org: string) {
  const { api } = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ csv, idempotencyKey }: { csv: string; idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/scoring/labels", {
          params: { path: { org } },
          body: { csv },
          headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.calibrations(org) }),
  });
}

export function useModel(org: string, modelId: number) {
  const { api } = useApiClient();
  return useQuery(modelQuery(api, org, modelId));
}
