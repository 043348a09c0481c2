"use client";

import Link from "next/link";

import { Alert, Button, DateTime, Meter, Skeleton } from "@/components/ui";
import type { AIUsage } from "@/lib/api/types";
import { usageSummary } from "@/lib/ai";
import { describeError } from "@/lib/errors";
import { formatUsd } from "@/lib/format";
import { paths } from "@/lib/paths";
import { useAISettings } from "@/lib/queries/ai";

/**
 * This period's AI calls against the plan's monthly allowance: a bar with "N left this month" (or
 * "Unlimited"), the cost so far and when the period began. `compact` drops the cost and the
 * period for a corner of another page.
 */
export function UsageMeterView({ usage, compact = false }: { usage: AIUsage; compact?: boolean }) {
  const summary = usageSummary(usage);
  return (
    <div className="space-y-2" data-testid="ai-usage">
      <div className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-0.5 text-sm">
        <span className="font-medium text-slate-900 tabular-nums" data-testid="ai-usage-used">
          {summary.used}
        </span>
        <span
          className={summary.tone === "out" ? "font-semibold text-rose-700" : summary.tone === "low" ? "font-semibold text-amber-800" : "text-slate-700"}
          data-testid="ai-usage-left"
        >
          {summary.left}
        </span>
      </div>
      {usage.limit !== null ? (
        <Meter value={usage.calls} max={usage.limit} label="AI calls this month" valueText={`${summary.used}; ${summary.left}`} tone={summary.tone} />
      ) : null}
      <p className="text-xs text-slate-600">
        {summary.plan}
        {compact ? null : (
          <>
            {" "}
            · cost so far <span className="tabular-nums">{formatUsd(usage.cost_usd)}</span> · period began <DateTime iso={usage.period_start} />
          </>
        )}
        . An answer the AI already gave is reused and is not a call.
      </p>
    </div>
  );
}

/** The usage meter for a corner of another page (the scoring overview), with a link to the AI page. */
export function CompactUsageMeter({ org }: { org: string }) {
  const settings = useAISettings(org);
  return (
    <section aria-labelledby="ai-usage-heading" className="space-y-2">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="ai-usage-heading" className="text-base font-semibold text-slate-900">
          AI calls this month
        </h2>
        <Link href={paths.ai(org)} className="text-sm font-medium text-indigo-700 underline hover:text-indigo-600">
          AI rules and usage
        </Link>
      </div>
      {settings.isPending ? (
        <Skeleton className="h-10" />
      ) : settings.isError ? (
        <Alert tone="error" actions={<Button variant="secondary" size="sm" onClick={() => void settings.refetch()}>Try again</Button>}>
          The usage could not be loaded: {describeError(settings.error).message}
        </Alert>
      ) : (
        <UsageMeterView usage={settings.data.usage} compact />
      )}
    </section>
  );
}
