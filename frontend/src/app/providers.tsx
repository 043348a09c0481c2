"use client";

import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

import { ToastProvider, useRememberTimeZone } from "@/components/ui";
import { AllauthError } from "@/lib/api/allauth";
import { ApiClientProvider } from "@/lib/api/context";
import { ApiProblem } from "@/lib/api/problem";
import { loginPath } from "@/lib/paths";

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

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({ onError: redirectToLoginOnUnauthenticated }),
    mutationCache: new MutationCache({ onError: redirectToLoginOnUnauthenticated }),
    defaultOptions: {
      queries: { retry: shouldRetry, refetchOnWindowFocus: true, staleTime: 2_000 },
      mutations: { retry: false },
    },
  });
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
