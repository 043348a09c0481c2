import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";

import { AIPage } from "@/components/ai/AIPage";
import { aiSettingsQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

export const metadata: Metadata = { title: "AI" };

export default async function AISettingsPage({ params }: { params: Promise<{ org: string }> }) {
  const org = decodeURIComponent((await params).org);
  const state = await prefetch((queryClient, api) => queryClient.prefetchQuery(aiSettingsQuery(api, org)));
  return (
    <HydrationBoundary state={state}>
      <AIPage org={org} />
    </HydrationBoundary>
  );
}
