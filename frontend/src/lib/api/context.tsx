"use client";

import { createContext, useContext, useState, type ReactNode } from "react";

import { createApiClient, type ApiClient } from "./client";

const ApiClientContext = createContext<ApiClient | null>(null);

/** Provides the API client; tests pass a client built around a fetch mock. */
export function ApiClientProvider({ client, children }: { client?: ApiClient; children: ReactNode }) {
  const [defaultClient] = useState(() => client ?? createApiClient());
  return <ApiClientContext.Provider value={client ?? defaultClient}>{children}</ApiClientContext.Provider>;
}

export function useApiClient(): ApiClient {
  const client = useContext(ApiClientContext);
  if (client === null) throw new Error("useApiClient must be used inside <ApiClientProvider>");
  return client;
}
