import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { notFound } from "next/navigation";

import { VersionPage } from "@/components/scoring/VersionPage";
import { modelQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

export const metadata: Metadata = { title: "Scoring version" };

export default async function ScoringVersionPage({ params }: { params: Promise<{ org: string; modelId: string; number: string }> }) {
  const { org: rawOrg, modelId: rawModelId, number: rawNumber } = await params;
  const org = decodeURIComponent(rawOrg);
  const modelId = Number(rawModelId);
  const number = Number(rawNumber);
  if (!Number.isSafeInteger(modelId) || !Number.isSafeInteger(number) || modelId < 1 || number < 1) notFound();
  const state = await prefetch((queryClient, api) => queryClient.prefetchQuery(modelQuery(api, org, modelId)));
  return (
    <HydrationBoundary state={state}>
      <VersionPage org={org} modelId={modelId} number={number} />
    </HydrationBoundary>
  );
}
