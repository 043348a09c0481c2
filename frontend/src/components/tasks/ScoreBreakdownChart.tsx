import { Badge } from "@/components/ui";
import type { ScoreBreakdownItem } from "@/lib/api/types";
import { breakdownBars } from "@/lib/breakdown";
import { formatNumber, formatPercent, formatScore } from "@/lib/format";

const SEGMENT_COLORS = ["bg-indigo-500", "bg-sky-500", "bg-emerald-500", "bg-amber-500", "bg-rose-500", "bg-violet-500", "bg-teal-500", "bg-orange-500"];

function colorOf(index: number): string {
  return SEGMENT_COLORS[index % SEGMENT_COLORS.length] ?? "bg-slate-500";
}

/**
 * How a score was made: one bar for the whole score (each criterion's points stacked), then a row
 * per criterion with its value, its weight and the points it gave out of the points it could give.
 * Every figure is also written out, so the chart is readable without seeing colours.
 */
export function ScoreBreakdownChart({ items, score }: { items: readonly ScoreBreakdownItem[]; score: number }) {
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
          <li key={bar.key} data-testid="breakdown-row" data-criterion={bar.key}>
            <div className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1 text-sm">
              <span className="flex items-center gap-2 font-medium text-slate-900">
                <span aria-hidden="true" className={`size-2.5 rounded-sm ${colorOf(index)}`} />
                {bar.label}
                {bar.kind === "ai" ? <Badge tone="accent">AI</Badge> : null}
              </span>
              <span className="text-slate-600 tabular-nums">
                <span className="font-semibold text-slate-900" data-testid="breakdown-points">
                  {formatNumber(bar.points, 1)}
                </span>{" "}
                of {formatNumber(bar.maxPoints, 1)} points
              </span>
            </div>
            <div className="mt-1.5 h-2 overflow-hidden rounded-full bg-slate-100" aria-hidden="true">
              <div className="h-full rounded-full bg-slate-200" style={{ width: `${bar.maxPoints}%` }}>
                <div className={`h-full rounded-full ${colorOf(index)}`} style={{ width: `${bar.normalized * 100}%` }} />
              </div>
            </div>
            <p className="mt-1 text-xs text-slate-600 tabular-nums">
              {bar.kind === "ai" ? "Rating" : "Value"} {formatNumber(bar.value)}
              {bar.kind === "ai" ? " of 10" : ""} · {formatPercent(bar.normalized)} of its range · weight{" "}
              {formatPercent(bar.weightShare)}
            </p>
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
