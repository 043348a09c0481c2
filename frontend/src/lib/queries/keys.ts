import type { TaskListParams } from "@/lib/api/types";

/** Every query key of the app, so invalidations name exactly what they mean. */
export const queryKeys = {
  me: ["me"] as const,
  myInvitations: ["me", "invitations"] as const,
  invitation: (token: string) => ["invitations", token] as const,
  emails: ["account", "emails"] as const,
  org: (org: string) => ["orgs", org] as const,
  tasks: (org: string) => ["orgs", org, "tasks"] as const,
  taskList: (org: string, filters: TaskFilters) => ["orgs", org, "tasks", "list", filters] as const,
  task: (org: string, id: string) => ["orgs", org, "tasks", "one", id] as const,
  taskScores: (org: string, id: string) => ["orgs", org, "tasks", "one", id, "scores"] as const,
  taskScore: (org: string, id: string, scoreId: number) => ["orgs", org, "tasks", "one", id, "score", scoreId] as const,
  taskOverrides: (org: string, id: string) => ["orgs", org, "tasks", "one", id, "overrides"] as const,
  rescoreEstimate: (org: string) => ["orgs", org, "tasks", "rescore-estimate"] as const,
  scoring: (org: string) => ["orgs", org, "scoring"] as const,
  activeVersion: (org: string) => ["orgs", org, "scoring", "active"] as const,
  models: (org: string) => ["orgs", org, "scoring", "models"] as const,
  model: (org: string, modelId: number) => ["orgs", org, "scoring", "models", modelId] as const,
  templates: (org: string) => ["orgs", org, "scoring", "templates"] as const,
  previewRun: (org: string, runId: string) => ["orgs", org, "scoring", "previews", runId] as const,
  comparison: (org: string, from: number, to: number) => ["orgs", org, "scoring", "compare", from, to] as const,
  calibrations: (org: string) => ["orgs", org, "scoring", "calibration"] as const,
  calibration: (org: string, modelId: number, number: number) => ["orgs", org, "scoring", "calibration", modelId, number] as const,
  ai: (org: string) => ["orgs", org, "ai"] as const,
};

/** The list's view: sort, status and review filters and title search (all optional in the URL). */
export type TaskFilters = Pick<TaskListParams, "sort" | "status" | "q" | "overridden">;
