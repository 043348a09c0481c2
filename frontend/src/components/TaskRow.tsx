import type { Task, TaskScore } from "@/lib/api/types";
import { formatDateTime, formatNumber, formatScore } from "@/lib/tasks";

import { StatusBadge } from "./StatusBadge";

function ScoreBreakdown({ score, taskTitle }: { score: TaskScore; taskTitle: string }) {
  return (
    <details className="group mt-3 rounded-lg border border-slate-200 bg-slate-50/60">
      <summary className="cursor-pointer select-none rounded-lg px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-500">
        Score breakdown
        <span className="sr-only"> for {taskTitle}</span>
      </summary>
      <div className="overflow-x-auto px-3 pb-3">
        <table className="w-full min-w-[28rem] text-left text-sm">
          <caption className="sr-only">How the score of {taskTitle} was computed</caption>
          <thead className="text-xs uppercase tracking-wide text-slate-500">
            <tr>
              <th scope="col" className="py-2 pr-3 font-medium">Factor</th>
              <th scope="col" className="py-2 pr-3 text-right font-medium">Value</th>
              <th scope="col" className="py-2 pr-3 text-right font-medium">Weight</th>
              <th scope="col" className="py-2 pr-3 text-right font-medium">Normalized</th>
              <th scope="col" className="py-2 text-right font-medium">Contribution</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-200 tabular-nums">
            {score.breakdown.map((item) => (
              <tr key={item.key}>
                <th scope="row" className="py-1.5 pr-3 align-top font-normal text-slate-800">
                  {item.label}
                  {item.kind === "ai" ? (
                    <span className="ml-1.5 rounded bg-violet-100 px-1 py-0.5 text-[0.65rem] font-semibold uppercase text-violet-800">
                      AI
                    </span>
                  ) : null}
                  {item.rationale ? (
                    <span className="mt-0.5 block text-xs font-normal text-slate-500">{item.rationale}</span>
                  ) : null}
                </th>
                <td className="py-1.5 pr-3 text-right align-top">{formatNumber(item.value)}</td>
                <td className="py-1.5 pr-3 text-right align-top">{formatNumber(item.weight)}</td>
                <td className="py-1.5 pr-3 text-right align-top">{formatNumber(item.normalized, 3)}</td>
                <td className="py-1.5 text-right align-top font-medium">{formatNumber(item.contribution)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr className="border-t border-slate-300">
              <th scope="row" colSpan={4} className="py-1.5 pr-3 text-right font-medium text-slate-700">
                Score (formula v{score.version})
              </th>
              <td className="py-1.5 text-right font-semibold">{formatScore(score.value)}</td>
            </tr>
          </tfoot>
        </table>
      </div>
    </details>
  );
}

export function TaskRow({ task }: { task: Task }) {
  const { score } = task;
  return (
    <li
      data-testid="task-row"
      data-status={task.status}
      data-task-id={task.id}
      className="rounded-xl border border-slate-200 bg-white p-4 shadow-sm"
    >
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0 flex-1">
          <h3 className="break-words font-medium text-slate-900">{task.title}</h3>
          <p className="mt-0.5 text-xs text-slate-500">
            Submitted <time dateTime={task.created_at}>{formatDateTime(task.created_at)}</time>
          </p>
        </div>
        <div className="flex items-center gap-3">
          <StatusBadge status={task.status} />
          {task.status === "scored" && score ? (
            <p className="text-right">
              <span className="sr-only">Score: </span>
              <span data-testid="task-score" className="text-2xl font-semibold tabular-nums text-slate-900">
                {formatScore(score.value)}
              </span>
              <span aria-hidden="true" className="text-xs text-slate-500"> / 100</span>
            </p>
          ) : null}
        </div>
      </div>
      {task.description ? (
        <p className="mt-2 whitespace-pre-line break-words text-sm text-slate-600">{task.description}</p>
      ) : null}
      {task.status === "failed" ? (
        <p data-testid="task-failure" className="mt-2 rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-800">
          <span className="font-medium">Scoring failed: </span>
          {task.failure_reason ?? "No reason was given."}
        </p>
      ) : null}
      {task.status === "scored" && score && score.breakdown.length > 0 ? (
        <ScoreBreakdown score={score} taskTitle={task.title} />
      ) : null}
    </li>
  );
}
