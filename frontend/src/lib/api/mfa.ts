/**
 * Two-factor authentication through django-allauth's headless API (allauth.mfa): an
 * authenticator app (TOTP) with recovery codes. Like the rest of allauth, these endpoints are
 * outside the backend's OpenAPI file, so the answers the UI reads are validated with zod here.
 *
 * allauth asks a person to confirm who they are (their password, or a code) before any change to
 * two-factor authentication and before showing recovery codes: such a request answers 401 with
 * the ways to confirm, thrown as `ReauthenticationRequired`; the UI confirms and sends it again.
 */
import * as z from "zod/mini";

import { AllauthError, toAllauthError } from "./allauth";

/** Sends one request to allauth's headless API (`path` under `/_allauth/browser/v1`). */
export type AllauthSend = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

/** A way allauth accepts to confirm who the person is. */
export type ReauthenticationMethod = "password" | "code";

/** A request allauth answers only after the person confirms who they are (`methods`: how they can). */
export class ReauthenticationRequired extends AllauthError {
  readonly methods: readonly ReauthenticationMethod[];

  constructor(methods: readonly ReauthenticationMethod[]) {
    super(401, ["Confirm it is you to continue."]);
    this.methods = methods;
  }
}

const flowsSchema = z.object({
  status: z.literal(401),
  data: z.object({ flows: z.array(z.object({ id: z.string() })) }),
  meta: z.object({ is_authenticated: z.literal(true) }),
});

/** The reauthentication an answer asks for, or null when it is not such an answer. */
export function reauthenticationOf(status: number, body: unknown): ReauthenticationRequired | null {
  if (status !== 401) return null;
  const parsed = flowsSchema.safeParse(body);
  if (!parsed.success) return null;
  const ids = new Set(parsed.data.data.flows.map((flow) => flow.id));
  const methods: ReauthenticationMethod[] = [];
  if (ids.has("reauthenticate")) methods.push("password");
  if (ids.has("mfa_reauthenticate")) methods.push("code");
  return methods.length > 0 ? new ReauthenticationRequired(methods) : null;
}

const authenticatorSchema = z.object({
  type: z.string(),
  created_at: z.number(),
  last_used_at: z.nullable(z.number()),
  total_code_count: z.optional(z.number()),
  unused_code_count: z.optional(z.number()),
});

const authenticatorsSchema = z.object({ status: z.literal(200), data: z.array(authenticatorSchema) });

const totpOfferSchema = z.object({
  status: z.literal(404),
  meta: z.object({ secret: z.string(), totp_url: z.string() }),
});

const recoveryCodesSchema = z.object({
  status: z.literal(200),
  data: z.object({
    total_code_count: z.number(),
    unused_code_count: z.number(),
    unused_codes: z.optional(z.array(z.string())),
  }),
});

/** What the person has set up (times in seconds since the epoch, as allauth answers). */
export interface TwoFactorStatus {
  totp: { createdAt: number; lastUsedAt: number | null } | null;
  recoveryCodes: { total: number; unused: number } | null;
}

/** A new authenticator app's secret, to type in or scan as `url` (`otpauth://totp/...`). */
export interface TotpOffer {
  secret: string;
  url: string;
}

/** Recovery codes: `codes` only when they may be shown (once, right after they are made). */
export interface RecoveryCodes {
  total: number;
  unused: number;
  codes: readonly string[] | null;
}

function invalidAnswer(status: number): AllauthError {
  return new AllauthError(status, ["The server's answer was not understood. Reload the page and try again."]);
}

/** Throws the refusal in `answer` (a reauthentication to do, or allauth's messages) unless its status is one of `ok`. */
function expect(answer: { status: number; body: unknown }, ok: readonly number[]): void {
  if (ok.includes(answer.status)) return;
  throw reauthenticationOf(answer.status, answer.body) ?? toAllauthError(answer.status, answer.body);
}

function recoveryCodesOf(answer: { status: number; body: unknown }): RecoveryCodes {
  const parsed = recoveryCodesSchema.safeParse(answer.body);
  if (!parsed.success) throw invalidAnswer(answer.status);
  const { total_code_count, unused_code_count, unused_codes } = parsed.data.data;
  return { total: total_code_count, unused: unused_code_count, codes: unused_codes ?? null };
}

export function createMfaApi(send: AllauthSend) {
  return {
    /** The log-in's second step: a code from the authenticator app, or a recovery code. */
    async authenticate(code: string): Promise<void> {
      expect(await send("POST", "/auth/2fa/authenticate", { code }), [200]);
    },

    /** Confirms who the logged-in person is with their password (for the next few minutes). */
    async reauthenticate(password: string): Promise<void> {
      expect(await send("POST", "/auth/reauthenticate", { password }), [200]);
    },

    /** Confirms who the logged-in person is with an app code or a recovery code. */
    async reauthenticateWithCode(code: string): Promise<void> {
      expect(await send("POST", "/auth/2fa/reauthenticate", { code }), [200]);
    },

    async status(): Promise<TwoFactorStatus> {
      const answer = await send("GET", "/account/authenticators");
      expect(answer, [200]);
      const parsed = authenticatorsSchema.safeParse(answer.body);
      if (!parsed.success) throw invalidAnswer(answer.status);
      const totp = parsed.data.data.find((item) => item.type === "totp");
      const codes = parsed.data.data.find((item) => item.type === "recovery_codes");
      return {
        totp: totp ? { createdAt: totp.created_at, lastUsedAt: totp.last_used_at } : null,
        recoveryCodes: codes ? { total: codes.total_code_count ?? 0, unused: codes.unused_code_count ?? 0 } : null,
      };
    },

    /** A new secret for an authenticator app (allauth keeps it in the session until it is confirmed). */
    async totpOffer(): Promise<TotpOffer> {
      const answer = await send("GET", "/account/authenticators/totp");
      expect(answer, [404]);
      const parsed = totpOfferSchema.safeParse(answer.body);
      if (!parsed.success) throw invalidAnswer(answer.status);
      return { secret: parsed.data.meta.secret, url: parsed.data.meta.totp_url };
    },

    /** Turns the offered secret on with a code the app shows (recovery codes are made with it). */
    async totpActivate(code: string): Promise<void> {
      expect(await send("POST", "/account/authenticators/totp", { code }), [200]);
    },

    /** Turns the authenticator app off (and with it the recovery codes). */
    async totpDeactivate(): Promise<void> {
      expect(await send("DELETE", "/account/authenticators/totp"), [200]);
    },

    /** The recovery codes: the codes themselves only the first time after they were made. */
    async recoveryCodes(): Promise<RecoveryCodes> {
      const answer = await send("GET", "/account/authenticators/recovery-codes");
      expect(answer, [200]);
      return recoveryCodesOf(answer);
    },

    /** New recovery codes (the old ones stop working), shown this once. */
    async recoveryCodesRegenerate(): Promise<RecoveryCodes> {
      const answer = await send("POST", "/account/authenticators/recovery-codes");
      expect(answer, [200]);
      return recoveryCodesOf(answer);
    },
  };
}

export type MfaApi = ReturnType<typeof createMfaApi>;
