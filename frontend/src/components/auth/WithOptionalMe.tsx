import { HydrationBoundary } from "@tanstack/react-query";
import type { ReactNode } from "react";

import { optionalMeQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

/** Loads "who is this, if anyone" on the server for a page that anyone may open. */
export async function WithOptionalMe({ children }: { children: ReactNode }) {
  const state = await prefetch((queryClient, api) => queryClient.prefetchQuery(optionalMeQuery(api)));
  return <HydrationBoundary state={state}>{children}</HydrationBoundary>;
}
