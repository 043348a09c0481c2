import type { ReactNode } from "react";

import { Alert, Card, cn, DateTime, Meter } from "@/components/ui";
import { aiAllowance, taskAllowance, type AllowanceSummary, type Billing } from "@/lib/billing";

const TONE_TEXT: Record<AllowanceSummary["tone"], string> = {
  normal: "text-slate-700",
  low: "font-semibold text-amber-800",
  out: "font-semibold text-rose-700",
};

function Allowance({
  label,
  summary,
  used,
  limit,
  testId,
}: {
  label: string;
  summary: AllowanceSummary;
  used: number;
  limit: number | null;
  testId: string;
}) {
  return (
    <div className="space-y-2" data-testid={testId}>
      <div className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-0.5 text-sm">
        <span className="font-medium text-slate-900">{label}</span>
        <span className={cn("tabular-nums", TONE_TEXT[summary.tone])} data-testid={`${testId}-left`}>
          {summary.left}
        </span>
      </div>
      {summary.hasLimit && limit !== null ? (
        <Meter value={used} max={limit} label={label} valueText={`${summary.used}; ${summary.left}`} tone={summary.tone} />
      ) : null}
      <p className="text-sm text-slate-600 tabular-nums" data-testid={`${testId}-used`}>
        {summary.used}
      </p>
    </div>
  );
}

/** This period's tasks against the plan's quota and AI calls against its allowance, and why submissions stop if they do. */
export function UsageCard({ billing, action }: { billing: Billing; action?: ReactNode }) {
  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">This period</h2>
      <p className="mt-1 mb-4 text-sm text-slate-600">
        Began <DateTime iso={billing.period_start} />. A task counts when it is submitted; an answer the AI already gave is reused and
        is not a call.
      </p>
      <div className="space-y-5">
        <Allowance label="Tasks" summary={taskAllowance(billing)} used={billing.used} limit={billing.quota} testId="task-usage" />
        <Allowance label="AI calls" summary={aiAllowance(billing)} used={billing.ai.calls} limit={billing.ai.limit} testId="ai-calls-usage" />
      </div>
      {!billing.can_submit && billing.restriction ? (
        <Alert tone="error" title="New tasks are refused" className="mt-4" actions={action}>
          {billing.restriction}
        </Alert>
      ) : null}
    </Card>
  );
}
