/**
 * Names for the API shapes used by the UI. Every type here is derived from the generated
 * `schema.d.ts` (from the backend's committed OpenAPI file), never written by hand, so a
 * contract change shows up as a type error.
 */
import type { paths } from "./schema";

type JsonBody<Response> = Response extends { content: { "application/json": infer Body } }
  ? Body
  : never;

type MeOperation = paths["/api/v2/me"]["get"];
type TaskListOperation = paths["/api/v2/orgs/{org}/tasks"]["get"];
type TaskSubmitOperation = paths["/api/v2/orgs/{org}/tasks"]["post"];

export type Me = JsonBody<MeOperation["responses"][200]>;
export type Org = Me["orgs"][number];
export type TaskPage = JsonBody<TaskListOperation["responses"][200]>;
export type Task = TaskPage["items"][number];
export type TaskStatus = Task["status"];
export type TaskScore = NonNullable<Task["score"]>;
export type ScoreBreakdownItem = TaskScore["breakdown"][number];
export type TaskInput = NonNullable<TaskSubmitOperation["requestBody"]>["content"]["application/json"];
