import type { ReactNode } from "react";

import { Badge } from "@/components/ui";
import type { ScoreBreakdownItem } from "@/lib/api/types";
import { breakdownBars, skipWords, type BreakdownBar } from "@/lib/breakdown";
import { formatNumber, formatPercent, formatScore } from "@/lib/format";

const SEGMENT_COLORS = ["bg-indigo-500", "bg-sky-500", "bg-emerald-500", "bg-amber-500", "bg-rose-500", "bg-violet-500", "bg-teal-500", "bg-orange-500"];

function colorOf(index: number): string {
  return SEGMENT_COLORS[index % SEGMENT_COLORS.length] ?? "bg-slate-500";
}

function valueWords(bar: BreakdownBar, value: number | null): string {
  return bar.kind === "ai" ? `${formatNumber(value)} of 10` : formatNumber(value);
}

/**
 * How a score was made: one bar for the whole score (each criterion's points stacked), then a row
 * per criterion with its value, its weight and the points it gave out of the points it could give.
 * A criterion left out (AI off, no field sent, AI budget used up) says so instead of a bar; a
 * person's value (an override) is shown beside the machine's. Every figure is also written out,
 * so the chart is readable without seeing colours. `action` renders a control per criterion.
 */
export function ScoreBreakdownChart({
  items,
  score,
  action,
}: {
  items: readonly ScoreBreakdownItem[];
  /** The machine's score that the bars add up to. */
  score: number;
  action?: (bar: BreakdownBar) => ReactNode;
}) {
  const bars = breakdownBars(items);
  return (
    <figure data-testid="score-breakdown" className="space-y-5">
      <figcaption className="sr-only">Score breakdown: how each criterion contributed to {formatScore(score)} of 100</figcaption>
      <div>
        <div className="mb-1 flex justify-between text-xs text-slate-600">
          <span>0</span>
          <span>100</span>
        </div>
        <div className="flex h-4 overflow-hidden rounded-full bg-slate-100" aria-hidden="true">
          {bars.map((bar, index) => (
            <div key={bar.key} className={colorOf(index)} style={{ width: `${Math.max(0, bar.points)}%` }} title={`${bar.label}: ${formatNumber(bar.points, 1)}`} />
          ))}
        </div>
      </div>
      <ul className="space-y-4">
        {bars.map((bar, index) => (
          <li
            key={bar.key}
            data-testid="breakdown-row"
            data-criterion={bar.key}
            data-skipped={bar.skipped ?? undefined}
            data-overridden={bar.humanValue !== null ? "true" : undefined}
          >
            <div className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1 text-sm">
              <span className="flex flex-wrap items-center gap-2 font-medium text-slate-900">
                <span aria-hidden="true" className={`size-2.5 rounded-sm ${bar.skipped ? "bg-slate-300" : colorOf(index)}`} />
                {bar.label}
                {bar.kind === "ai" ? <Badge tone="accent">AI</Badge> : null}
                {bar.humanValue !== null ? <Badge tone="info">Reviewed</Badge> : null}
              </span>
              {bar.skipped ? (
                <span className="text-slate-600">not counted</span>
              ) : (
                <span className="text-slate-600 tabular-nums">
                  <span className="font-semibold text-slate-900" data-testid="breakdown-points">
                    {formatNumber(bar.points, 1)}
                  </span>{" "}
                  of {formatNumber(bar.maxPoints, 1)} points
                </span>
              )}
            </div>
            {bar.skipped ? null : (
              <div className="mt-1.5 h-2 overflow-hidden rounded-full bg-slate-100" aria-hidden="true">
                <div className="h-full rounded-full bg-slate-200" style={{ width: `${bar.maxPoints}%` }}>
                  <div className={`h-full rounded-full ${colorOf(index)}`} style={{ width: `${bar.normalized * 100}%` }} />
                </div>
              </div>
            )}
            <div className="mt-1 flex items-start justify-between gap-3">
              {bar.skipped ? (
                <p
                  className="mt-0.5 min-w-0 flex-1 rounded-md border border-dashed border-slate-300 bg-slate-50 px-2.5 py-1.5 text-sm text-slate-700"
                  data-testid="breakdown-skipped"
                >
                  <span className="font-medium">{skipWords(bar.skipped)}</span>
                  <span className="block text-xs text-slate-600">
                    Left out of the machine&apos;s score: it counts neither as 0 nor towards the weights.
                  </span>
                </p>
              ) : (
                <p className="min-w-0 flex-1 text-xs text-slate-600 tabular-nums" data-testid="breakdown-machine">
                  {bar.humanValue !== null ? "Machine: " : ""}
                  {bar.kind === "ai" ? "Rating" : "Value"} {valueWords(bar, bar.value)} · {formatPercent(bar.normalized)} of its range ·
                  weight {formatPercent(bar.weightShare)}
                </p>
              )}
              {action ? <div className="shrink-0">{action(bar)}</div> : null}
            </div>
            {bar.humanValue !== null ? (
              <p className="mt-1 text-sm text-sky-900" data-testid="breakdown-human">
                Person: <strong className="tabular-nums">{valueWords(bar, bar.humanValue)}</strong>
                <span className="text-slate-600"> (counts in the reviewed score)</span>
              </p>
            ) : null}
            {bar.rationale ? (
              <blockquote className="mt-1.5 border-l-2 border-violet-300 pl-3 text-sm text-slate-700" data-testid="ai-rationale">
                {bar.rationale}
              </blockquote>
            ) : null}
          </li>
        ))}
      </ul>
    </figure>
  );
}
