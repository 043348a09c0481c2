import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";

import { ScoringOverview } from "@/components/scoring/ScoringOverview";
import { activeVersionQuery, aiSettingsQuery, modelsQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

export const metadata: Metadata = { title: "Scoring" };

export default async function ScoringPage({ params }: { params: Promise<{ org: string }> }) {
  const org = decodeURIComponent((await params).org);
  const state = await prefetch((queryClient, api) =>
    Promise.all([
      queryClient.prefetchQuery(activeVersionQuery(api, org)),
      queryClient.prefetchQuery(modelsQuery(api, org)),
      queryClient.prefetchQuery(aiSettingsQuery(api, org)),
    ]),
  );
  return (
    <HydrationBoundary state={state}>
      <ScoringOverview org={org} />
    </HydrationBoundary>
  );
}
