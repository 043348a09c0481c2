import createClient, { type Middleware } from "openapi-fetch";

import { ALLAUTH_BASE, allauthSessionSchema, toAllauthError, type AllauthUser } from "./allauth";
import { CSRF_COOKIE_NAME, CSRF_HEADER_NAME, readDocumentCookie } from "./cookies";
import { ApiProblem, toApiProblem } from "./problem";
import type { paths } from "./schema";
import type { Me, Task, TaskInput, TaskPage } from "./types";

export type FetchFunction = (request: Request) => Promise<Response>;

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
export const TASK_PAGE_SIZE = 50;

function defaultBaseUrl(): string {
  return typeof window === "undefined" ? "" : window.location.origin;
}

type ApiResult<Data> = { data?: Data; error?: unknown; response: Response };

/** Returns the data of a successful openapi-fetch result, or throws the answer as `ApiProblem`. */
function unwrap<Data>(result: ApiResult<Data>): Data {
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
  async function allauthRequest(method: string, path: string, body?: unknown): Promise<Response> {
    const headers = new Headers({ Accept: "application/json" });
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

  return {
    /** The underlying openapi-fetch client, for endpoints without a helper below. */
    raw: api,

    ensureCsrfToken,

    async me(): Promise<Me> {
      return unwrap(await api.GET("/api/v2/me"));
    },

    async listTasks(org: string, cursor?: string | null): Promise<TaskPage> {
      return unwrap(
        await api.GET("/api/v2/orgs/{org}/tasks", {
          params: { path: { org }, query: { limit: TASK_PAGE_SIZE, ...(cursor ? { cursor } : {}) } },
        }),
      );
    },

    async getTask(org: string, taskId: string): Promise<Task> {
      return unwrap(
        await api.GET("/api/v2/orgs/{org}/tasks/{task_id}", {
          params: { path: { org, task_id: taskId } },
        }),
      );
    },

    async submitTask(org: string, input: TaskInput): Promise<Task> {
      return unwrap(await api.POST("/api/v2/orgs/{org}/tasks", { params: { path: { org } }, body: input }));
    },

    /** Logs in with email and password; throws `AllauthError` with allauth's messages. */
    async login(credentials: { email: string; password: string }): Promise<AllauthUser | null> {
      const response = await allauthRequest("POST", "/auth/login", credentials);
      const body = await readJson(response);
      // 409: a session is already logged in, which is what the caller wants.
      if (response.status === 409) return null;
      if (response.status !== 200) throw toAllauthError(response.status, body);
      const session = allauthSessionSchema.safeParse(body);
      return session.success ? session.data.data.user : null;
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
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
