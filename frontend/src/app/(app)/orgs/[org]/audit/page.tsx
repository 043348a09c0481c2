import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";

import { AuditLogScreen } from "@/components/access/AuditLogScreen";
import { auditFiltersFromParams } from "@/lib/audit";
import { auditListQuery, rolesQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

export const metadata: Metadata = { title: "Audit log" };

export default async function AuditLogPage({
  params,
  searchParams,
}: {
  params: Promise<{ org: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const org = decodeURIComponent((await params).org);
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(await searchParams)) if (typeof value === "string") search.set(name, value);
  const filters = auditFiltersFromParams(search);
  // Days are the reader's, which only the browser knows: a view with dates is fetched there.
  const hasDays = filters.from !== undefined || filters.to !== undefined;
  const state = await prefetch((queryClient, api) =>
    Promise.all([
      hasDays ? Promise.resolve() : queryClient.prefetchInfiniteQuery(auditListQuery(api, org, filters)),
      queryClient.prefetchQuery(rolesQuery(api, org)),
    ]),
  );
  return (
    <HydrationBoundary state={state}>
      <AuditLogScreen org={org} />
    </HydrationBoundary>
  );
}
