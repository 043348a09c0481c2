import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";

import { TasksScreen } from "@/components/tasks/TasksScreen";
import { activeVersionQuery, taskListQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";
import { filtersFromParams } from "@/lib/task-filters";

export const metadata: Metadata = { title: "Tasks" };

export default async function TasksPage({
  params,
  searchParams,
}: {
  params: Promise<{ org: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const org = decodeURIComponent((await params).org);
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(await searchParams)) if (typeof value === "string") search.set(name, value);
  const state = await prefetch((queryClient, api) =>
    Promise.all([
      queryClient.prefetchInfiniteQuery(taskListQuery(api, org, filtersFromParams(search))),
      queryClient.prefetchQuery(activeVersionQuery(api, org)),
    ]),
  );
  return (
    <HydrationBoundary state={state}>
      <TasksScreen org={org} />
    </HydrationBoundary>
  );
}
