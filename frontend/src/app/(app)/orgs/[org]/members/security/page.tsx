import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";

import { SecurityScreen } from "@/components/access/SecurityScreen";
import { securityQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

export const metadata: Metadata = { title: "Security" };

export default async function SecurityPage({ params }: { params: Promise<{ org: string }> }) {
  const org = decodeURIComponent((await params).org);
  const state = await prefetch((queryClient, api) => queryClient.prefetchQuery(securityQuery(api, org)));
  return (
    <HydrationBoundary state={state}>
      <SecurityScreen org={org} />
    </HydrationBoundary>
  );
}
