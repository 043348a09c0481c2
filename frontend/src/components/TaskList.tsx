"use client";

import { ApiProblem } from "@/lib/api/problem";
import { tasksOf, useTasks } from "@/lib/queries";
import { isPending } from "@/lib/tasks";

import { TaskRow } from "./TaskRow";

export function TaskList({ org }: { org: string }) {
  const tasksQuery = useTasks(org);
  const tasks = tasksOf(tasksQuery.data);
  const pendingCount = tasks.filter(isPending).length;

  return (
    <section aria-labelledby="tasks-heading" aria-busy={tasksQuery.isPending} className="space-y-3">
      <div className="flex items-baseline justify-between gap-3">
        <h2 id="tasks-heading" className="text-lg font-semibold text-slate-900">
          Tasks
        </h2>
        {pendingCount > 0 ? (
          <p className="text-sm text-slate-500" aria-live="polite">
            Scoring {pendingCount} {pendingCount === 1 ? "task" : "tasks"}…
          </p>
        ) : null}
      </div>

      {tasksQuery.isPending ? (
        <p className="text-sm text-slate-500">Loading tasks…</p>
      ) : tasksQuery.isError && tasks.length === 0 ? (
        <p role="alert" className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-800">
          Tasks could not be loaded
          {tasksQuery.error instanceof ApiProblem ? `: ${tasksQuery.error.detail ?? tasksQuery.error.title}` : "."}
        </p>
      ) : tasks.length === 0 ? (
        <p className="rounded-xl border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-500">
          No tasks yet. Submit one and its score appears here.
        </p>
      ) : (
        <ul data-testid="task-list" className="space-y-3">
          {tasks.map((task) => (
            <TaskRow key={task.id} task={task} />
          ))}
        </ul>
      )}

      {tasksQuery.hasNextPage ? (
        <button
          type="button"
          onClick={() => void tasksQuery.fetchNextPage()}
          disabled={tasksQuery.isFetchingNextPage}
          className="w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-700 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:opacity-60"
        >
          {tasksQuery.isFetchingNextPage ? "Loading…" : "Load older tasks"}
        </button>
      ) : null}
    </section>
  );
}
