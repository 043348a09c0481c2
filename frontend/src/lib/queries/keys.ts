import type { TaskListParams } from "@/lib/api/types";

/** Every query key of the app, so invalidations name exactly what they mean. */
export const queryKeys = {
  me: ["me"] as const,
  /** The newest refusal for a missing permission (set by the query client, not fetched). */
  lastDenial: ["session", "last-denial"] as const,
  myInvitations: ["me", "invitations"] as const,
  invitation: (token: string) => ["invitations", token] as const,
  emails: ["account", "emails"] as const,
  twoFactor: ["account", "two-factor"] as const,
  /** A new authenticator app secret: fetched once per set-up (each fetch makes a new one). */
  totpOffer: ["account", "two-factor", "offer"] as const,
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
  members: (org: string) => ["orgs", org, "members"] as const,
  invitations: (org: string) => ["orgs", org, "invitations"] as const,
  roles: (org: string) => ["orgs", org, "roles"] as const,
  permissions: (org: string) => ["orgs", org, "permissions"] as const,
  apiKeys: (org: string) => ["orgs", org, "api-keys"] as const,
  audit: (org: string) => ["orgs", org, "audit"] as const,
  auditList: (org: string, filters: AuditFilters) => ["orgs", org, "audit", filters] as const,
  billing: (org: string) => ["orgs", org, "billing"] as const,
  security: (org: string) => ["orgs", org, "security"] as const,
  exports: (org: string) => ["orgs", org, "exports"] as const,
};

/** The audit log's view as the URL says it: an action, part of the actor, and whole days (`YYYY-MM-DD`, inclusive). */
export interface AuditFilters {
  action?: string;
  actor?: string;
  from?: string;
  to?: string;
}

/** The list's view: sort, status and review filters and title search (all optional in the URL). */
export type TaskFilters = Pick<TaskListParams, "sort" | "status" | "q" | "overridden">;

/** A refusal for a missing permission, remembered to explain the role change that follows it. */
export interface PermissionDenial {
  permission: string | undefined;
  at: number;
}
