// zod/mini: the same checks in a fraction of the bytes this module adds to every page.
import * as z from "zod/mini";

const fieldErrorSchema = z.object({ field: z.string(), message: z.string() });

/** RFC 9457 problem details, as every `/api/...` error answers. */
const problemSchema = z.object({
  type: z._default(z.string(), "about:blank"),
  title: z.string(),
  status: z.int(),
  detail: z.nullish(z.string()),
  errors: z.nullish(z.array(fieldErrorSchema)),
  /** The permission a 403 names. */
  permission: z.nullish(z.string()),
  /** A 402 quota refusal's plan, used and limit (and, for AI calls, how many were needed). */
  plan: z.nullish(z.string()),
  used: z.nullish(z.number()),
  limit: z.nullish(z.number()),
  needed: z.nullish(z.number()),
  /** A 402 for a paid feature: which feature, and the plan that includes it. */
  feature: z.nullish(z.string()),
  required_plan: z.nullish(z.string()),
});

export type FieldError = z.infer<typeof fieldErrorSchema>;

interface ProblemInit {
  type: string;
  title: string;
  status: number;
  detail?: string | undefined;
  errors?: readonly FieldError[] | undefined;
  permission?: string | undefined;
  retryAfterSeconds?: number | undefined;
  plan?: string | undefined;
  used?: number | undefined;
  limit?: number | undefined;
  needed?: number | undefined;
  feature?: string | undefined;
  requiredPlan?: string | undefined;
}

/** An API error answer, parsed from `application/problem+json` (or made up from the status). */
export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string | undefined;
  readonly errors: readonly FieldError[];
  readonly permission: string | undefined;
  /** From the `Retry-After` header of a 429 or 503. */
  readonly retryAfterSeconds: number | undefined;
  readonly plan: string | undefined;
  readonly used: number | undefined;
  readonly limit: number | undefined;
  /** An AI-budget refusal's calls needed by the request. */
  readonly needed: number | undefined;
  /** A paid feature the org's plan lacks (`api_keys`, `custom_roles`, `audit_log`). */
  readonly feature: string | undefined;
  /** The plan that includes `feature` (`pro`, `business`). */
  readonly requiredPlan: string | undefined;

  constructor(problem: ProblemInit) {
    super(problem.detail ?? problem.title);
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
    this.permission = problem.permission;
    this.retryAfterSeconds = problem.retryAfterSeconds;
    this.plan = problem.plan;
    this.used = problem.used;
    this.limit = problem.limit;
    this.needed = problem.needed;
    this.feature = problem.feature;
    this.requiredPlan = problem.requiredPlan;
  }

  /** The last part of the problem `type` (`/problems/not-found` → `not-found`). */
  get code(): string {
    return this.type.split("/").pop() ?? this.type;
  }

  get isUnauthenticated(): boolean {
    return this.status === 401;
  }

  /** Messages by field name (`title`, `attributes.effort`, ...); several messages are joined. */
  get fieldErrors(): Record<string, string> {
    const byField: Record<string, string> = {};
    for (const { field, message } of this.errors) {
      const existing = byField[field];
      byField[field] = existing === undefined ? message : `${existing} ${message}`;
    }
    return byField;
  }
}

/** Seconds from a `Retry-After` header (delta-seconds or an HTTP date); undefined if absent. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** Builds an `ApiProblem` from an error answer's parsed body (JSON or text) and its status. */
export function toApiProblem(
  body: unknown,
  response: Pick<Response, "status" | "statusText"> & { headers?: Headers },
): ApiProblem {
  const retryAfterSeconds = parseRetryAfter(response.headers?.get("Retry-After"));
  const parsed = problemSchema.safeParse(body);
  if (parsed.success) {
    const data = parsed.data;
    return new ApiProblem({
      type: data.type,
      title: data.title,
      status: data.status,
      detail: data.detail ?? undefined,
      errors: data.errors ?? undefined,
      permission: data.permission ?? undefined,
      retryAfterSeconds,
      plan: data.plan ?? undefined,
      used: data.used ?? undefined,
      limit: data.limit ?? undefined,
      needed: data.needed ?? undefined,
      feature: data.feature ?? undefined,
      requiredPlan: data.required_plan ?? undefined,
    });
  }
  return new ApiProblem({
    type: "about:blank",
    title: response.statusText || `Request failed with status ${response.status}`,
    status: response.status,
    detail: undefined,
    retryAfterSeconds,
  });
}

/** Whether an unknown thrown value is an `ApiProblem` with the given status. */
export function isProblemWithStatus(error: unknown, status: number): error is ApiProblem {
  return error instanceof ApiProblem && error.status === status;
}
