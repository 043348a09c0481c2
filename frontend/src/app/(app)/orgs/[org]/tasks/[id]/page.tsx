import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";

import { TaskDetail } from "@/components/tasks/TaskDetail";
import { activeVersionQuery, taskQuery, taskScoresQuery } from "@/lib/queries/options";
import { prefetch } from "@/lib/server/api";

export const metadata: Metadata = { title: "Task" };

export default async function TaskPage({ params }: { params: Promise<{ org: string; id: string }> }) {
  const { org: rawOrg, id: rawId } = await params;
  const org = decodeURIComponent(rawOrg);
  const id = decodeURIComponent(rawId);
  const state = await prefetch(async (queryClient, api) => {
    const [task] = await Promise.all([
      queryClient.fetchQuery(taskQuery(api, org, id)),
      queryClient.prefetchQuery(activeVersionQuery(api, org)),
    ]);
    await queryClient.prefetchQuery(taskScoresQuery(api, org, id, task.score?.scored_at));
  });
  return (
    <HydrationBoundary state={state}>
      <TaskDetail org={org} taskId={id} />
    </HydrationBoundary>
  );
}
