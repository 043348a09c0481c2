import { z } from "zod";

const fieldErrorSchema = z.object({ field: z.string(), message: z.string() });

/** RFC 9457 problem details, as every `/api/...` error answers. */
const problemSchema = z.object({
  type: z.string().default("about:blank"),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().nullish(),
  errors: z.array(fieldErrorSchema).nullish(),
});

export type FieldError = z.infer<typeof fieldErrorSchema>;

/** An API error answer, parsed from `application/problem+json` (or made up from the status). */
export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string | undefined;
  readonly errors: readonly FieldError[];

  constructor(problem: {
    type: string;
    title: string;
    status: number;
    detail?: string | undefined;
    errors?: readonly FieldError[] | undefined;
  }) {
    super(problem.detail ?? problem.title);
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
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

/** Builds an `ApiProblem` from an error answer's parsed body (JSON or text) and its status. */
export function toApiProblem(body: unknown, response: Pick<Response, "status" | "statusText">): ApiProblem {
  const parsed = problemSchema.safeParse(body);
  if (parsed.success) {
    return new ApiProblem({
      type: parsed.data.type,
      title: parsed.data.title,
      status: parsed.data.status,
      detail: parsed.data.detail ?? undefined,
      errors: parsed.data.errors ?? undefined,
    });
  }
  return new ApiProblem({
    type: "about:blank",
    title: response.statusText || `Request failed with status ${response.status}`,
    status: response.status,
    detail: undefined,
  });
}

/** Whether an unknown thrown value is an `ApiProblem` with the given status. */
export function isProblemWithStatus(error: unknown, status: number): error is ApiProblem {
  return error instanceof ApiProblem && error.status === status;
}
