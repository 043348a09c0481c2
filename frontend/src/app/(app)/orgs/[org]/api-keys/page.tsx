import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { headers } from "next/headers";

import { ApiKeysScreen } from "@/components/access/ApiKeysScreen";
import { apiKeyListQuery, rolesQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

export const metadata: Metadata = { title: "API keys" };

/** The origin the visitor asked for (behind a proxy, the one it forwards), for the usage example. */
async function requestOrigin(): Promise<string> {
  const requestHeaders = await headers();
  const host = requestHeaders.get("x-forwarded-host") ?? requestHeaders.get("host") ?? "localhost";
  const protocol = requestHeaders.get("x-forwarded-proto") ?? "http";
  return `${protocol.split(",")[0]?.trim() ?? "http"}://${host.split(",")[0]?.trim() ?? host}`;
}

export default async function ApiKeysPage({ params }: { params: Promise<{ org: string }> }) {
  const org = decodeURIComponent((await params).org);
  const state = await prefetch((queryClient, api) =>
    Promise.all([queryClient.prefetchInfiniteQuery(apiKeyListQuery(api, org)), queryClient.prefetchQuery(rolesQuery(api, org))]),
  );
  return (
    <HydrationBoundary state={state}>
      <ApiKeysScreen org={org} serverOrigin={await requestOrigin()} />
    </HydrationBoundary>
  );
}
