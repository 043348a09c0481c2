import "server-only";

import { dehydrate, QueryClient, type DehydratedState } from "@tanstack/react-query";
import createClient, { type Client } from "openapi-fetch";
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";

import { ApiProblem } from "@/lib/api/problem";
import type { paths } from "@/lib/api/schema";
import { getServerEnv } from "@/lib/env";
import { loginPath } from "@/lib/paths";
import { PATHNAME_HEADER } from "@/proxy";

const SERVER_FETCH_TIMEOUT_MS = 5000;

/**
 * The typed API client for server components: it calls Django directly (not through the proxy)
 * with the visitor's cookies, so the first screen renders with data in it.
 */
export async function serverApi(): Promise<Client<paths>> {
  const cookieHeader = (await cookies()).toString();
  return createClient<paths>({
    baseUrl: getServerEnv().DJANGO_ORIGIN,
    headers: { Accept: "application/json", ...(cookieHeader ? { Cookie: cookieHeader } : {}) },
    fetch: (request) => fetch(request, { cache: "no-store", signal: AbortSignal.timeout(SERVER_FETCH_TIMEOUT_MS) }),
  });
}

/** The path being rendered (set by the proxy), for redirects that bring the visitor back. */
export async function currentPath(): Promise<string> {
  return (await headers()).get(PATHNAME_HEADER) ?? "/";
}

/**
 * Runs the first screen's queries on the server and returns their state for a
 * `<HydrationBoundary>`. A failed query is left out: the client asks again and shows its own
 * error or loading state. A 401 sends the visitor to the login page.
 */
export async function prefetch(
  run: (queryClient: QueryClient, api: Client<paths>) => Promise<unknown>,
): Promise<DehydratedState> {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: 5_000 } } });
  const api = await serverApi();
  try {
    await run(queryClient, api);
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) redirect(loginPath(await currentPath()));
    // Anything else: render without the data; the client retries and explains.
  }
  for (const query of queryClient.getQueryCache().getAll()) {
    const error = query.state.error;
    if (error instanceof ApiProblem && error.status === 401) redirect(loginPath(await currentPath()));
  }
  return dehydrate(queryClient);
}

/** Whether the backend keeps mail in a local outbox (under `make run`), asked server to server. */
export async function isOutboxAvailable(): Promise<boolean> {
  try {
    const response = await fetch(new URL("/api/dev/outbox", getServerEnv().DJANGO_ORIGIN), {
      headers: { Accept: "application/json" },
      cache: "no-store",
      signal: AbortSignal.timeout(SERVER_FETCH_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
