"use client";

import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

import { ToastProvider, useRememberTimeZone } from "@/components/ui";
import { AllauthError } from "@/lib/api/allauth";
import { ApiClientProvider } from "@/lib/api/context";
import { ApiProblem } from "@/lib/api/problem";
import { loginPath } from "@/lib/paths";
import { queryKeys, type PermissionDenial } from "@/lib/queries/keys";

const MAX_RETRIES = 2;

/** Retries network and server errors only: a 4xx answer will not change by asking again. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (error instanceof ApiProblem || error instanceof AllauthError) {
    return error.status >= 500 && failureCount < MAX_RETRIES;
  }
  return failureCount < MAX_RETRIES;
}

/** A 401 anywhere means the session ended: log in again and come back here. */
export function redirectToLoginOnUnauthenticated(error: unknown): void {
  if (!(error instanceof ApiProblem) || error.status !== 401 || typeof window === "undefined") return;
  if (window.location.pathname === "/login") return;
  window.location.assign(loginPath(window.location.pathname + window.location.search));
}

/**
 * A 403 for a missing permission means the person's role is not what the page believed (it was
 * changed, or a role they hold was): load their permissions again, so the page shows what the role
 * allows now. The refusal itself is explained where it happened.
 */
export function reloadPermissionsOnDenial(error: unknown, queryClient: QueryClient): void {
  if (error instanceof ApiProblem && error.status === 403 && error.code === "permission-denied") {
    queryClient.setQueryData<PermissionDenial>(queryKeys.lastDenial, { permission: error.permission, at: Date.now() });
    void queryClient.invalidateQueries({ queryKey: queryKeys.me });
  }
}

/**
 * A 403 `mfa-required` means the org now requires two-factor authentication of the person's role
 * and they have none: load the person again, so the shell shows how to set it up.
 */
export function reloadAccountOnMfaRequired(error: unknown, queryClient: QueryClient): void {
  if (error instanceof ApiProblem && error.status === 403 && error.code === "mfa-required") {
    void queryClient.invalidateQueries({ queryKey: queryKeys.me });
  }
}

export function makeQueryClient(): QueryClient {
  const queryClient: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error) => {
        redirectToLoginOnUnauthenticated(error);
        reloadPermissionsOnDenial(error, queryClient);
        reloadAccountOnMfaRequired(error, queryClient);
      },
    }),
    mutationCache: new MutationCache({
      onError: (error) => {
        redirectToLoginOnUnauthenticated(error);
        reloadPermissionsOnDenial(error, queryClient);
        reloadAccountOnMfaRequired(error, queryClient);
      },
    }),
    defaultOptions: {
      queries: { retry: shouldRetry, refetchOnWindowFocus: true, staleTime: 2_000 },
      mutations: { retry: false },
    },
  });
  return queryClient;
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  useRememberTimeZone();
  return (
    <QueryClientProvider client={queryClient}>
      <ApiClientProvider>
        <ToastProvider>{children}</ToastProvider>
      </ApiClientProvider>
    </QueryClientProvider>
  );
}
