import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";

import { RolesScreen } from "@/components/access/RolesScreen";
import { permissionsQuery, rolesQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

export const metadata: Metadata = { title: "Roles" };

export default async function RolesPage({ params }: { params: Promise<{ org: string }> }) {
  const org = decodeURIComponent((await params).org);
  const state = await prefetch((queryClient, api) =>
    Promise.all([queryClient.prefetchQuery(rolesQuery(api, org)), queryClient.prefetchQuery(permissionsQuery(api, org))]),
  );
  return (
    <HydrationBoundary state={state}>
      <RolesScreen org={org} />
    </HydrationBoundary>
  );
}
