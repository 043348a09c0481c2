import type { Task, TaskPage, TaskScore, TaskStatus } from "./api/types";

/** Every task status, in lifecycle order. The checks below fail to compile if the API adds one. */
export const TASK_STATUSES = ["queued", "scoring", "scored", "failed"] as const satisfies readonly TaskStatus[];
type ListedStatus = (typeof TASK_STATUSES)[number];
type MissingStatus = Exclude<TaskStatus, ListedStatus>;
const everyStatusListed: MissingStatus extends never ? true : false = true;
void everyStatusListed;

/** Statuses whose score is still on its way. */
export const PENDING_STATUSES: ReadonlySet<TaskStatus> = new Set<TaskStatus>(["queued", "scoring"]);

/** Polling while a task awaits its score: from 1 s, growing while nothing changes, to 10 s. */
export const POLL_MIN_MS = 1000;
export const POLL_MAX_MS = 10_000;
export const POLL_BACKOFF = 1.6;
/** With nothing pending, the list still looks for tasks submitted elsewhere (another tab, the API). */
export const POLL_IDLE_MS = 30_000;

export function isPending(task: Pick<Task, "status">): boolean {
  return PENDING_STATUSES.has(task.status);
}

/** The next polling delay: back to the minimum after a change, else a little longer, up to the max. */
export function nextPollDelay(previous: number | undefined, changed: boolean): number {
  if (previous === undefined || changed) return POLL_MIN_MS;
  return Math.min(POLL_MAX_MS, Math.round(previous * POLL_BACKOFF));
}

/** What the polling watches of a task (a whole task, or a row of the list). */
type PolledTask = Pick<Task, "id" | "status"> & { score: Pick<TaskScore, "value"> | null };

/** What the polling watches: each task's id, status and score. */
export function tasksFingerprint(tasks: readonly PolledTask[]): string {
  return tasks.map((task) => `${task.id}:${task.status}:${task.score?.value ?? ""}`).join("|");
}

/**
 * A stateful refetch-interval function for a list of tasks: fast while tasks are pending and
 * things change, backing off while they do not, and slow when nothing is pending.
 */
export function createTaskPoller() {
  let delay: number | undefined;
  let lastFingerprint: string | undefined;
  return (tasks: readonly PolledTask[] | undefined): number => {
    if (tasks === undefined) return POLL_MIN_MS;
    const fingerprint = tasksFingerprint(tasks);
    const changed = fingerprint !== lastFingerprint;
    lastFingerprint = fingerprint;
    if (!tasks.some(isPending)) {
      delay = undefined;
      return POLL_IDLE_MS;
    }
    delay = nextPollDelay(delay, changed);
    return delay;
  };
}

/**
 * A task as a row of the task list shows it (and its polling watches). The list keeps only this of
 * each task: the first page is rendered by the server and sent to the browser with the page, where
 * the whole task (description, attributes, breakdown, overrides) would be most of its weight.
 */
export interface TaskRow {
  id: Task["id"];
  title: Task["title"];
  status: TaskStatus;
  created_at: Task["created_at"];
  score: Pick<TaskScore, "value" | "machine_value" | "overridden"> | null;
}

export interface TaskRowPage extends Omit<TaskPage, "items"> {
  items: TaskRow[];
}

export function taskRowOf(task: Task): TaskRow {
  const { id, title, status, created_at, score } = task;
  return {
    id,
    title,
    status,
    created_at,
    score: score ? { value: score.value, machine_value: score.machine_value, overridden: score.overridden } : null,
  };
}

export function taskRowPageOf(page: TaskPage): TaskRowPage {
  return { ...page, items: page.items.map(taskRowOf) };
}
