import type { TaskStatus } from "@/lib/api/types";

interface StatusBadgeStyle {
  label: string;
  /** Said to screen readers after the label. */
  description: string;
  className: string;
  dotClassName: string;
}

/** How each status looks. A `Record` so that a new status fails to compile until it is styled. */
export const STATUS_BADGE: Record<TaskStatus, StatusBadgeStyle> = {
  queued: {
    label: "Queued",
    description: "waiting to be scored",
    className: "bg-slate-100 text-slate-700 ring-slate-300",
    dotClassName: "bg-slate-400",
  },
  scoring: {
    label: "Scoring",
    description: "score being computed",
    className: "bg-sky-50 text-sky-800 ring-sky-300",
    dotClassName: "bg-sky-500 animate-pulse",
  },
  scored: {
    label: "Scored",
    description: "score ready",
    className: "bg-emerald-50 text-emerald-800 ring-emerald-300",
    dotClassName: "bg-emerald-500",
  },
  failed: {
    label: "Failed",
    description: "scoring failed",
    className: "bg-rose-50 text-rose-800 ring-rose-300",
    dotClassName: "bg-rose-500",
  },
};

export function StatusBadge({ status }: { status: TaskStatus }) {
  const style = STATUS_BADGE[status];
  return (
    <span
      data-testid="status-badge"
      className={`inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ring-inset ${style.className}`}
    >
      <span aria-hidden="true" className={`size-1.5 rounded-full ${style.dotClassName}`} />
      {style.label}
      <span className="sr-only">: {style.description}</span>
    </span>
  );
}
