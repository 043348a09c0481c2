import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";

import { createApiClient, type ApiClient, type FetchFunction } from "@/lib/api/client";
import { ApiClientProvider } from "@/lib/api/context";
import type { Task } from "@/lib/api/types";

export const BASE_URL = "http://web.test";

export function jsonResponse(status: number, body: unknown, contentType = "application/json"): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": contentType } });
}

export function problemResponse(
  status: number,
  problem: { title: string; detail?: string; errors?: { field: string; message: string }[] },
): Response {
  return jsonResponse(status, { type: "about:blank", status, ...problem }, "application/problem+json");
}

/** A request the fake fetch received, with its body already read. */
export interface SentRequest {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: Headers;
  credentials: RequestCredentials;
  body: unknown;
}

type Route = (request: SentRequest) => Response | Promise<Response> | undefined;

/**
 * A fetch mock for the API client: `route` answers each request (undefined → 404), and every
 * request is recorded in `sent`. No network is involved.
 */
export function fakeFetch(route: Route) {
  const sent: SentRequest[] = [];
  const fetch = vi.fn<FetchFunction>(async (request) => {
    const url = new URL(request.url);
    const text = await request.text();
    const sentRequest: SentRequest = {
      method: request.method,
      path: url.pathname,
      search: url.searchParams,
      headers: request.headers,
      credentials: request.credentials,
      body: text === "" ? undefined : (JSON.parse(text) as unknown),
    };
    sent.push(sentRequest);
    return (await route(sentRequest)) ?? problemResponse(404, { title: "Not Found" });
  });
  return { fetch, sent };
}

export function makeClient(fetch: FetchFunction): ApiClient {
  return createApiClient({ fetch, baseUrl: BASE_URL });
}

export function renderWithApi(ui: ReactElement, client: ApiClient) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={queryClient}>
      <ApiClientProvider client={client}>{ui}</ApiClientProvider>
    </QueryClientProvider>,
  );
}

let taskCounter = 0;

export function makeTask(overrides: Partial<Task> = {}): Task {
  taskCounter += 1;
  return {
    id: `00000000-0000-4000-8000-${String(taskCounter).padStart(12, "0")}`,
    title: `Task ${taskCounter}`,
    description: "",
    attributes: { reach: 100, impact: 5, confidence: 80, effort: 3 },
    status: "queued",
    failure_reason: null,
    created_at: "2026-01-02T03:04:05Z",
    updated_at: "2026-01-02T03:04:05Z",
    score: null,
    ...overrides,
  };
}

export function scoredTask(value: number, overrides: Partial<Task> = {}): Task {
  return makeTask({
    status: "scored",
    score: {
      value,
      version: 1,
      scored_at: "2026-01-02T03:05:00Z",
      breakdown: [
        { key: "reach", label: "Reach", kind: "attribute", weight: 0.4, value: 100, normalized: 0.1, contribution: 4 },
        { key: "effort", label: "Effort", kind: "attribute", weight: 0.2, value: 3, normalized: 0.7, contribution: 14 },
      ],
    },
    ...overrides,
  });
}
