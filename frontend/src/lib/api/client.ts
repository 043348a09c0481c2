import createClient, { type Middleware } from "openapi-fetch";

import {
  ALLAUTH_BASE,
  allauthSessionSchema,
  emailAddressListSchema,
  pendingFlowOf,
  toAllauthError,
  verificationInfoSchema,
  type AllauthUser,
  type EmailAddress,
} from "./allauth";
import { CSRF_COOKIE_NAME, CSRF_HEADER_NAME, readDocumentCookie } from "./cookies";
import { createMfaApi } from "./mfa";
import { ApiProblem, toApiProblem } from "./problem";
import type { paths } from "./schema";

export type FetchFunction = (request: Request) => Promise<Response>;

/** What a log-in did: logged in, or stopped at a step allauth waits on (`flow`, e.g. `verify_email`). */
export type LoginOutcome = { status: "logged-in"; user: AllauthUser | null } | { status: "pending"; flow: string };

export interface ApiClientOptions {
  /** The fetch to send requests with; tests pass a mock. Defaults to the global fetch. */
  fetch?: FetchFunction;
  /** Absolute origin of the web app; defaults to the page's origin (requests stay same-origin). */
  baseUrl?: string;
  /** Reads a cookie by name; defaults to `document.cookie`. */
  readCookie?: (name: string) => string | undefined;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
export const CSRF_ENDPOINT = "/api/v2/auth/csrf";
export const IDEMPOTENCY_HEADER = "Idempotency-Key";

function defaultBaseUrl(): string {
  return typeof window === "undefined" ? "" : window.location.origin;
}

type ApiResult<Data> = { data?: Data; error?: unknown; response: Response };

/** Returns the data of a successful openapi-fetch result, or throws the answer as `ApiProblem`. */
export function unwrap<Data>(result: ApiResult<Data>): Data {
  if (!result.response.ok) {
    throw toApiProblem(result.error, result.response);
  }
  if (result.data === undefined) {
    throw new ApiProblem({
      type: "about:blank",
      title: "Empty response",
      status: result.response.status,
      detail: "The server answered without a body.",
    });
  }
  return result.data;
}

/** Checks a result that has no body (204), throwing the answer as `ApiProblem` on an error. */
export function expectOk(result: { error?: unknown; response: Response }): void {
  if (!result.response.ok) throw toApiProblem(result.error, result.response);
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The typed client for the Django API (through the same-origin proxy). It sends cookies
 * same-origin, adds `X-CSRFToken` from the `csrftoken` cookie to every unsafe request
 * (fetching the cookie first when it is missing) and throws error answers as `ApiProblem`
 * (`/api/...`) or `AllauthError` (`/_allauth/...`).
 */
export function createApiClient(options: ApiClientOptions = {}) {
  const baseUrl = options.baseUrl ?? defaultBaseUrl();
  const sendRequest: FetchFunction = options.fetch ?? ((request) => globalThis.fetch(request));
  const readCookie = options.readCookie ?? readDocumentCookie;

  async function ensureCsrfToken(): Promise<string> {
    const existing = readCookie(CSRF_COOKIE_NAME);
    if (existing) return existing;
    const response = await sendRequest(
      new Request(new URL(CSRF_ENDPOINT, baseUrl || undefined), { method: "GET", credentials: "same-origin" }),
    );
    if (!response.ok) throw toApiProblem(await readJson(response), response);
    const token = readCookie(CSRF_COOKIE_NAME);
    if (!token) {
      throw new ApiProblem({
        type: "about:blank",
        title: "Missing CSRF cookie",
        status: response.status,
        detail: "The server did not set the CSRF cookie. Check that cookies are enabled.",
      });
    }
    return token;
  }

  const csrfMiddleware: Middleware = {
    async onRequest({ request }) {
      if (SAFE_METHODS.has(request.method)) return undefined;
      request.headers.set(CSRF_HEADER_NAME, await ensureCsrfToken());
      return request;
    },
  };

  const api = createClient<paths>({
    baseUrl,
    fetch: sendRequest,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  api.use(csrfMiddleware);

  /** A request to allauth's headless API, with the CSRF header on unsafe methods. */
  async function allauthRequest(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const headers = new Headers({ Accept: "application/json", ...extraHeaders });
    if (body !== undefined) headers.set("Content-Type", "application/json");
    if (!SAFE_METHODS.has(method)) headers.set(CSRF_HEADER_NAME, await ensureCsrfToken());
    const url = baseUrl ? new URL(`${ALLAUTH_BASE}${path}`, baseUrl) : `${ALLAUTH_BASE}${path}`;
    return sendRequest(
      new Request(url, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? null : JSON.stringify(body),
      }),
    );
  }

  /** Sends an allauth request and throws its refusal (any status but `okStatuses`). */
  async function allauthExpect(
    okStatuses: readonly number[],
    method: string,
    path: string,
    body?: unknown,
    extraHeaders?: Record<string, string>,
  ): Promise<{ status: number; body: unknown }> {
    const response = await allauthRequest(method, path, body, extraHeaders);
    const parsed = await readJson(response);
    if (!okStatuses.includes(response.status)) throw toAllauthError(response.status, parsed);
    return { status: response.status, body: parsed };
  }

  return {
    /** The typed openapi-fetch client for `/api/v2/...`; pair it with `unwrap`/`expectOk`. */
    api,
    ensureCsrfToken,

    /** Two-factor authentication: the log-in's second step, the authenticator app, recovery codes. */
    mfa: createMfaApi(async (method, path, body) => {
      const response = await allauthRequest(method, path, body);
      return { status: response.status, body: await readJson(response) };
    }),

    /**
     * Logs in with email and password: logged in, or waiting on a step (`verify_email`: the
     * address is not verified yet, and allauth has mailed a new link). Throws `AllauthError` with
     * allauth's messages when refused.
     */
    async login(credentials: { email: string; password: string }): Promise<LoginOutcome> {
      const response = await allauthRequest("POST", "/auth/login", credentials);
      const body = await readJson(response);
      // 409: a session is already logged in, which is what the caller wants.
      if (response.status === 409) return { status: "logged-in", user: null };
      const pendingFlow = response.status === 401 ? pendingFlowOf(body) : null;
      if (pendingFlow !== null) return { status: "pending", flow: pendingFlow };
      if (response.status !== 200) throw toAllauthError(response.status, body);
      const session = allauthSessionSchema.safeParse(body);
      return { status: "logged-in", user: session.success ? session.data.data.user : null };
    },

    /**
     * Signs up. The answer is the same whether or not the address has an account: nobody is
     * logged in until the mailed link verifies the address (an owner is mailed instead).
     */
    async signup(credentials: { email: string; password: string }): Promise<void> {
      // 401: the log-in waits on verifying the address, which is success here. 200: logged in.
      await allauthExpect([200, 401], "POST", "/auth/signup", credentials);
    },

    /** Whether the browser's session is logged in. */
    async isLoggedIn(): Promise<boolean> {
      const response = await allauthRequest("GET", "/auth/session");
      if (response.status === 200) return true;
      if (response.status === 401) return false;
      throw toAllauthError(response.status, await readJson(response));
    },

    /** Ends the session. allauth answers 401 ("no longer authenticated") on success. */
    async logout(): Promise<void> {
      const response = await allauthRequest("DELETE", "/auth/session");
      if (response.status === 401 || response.ok) return;
      throw toAllauthError(response.status, await readJson(response));
    },

    /** The address a verification key confirms; throws `AllauthError` for a bad or used key. */
    async verificationInfo(key: string): Promise<{ email: string }> {
      const { body } = await allauthExpect([200], "GET", "/auth/email/verify", undefined, {
        "X-Email-Verification-Key": key,
      });
      const parsed = verificationInfoSchema.safeParse(body);
      return { email: parsed.success ? parsed.data.data.email : "" };
    },

    /**
     * Confirms the address of a verification key (logged in or not). Says whether the person is
     * logged in now: the link logs in whoever signed up (or tried to log in) in this browser.
     */
    async verifyEmail(key: string): Promise<{ isLoggedIn: boolean }> {
      // 401 after a valid key means "verified; log in to continue".
      const { status } = await allauthExpect([200, 401], "POST", "/auth/email/verify", { key });
      return { isLoggedIn: status === 200 };
    },

    async listEmails(): Promise<EmailAddress[]> {
      const { body } = await allauthExpect([200], "GET", "/account/email");
      const parsed = emailAddressListSchema.safeParse(body);
      return parsed.success ? parsed.data.data : [];
    },

    /** Sends the verification mail of one of the user's addresses again. */
    async resendVerification(email: string): Promise<void> {
      await allauthExpect([200], "PUT", "/account/email", { email });
    },

    /** Adds an address; once it is verified it replaces the current one. */
    async changeEmail(email: string): Promise<void> {
      await allauthExpect([200], "POST", "/account/email", { email });
    },

    async changePassword(passwords: { currentPassword: string; newPassword: string }): Promise<void> {
      await allauthExpect([200], "POST", "/account/password/change", {
        current_password: passwords.currentPassword,
        new_password: passwords.newPassword,
      });
    },

    /** Mails a reset link to the address if it has an account (the answer never tells). */
    async requestPasswordReset(email: string): Promise<void> {
      await allauthExpect([200], "POST", "/auth/password/request", { email });
    },

    /** Throws `AllauthError` when the reset key is not valid (expired or used). */
    async checkPasswordResetKey(key: string): Promise<void> {
      await allauthExpect([200], "GET", "/auth/password/reset", undefined, { "X-Password-Reset-Key": key });
    },

    async resetPassword(reset: { key: string; password: string }): Promise<void> {
      // 401: the password is set and the person logs in with it next.
      await allauthExpect([200, 401], "POST", "/auth/password/reset", reset);
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** A new idempotency key: one per intended action, reused when that action is retried. */
export function newIdempotencyKey(): string {
  // randomUUID exists only in secure contexts (https, localhost); getRandomValues everywhere.
  if (typeof globalThis.crypto.randomUUID === "function") return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
