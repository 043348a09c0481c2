import { HydrationBoundary } from "@tanstack/react-query";
import { cookies } from "next/headers";
import type { ReactNode } from "react";

import { TimeZoneProvider } from "@/components/ui";

import { meQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";
import { TIME_ZONE_COOKIE, validTimeZone } from "@/lib/time-zone";

/** Every logged-in page: the person (and their orgs) is loaded on the server for the first screen. */
export default async function AppLayout({ children }: { children: ReactNode }) {
  const state = await prefetch((queryClient, api) => queryClient.fetchQuery(meQuery(api)));
  const timeZone = validTimeZone((await cookies()).get(TIME_ZONE_COOKIE)?.value);
  return (
    <TimeZoneProvider timeZone={timeZone}>
      <HydrationBoundary state={state}>{children}</HydrationBoundary>
    </TimeZoneProvider>
  );
}
