import { HydrationBoundary } from "@tanstack/react-query";
import type { ReactNode } from "react";

import { meQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

/** Every logged-in page: the person (and their orgs) is loaded on the server for the first screen. */
export default async function AppLayout({ children }: { children: ReactNode }) {
  const state = await prefetch((queryClient, api) => queryClient.fetchQuery(meQuery(api)));
  return <HydrationBoundary state={state}>{children}</HydrationBoundary>;
}
