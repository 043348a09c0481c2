import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";

import { MembersScreen } from "@/components/access/MembersScreen";
import { invitationListQuery, memberListQuery, rolesQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

export const metadata: Metadata = { title: "Members" };

export default async function MembersPage({ params }: { params: Promise<{ org: string }> }) {
  const org = decodeURIComponent((await params).org);
  // A role without members.read gets refusals here, left out of the first screen (it says why).
  const state = await prefetch((queryClient, api) =>
    Promise.all([
      queryClient.prefetchInfiniteQuery(memberListQuery(api, org)),
      queryClient.prefetchInfiniteQuery(invitationListQuery(api, org)),
      queryClient.prefetchQuery(rolesQuery(api, org)),
    ]),
  );
  return (
    <HydrationBoundary state={state}>
      <MembersScreen org={org} />
    </HydrationBoundary>
  );
}
