import type { Task, TaskStatus } from "./api/types";

/** Every task status, in lifecycle order. The checks below fail to compile if the API adds one. */
export const TASK_STATUSES = ["queued", "scoring", "scored", "failed"] as const satisfies readonly TaskStatus[];
type ListedStatus = (typeof TASK_STATUSES)[number];
type MissingStatus = Exclude<TaskStatus, ListedStatus>;
const everyStatusListed: MissingStatus extends never ? true : false = true;
void everyStatusListed;

/** Statuses whose score is still on its way. */
export const PENDING_STATUSES: ReadonlySet<TaskStatus> = new Set<TaskStatus>(["queued", "scoring"]);

export const POLL_INTERVAL_MS = 1000;

export function isPending(task: Pick<Task, "status">): boolean {
  return PENDING_STATUSES.has(task.status);
}

/** How often to refetch the task list: every second while a task awaits its score, else never. */
export function taskListPollInterval(tasks: readonly Pick<Task, "status">[] | undefined): number | false {
  return tasks?.some(isPending) ? POLL_INTERVAL_MS : false;
}

/** A score as shown to people: one decimal (`72.5`). */
export function formatScore(value: number): string {
  return value.toFixed(1);
}

export function formatNumber(value: number | null, maximumFractionDigits = 2): string {
  if (value === null) return "—";
  return new Intl.NumberFormat("en", { maximumFractionDigits }).format(value);
}

const dateTimeFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTimeFormat.format(date);
}
