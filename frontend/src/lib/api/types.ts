/**
 * Names for the API shapes used by the UI. Every type here is derived from the generated
 * `schema.d.ts` (from the backend's committed OpenAPI file), never written by hand, so a
 * contract change shows up as a type error.
 */
import type { paths } from "./schema";

type JsonBody<Response> = Response extends { content: { "application/json": infer Body } } ? Body : never;
type Ok<Operation> = Operation extends { responses: { 200: infer R } }
  ? JsonBody<R>
  : Operation extends { responses: { 201: infer R } }
    ? JsonBody<R>
    : Operation extends { responses: { 202: infer R } }
      ? JsonBody<R>
      : never;
type RequestBody<Operation> = Operation extends { requestBody?: infer B }
  ? NonNullable<B> extends { content: { "application/json": infer Body } }
    ? Body
    : never
  : never;
type Query<Operation> = Operation extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type Me = Ok<paths["/api/v2/me"]["get"]>;
export type Org = Me["orgs"][number];

export type TaskPage = Ok<paths["/api/v2/orgs/{org}/tasks"]["get"]>;
export type TaskListParams = Query<paths["/api/v2/orgs/{org}/tasks"]["get"]>;
export type TaskSort = NonNullable<TaskListParams["sort"]>;
export type Task = TaskPage["items"][number];
export type TaskStatus = Task["status"];
export type TaskScore = NonNullable<Task["score"]>;
export type ScoreBreakdownItem = TaskScore["breakdown"][number];
export type TaskInput = RequestBody<paths["/api/v2/orgs/{org}/tasks"]["post"]>;
export type TaskBatchInput = RequestBody<paths["/api/v2/orgs/{org}/tasks/batch"]["post"]>;
export type TaskScoreRecord = Ok<paths["/api/v2/orgs/{org}/tasks/{task_id}/scores"]["get"]>[number];
export type SkipReason = NonNullable<ScoreBreakdownItem["skipped"]>;

export type TaskOverride = Task["overrides"][number];
export type OverrideInput = RequestBody<paths["/api/v2/orgs/{org}/tasks/{task_id}/overrides"]["post"]>;
export type ScoreDetail = Ok<paths["/api/v2/orgs/{org}/tasks/{task_id}/scores/{score_id}"]["get"]>;
export type ScoreInputs = NonNullable<ScoreDetail["inputs"]>;

export type ScoringVersion = Ok<paths["/api/v2/orgs/{org}/scoring/active"]["get"]>;
export type ScoringModel = Ok<paths["/api/v2/orgs/{org}/scoring/models/{model_id}"]["get"]>;
export type Criterion = ScoringVersion["criteria"][number];
export type AttributeCriterion = Extract<Criterion, { kind: "attribute" }>;
export type AICriterion = Extract<Criterion, { kind: "ai" }>;
export type ScoringTemplate = Ok<paths["/api/v2/orgs/{org}/scoring/templates"]["get"]>[number];
export type SamplePreview = Ok<paths["/api/v2/orgs/{org}/scoring/preview"]["post"]>;
export type PreviewRun = Ok<paths["/api/v2/orgs/{org}/scoring/previews/{run_id}"]["get"]>;
export type PreviewRunStatus = PreviewRun["status"];
export type PreviewRunItem = PreviewRun["items"][number];
export type Comparison = Ok<paths["/api/v2/orgs/{org}/scoring/compare"]["get"]>;
export type Calibration = Ok<paths["/api/v2/orgs/{org}/scoring/models/{model_id}/versions/{number}/calibration"]["get"]>;
export type CriterionCalibration = Calibration["criteria"][number];
export type Agreement = CriterionCalibration["agreement"];
export type LabelsImportResult = Ok<paths["/api/v2/orgs/{org}/scoring/labels"]["post"]>;

export type AISettings = Ok<paths["/api/v2/orgs/{org}/ai"]["get"]>;
export type AIRules = AISettings["rules"];
export type AIRulesInput = RequestBody<paths["/api/v2/orgs/{org}/ai/rules"]["patch"]>;
export type AIUsage = AISettings["usage"];
export type AIEstimate = Ok<paths["/api/v2/orgs/{org}/tasks/rescore/estimate"]["get"]>;

export type InvitationLookup = Ok<paths["/api/v2/invitations/{token}"]["get"]>;
export type MyInvitation = Ok<paths["/api/v2/me/invitations"]["get"]>[number];

export type MemberPage = Ok<paths["/api/v2/orgs/{org}/members"]["get"]>;
export type Member = MemberPage["items"][number];
export type InvitationPage = Ok<paths["/api/v2/orgs/{org}/invitations"]["get"]>;
export type Invitation = InvitationPage["items"][number];
export type InvitationInput = RequestBody<paths["/api/v2/orgs/{org}/invitations"]["post"]>;
export type CreatedInvitation = Ok<paths["/api/v2/orgs/{org}/invitations"]["post"]>;
export type Role = Ok<paths["/api/v2/orgs/{org}/roles"]["get"]>[number];
export type RoleInput = RequestBody<paths["/api/v2/orgs/{org}/roles"]["post"]>;
export type RolePatch = RequestBody<paths["/api/v2/orgs/{org}/roles/{key}"]["patch"]>;
export type Permission = Ok<paths["/api/v2/orgs/{org}/permissions"]["get"]>[number];
export type ApiKeyPage = Ok<paths["/api/v2/orgs/{org}/api-keys"]["get"]>;
export type ApiKey = ApiKeyPage["items"][number];
export type ApiKeyInput = RequestBody<paths["/api/v2/orgs/{org}/api-keys"]["post"]>;
export type CreatedApiKey = Ok<paths["/api/v2/orgs/{org}/api-keys"]["post"]>;
export type AuditPage = Ok<paths["/api/v2/orgs/{org}/audit-events"]["get"]>;
export type AuditEvent = AuditPage["items"][number];
export type AuditActorKind = AuditEvent["actor_kind"];
export type AuditListParams = Query<paths["/api/v2/orgs/{org}/audit-events"]["get"]>;

export type SecuritySettings = Ok<paths["/api/v2/orgs/{org}/security"]["get"]>;
export type SecuritySettingsInput = RequestBody<paths["/api/v2/orgs/{org}/security"]["patch"]>;

export type OrgExportPage = Ok<paths["/api/v2/orgs/{org}/exports"]["get"]>;
export type OrgExport = OrgExportPage["items"][number];
export type OrgExportStatus = OrgExport["status"];
export type OrgDeletionInput = RequestBody<paths["/api/v2/orgs/{org}/deletion"]["post"]>;
export type OrgDeletion = Ok<paths["/api/v2/orgs/{org}/deletion"]["post"]>;
