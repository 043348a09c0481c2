import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";

import { SettingsScreen } from "@/components/settings/SettingsScreen";
import { orgOf } from "@/lib/queries/me";
import { exportListQuery, meQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage({ params }: { params: Promise<{ org: string }> }) {
  const org = decodeURIComponent((await params).org);
  const state = await prefetch(async (queryClient, api) => {
    const me = await queryClient.fetchQuery(meQuery(api));
    // The exports are an owner's to see: nobody else's first screen asks for them.
    if (orgOf(me, org)?.permissions.includes("org.owner")) await queryClient.prefetchQuery(exportListQuery(api, org));
  });
  return (
    <HydrationBoundary state={state}>
      <SettingsScreen org={org} />
    </HydrationBoundary>
  );
}
