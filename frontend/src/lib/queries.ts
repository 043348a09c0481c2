"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";

import { useApiClient } from "./api/context";
import type { Task, TaskInput, TaskPage } from "./api/types";
import { taskListPollInterval } from "./tasks";

export const queryKeys = {
  me: ["me"] as const,
  tasks: (org: string) => ["orgs", org, "tasks"] as const,
};

export function useMe() {
  const client = useApiClient();
  return useQuery({ queryKey: queryKeys.me, queryFn: () => client.me() });
}

export function tasksOf(data: { pages: readonly TaskPage[] } | undefined): Task[] {
  return data?.pages.flatMap((page) => page.items) ?? [];
}

/** The org's tasks, newest first, page by page; refetched every second while any is pending. */
export function useTasks(org: string | undefined) {
  const client = useApiClient();
  return useInfiniteQuery({
    queryKey: queryKeys.tasks(org ?? ""),
    queryFn: ({ pageParam }) => client.listTasks(org ?? "", pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (lastPage) => lastPage.next_cursor ?? undefined,
    enabled: org !== undefined,
    refetchInterval: (query) => taskListPollInterval(tasksOf(query.state.data)),
  });
}

/** Puts a just-created task at the top of the first page so it shows before the next poll. */
export function prependTask(
  data: InfiniteData<TaskPage, string | null> | undefined,
  task: Task,
): InfiniteData<TaskPage, string | null> | undefined {
  if (data === undefined) return data;
  const [firstPage, ...otherPages] = data.pages;
  if (firstPage === undefined) return data;
  const items = [task, ...firstPage.items.filter((existing) => existing.id !== task.id)];
  return { ...data, pages: [{ ...firstPage, items }, ...otherPages] };
}

export function useSubmitTask(org: string) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: TaskInput) => client.submitTask(org, input),
    onSuccess: async (task) => {
      queryClient.setQueryData<InfiniteData<TaskPage, string | null>>(queryKeys.tasks(org), (data) =>
        prependTask(data, task),
      );
      await queryClient.invalidateQueries({ queryKey: queryKeys.tasks(org) });
    },
  });
}
