/**
 * django-allauth headless ("browser" client) answers. allauth serves these endpoints itself,
 * outside the backend's OpenAPI file, so this module validates the few fields the UI reads
 * with zod instead of trusting a hand-written type.
 */
import * as z from "zod/mini";

export const ALLAUTH_BASE = "/_allauth/browser/v1";

const allauthErrorSchema = z.object({
  message: z.string(),
  code: z.optional(z.string()),
  param: z.optional(z.string()),
});

const allauthErrorBodySchema = z.object({
  status: z.number(),
  errors: z.array(allauthErrorSchema).check(z.minLength(1)),
});

export const allauthUserSchema = z.object({
  id: z.optional(z.union([z.number(), z.string()])),
  email: z.nullish(z.string()),
  display: z.optional(z.string()),
});

export const allauthSessionSchema = z.object({
  status: z.literal(200),
  data: z.object({ user: allauthUserSchema }),
  meta: z.object({ is_authenticated: z.boolean() }),
});

/** 401 "not logged in": the flows allauth offers, one of them pending when a log-in waits on a step. */
const allauthUnauthenticatedSchema = z.object({
  status: z.literal(401),
  data: z.object({ flows: z.array(z.object({ id: z.string(), is_pending: z.optional(z.boolean()) })) }),
});

/**
 * The step a log-in or sign-up waits on (`verify_email`: the address must be verified first), or
 * null when none is pending.
 */
export function pendingFlowOf(body: unknown): string | null {
  const parsed = allauthUnauthenticatedSchema.safeParse(body);
  if (!parsed.success) return null;
  return parsed.data.data.flows.find((flow) => flow.is_pending === true)?.id ?? null;
}

export const emailAddressSchema = z.object({
  email: z.string(),
  primary: z.boolean(),
  verified: z.boolean(),
});

export const emailAddressListSchema = z.object({
  status: z.literal(200),
  data: z.array(emailAddressSchema),
});

/** GET /auth/email/verify: the address a verification key is for. */
export const verificationInfoSchema = z.object({
  status: z.literal(200),
  data: z.object({ email: z.string() }),
});

export type AllauthUser = z.infer<typeof allauthUserSchema>;
export type EmailAddress = z.infer<typeof emailAddressSchema>;

/** A refused allauth request; `messages` are allauth's own, ready to show. */
export class AllauthError extends Error {
  override readonly name = "AllauthError";
  readonly status: number;
  readonly messages: readonly string[];
  readonly params: readonly (string | undefined)[];

  constructor(status: number, messages: readonly string[], params: readonly (string | undefined)[] = []) {
    super(messages.join(" "));
    this.status = status;
    this.messages = messages;
    this.params = params;
  }

  /** Messages by the input they are about (`email`, `password`, ...); others under `""`. */
  get fieldMessages(): Record<string, string> {
    const byField: Record<string, string> = {};
    this.messages.forEach((message, index) => {
      const field = this.params[index] ?? "";
      byField[field] = byField[field] ? `${byField[field]} ${message}` : message;
    });
    return byField;
  }
}

const PENDING_FLOW_MESSAGE =
  "Your account needs another step before you can log in (for example, verifying your email address).";

/** Turns a non-successful allauth answer into an `AllauthError` with readable messages. */
export function toAllauthError(status: number, body: unknown): AllauthError {
  const parsed = allauthErrorBodySchema.safeParse(body);
  if (parsed.success) {
    return new AllauthError(
      status,
      parsed.data.errors.map((error) => error.message),
      parsed.data.errors.map((error) => error.param),
    );
  }
  if (status === 401) return new AllauthError(status, [PENDING_FLOW_MESSAGE]);
  if (status === 409) return new AllauthError(status, ["This step does not apply any more. Reload the page."]);
  if (status === 429) return new AllauthError(status, ["Too many attempts. Please wait a moment and try again."]);
  if (status >= 500) return new AllauthError(status, ["Something went wrong on our side. Please try again."]);
  return new AllauthError(status, [`The request failed (status ${status}). Please try again.`]);
}
