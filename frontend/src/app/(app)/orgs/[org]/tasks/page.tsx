import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { Suspense } from "react";

import { TasksBody, TasksScreen } from "@/components/tasks/TasksScreen";
import { LoadingState } from "@/components/ui";
import type { TaskFilters } from "@/lib/queries/keys";
import { activeVersionQuery, taskListQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";
import { filtersFromParams } from "@/lib/task-filters";

export const metadata: Metadata = { title: "Tasks" };

/** The list's first page and the active model (for the form), fetched on the server. */
async function TasksData({ org, filters }: { org: string; filters: TaskFilters }) {
  const state = await prefetch((queryClient, api) =>
    Promise.all([
      queryClient.prefetchInfiniteQuery(taskListQuery(api, org, filters)),
      queryClient.prefetchQuery(activeVersionQuery(api, org)),
    ]),
  );
  return (
    <HydrationBoundary state={state}>
      <TasksBody org={org} />
    </HydrationBoundary>
  );
}

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
  // The header goes out at once; the form and the list follow when their data is in.
  return (
    <TasksScreen org={org}>
      <Suspense fallback={<LoadingState label="Loading tasks…" />}>
        <TasksData org={org} filters={filtersFromParams(search)} />
      </Suspense>
    </TasksScreen>
  );
}
