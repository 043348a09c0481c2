"use client";

import { useEffect, useRef, useState } from "react";

import { billingActionFor } from "@/components/billing/BillingAction";
import { Alert, Badge, Button, Card, Field, Input, Table, TBody, Td, Textarea, Th, THead } from "@/components/ui";
import { estimateSentence, notCoveredWords } from "@/lib/ai";
import { SCHEMA_LIMITS } from "@/lib/api/limits";
import type { AIEstimate, Criterion, PreviewRun, PreviewRunItem, SamplePreview } from "@/lib/api/types";
import { skipWords } from "@/lib/breakdown";
import { describeError } from "@/lib/errors";
import { formatDelta, formatScore } from "@/lib/format";
import { useIdempotencyKeys } from "@/lib/forms";
import { isPreviewRunFinished, usePreviewEstimate, usePreviewRun, useSamplePreview, useStartPreviewRun } from "@/lib/queries/scoring";
import { attributeCriteria, attributeError, attributeHint, toTaskInput } from "@/lib/task-form";

import { ScoreBreakdownChart } from "../tasks/ScoreBreakdownChart";

const PREVIEW_MAX = SCHEMA_LIMITS.PreviewRunIn.limit.maximum;

/** `criteria()` returns the editor's current criteria, or null (with the editor's errors shown) if they are not valid. */
type CriteriaSource = () => Promise<Criterion[] | null>;

function SamplePreviewForm({ org, criteria, getCriteria }: { org: string; criteria: readonly Criterion[]; getCriteria: CriteriaSource }) {
  const preview = useSamplePreview(org);
  const attributes = attributeCriteria(criteria);
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [result, setResult] = useState<SamplePreview | null>(null);
  const valueErrors = Object.fromEntries(attributes.map((c) => [c.attribute, attributeError(values[c.attribute] ?? "")]));

  async function run() {
    const current = await getCriteria();
    if (!current) return;
    if (Object.values(valueErrors).some(Boolean)) return;
    const task = toTaskInput({ title: title.trim() || "Sample task", description, attributes: values });
    preview.mutate({ criteria: current, task }, { onSuccess: setResult });
  }

  return (
    <div className="space-y-3">
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Sample title">
          {(props) => <Input {...props} value={title} maxLength={SCHEMA_LIMITS.TaskIn.title.maxLength} onChange={(e) => setTitle(e.target.value)} />}
        </Field>
        {attributes.map((criterion) => (
          <Field key={criterion.attribute} label={criterion.label} hint={attributeHint(criterion)} error={valueErrors[criterion.attribute]}>
            {(props) => (
              <Input
                {...props}
                inputMode="decimal"
                value={values[criterion.attribute] ?? ""}
                onChange={(e) => setValues((current) => ({ ...current, [criterion.attribute]: e.target.value }))}
              />
            )}
          </Field>
        ))}
      </div>
      <Field label="Sample description">
        {(props) => <Textarea {...props} rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
      <Button variant="secondary" onClick={() => void run()} isLoading={preview.isPending}>
        Score the sample
      </Button>
      {preview.isError ? (
        <Alert tone="error" actions={billingActionFor(org, preview.error)}>
          {describeError(preview.error).message}
        </Alert>
      ) : null}
      {result ? (
        <div className="rounded-lg border border-slate-200 p-4" data-testid="sample-preview">
          <p className="mb-3 text-sm text-slate-700">
            This sample would score <strong className="text-lg text-slate-900 tabular-nums">{formatScore(result.value)}</strong>.
          </p>
          <ScoreBreakdownChart items={result.breakdown} score={result.value} />
        </div>
      ) : null}
    </div>
  );
}

function RankChange({ item }: { item: PreviewRunItem }) {
  if (item.rank_change === null || item.rank_change === undefined) return <span className="text-slate-500">—</span>;
  if (item.rank_change === 0) return <span className="text-slate-600">same</span>;
  const up = item.rank_change > 0;
  return (
    <span className={up ? "text-emerald-700" : "text-rose-700"}>
      <span aria-hidden="true">{up ? "▲" : "▼"}</span> {Math.abs(item.rank_change)}
      <span className="sr-only">{up ? " places up" : " places down"}</span>
    </span>
  );
}

function PreviewRunResults({ run }: { run: PreviewRun }) {
  if (run.status === "failed") {
    return <Alert tone="error" title="The preview failed">{run.failure_reason ?? "No reason was given."}</Alert>;
  }
  if (!isPreviewRunFinished(run)) {
    const share = run.total > 0 ? run.done / run.total : 0;
    return (
      <div className="space-y-2" data-testid="preview-progress">
        <p className="text-sm text-slate-700" aria-live="polite">
          {run.status === "queued" ? "Waiting for a worker…" : `Scoring ${run.done} of ${run.total} tasks…`}
        </p>
        <progress className="h-2 w-full overflow-hidden rounded-full accent-indigo-600" max={Math.max(run.total, 1)} value={run.done} aria-label="Preview progress">
          {Math.round(share * 100)}%
        </progress>
      </div>
    );
  }
  if (run.items.length === 0) {
    return <p className="text-sm text-slate-600">The organization has no tasks to preview on yet.</p>;
  }
  const changed = run.items.filter((item) => item.rank_change !== null && item.rank_change !== 0).length;
  const withoutAi = run.items.filter((item) => item.ai_skipped).length;
  return (
    <div className="space-y-3" data-testid="preview-results">
      <p className="text-sm text-slate-700">
        {run.items.length} tasks: {changed} would change rank. Nothing was stored.
      </p>
      {withoutAi > 0 ? (
        <Alert tone="warning">
          {withoutAi === run.items.length ? "Every task was" : `${withoutAi} of ${run.items.length} tasks were`} scored without the
          draft&apos;s AI criteria; each row says why.
        </Alert>
      ) : null}
      <Table caption="Old and new score of each task under the draft" minWidth="22rem">
        <THead>
          <tr>
            <Th>Task</Th>
            <Th numeric>Score now → draft</Th>
            <Th numeric>Rank</Th>
          </tr>
        </THead>
        <TBody>
          {run.items.map((item) => (
            <tr key={item.task_id} data-testid="preview-row">
              <Td className="max-w-[12rem]">
                <span className="block truncate">{item.title}</span>
                {item.ai_skipped ? (
                  <span className="block text-xs text-amber-800" data-testid="preview-ai-skipped">
                    AI criteria {skipWords(item.ai_skipped).replace(/^Skipped/, "skipped")}
                  </span>
                ) : null}
              </Td>
              <Td numeric className="whitespace-nowrap">
                {item.old_score === null || item.old_score === undefined ? "—" : formatScore(item.old_score)} →{" "}
                {item.new_score === null || item.new_score === undefined ? (
                  <Badge tone="danger">{item.error ?? "not scored"}</Badge>
                ) : (
                  <strong className="text-slate-900">{formatScore(item.new_score)}</strong>
                )}
                {item.new_score !== null && item.new_score !== undefined && item.old_score !== null && item.old_score !== undefined ? (
                  <span className="block text-xs text-slate-600">{formatDelta(item.new_score - item.old_score)}</span>
                ) : null}
              </Td>
              <Td numeric className="whitespace-nowrap">
                {item.old_rank ?? "—"} → {item.new_rank ?? "—"}
                <span className="block text-xs">
                  <RankChange item={item} />
                </span>
              </Td>
            </tr>
          ))}
        </TBody>
      </Table>
    </div>
  );
}

interface PreviewPlan {
  criteria: Criterion[];
  limit: number;
  estimate: AIEstimate;
  /** The editor's criteria when it was estimated: an edit since makes the estimate stale. */
  editorCriteria: string;
}

/** What a preview would cost, before it starts: tasks, AI calls, what this month has left. */
function PreviewEstimate({
  plan,
  isStarting,
  onStart,
  onCancel,
}: {
  plan: PreviewPlan;
  isStarting: boolean;
  onStart: () => void;
  onCancel: () => void;
}) {
  const startRef = useRef<HTMLButtonElement>(null);
  const { estimate } = plan;
  const canStart = estimate.covered && estimate.tasks > 0;
  useEffect(() => {
    // The estimate answers the person's click: take them to the button that goes on.
    if (canStart) startRef.current?.focus();
  }, [canStart, plan]);
  if (estimate.tasks === 0) {
    return (
      <Alert tone="info" actions={<Button variant="secondary" size="sm" onClick={onCancel}>Close</Button>}>
        The organization has no tasks to preview on yet.
      </Alert>
    );
  }
  return (
    <div className="space-y-3 rounded-lg border border-slate-200 bg-slate-50 p-3" data-testid="preview-estimate">
      <p className="text-sm font-medium text-slate-900">{estimateSentence("Preview", estimate)}</p>
      {estimate.covered ? (
        <p className="text-xs text-slate-600">
          Answers the AI already gave are reused and cost nothing; calls not made are given back when the run ends.
        </p>
      ) : (
        <Alert tone="warning" title="Not enough AI calls left this month">
          {notCoveredWords(estimate)}
        </Alert>
      )}
      <div className="flex flex-wrap gap-2">
        <Button ref={startRef} size="sm" onClick={onStart} disabled={!canStart} isLoading={isStarting}>
          Start the preview
        </Button>
        <Button variant="secondary" size="sm" onClick={onCancel} disabled={isStarting}>
          Cancel
        </Button>
      </div>
    </div>
  );
}

function LatestTasksPreview({ org, criteria, getCriteria }: { org: string; criteria: readonly Criterion[]; getCriteria: CriteriaSource }) {
  const estimate = usePreviewEstimate(org);
  const start = useStartPreviewRun(org);
  const keys = useIdempotencyKeys();
  const [limit, setLimit] = useState(String(PREVIEW_MAX));
  const [plan, setPlan] = useState<PreviewPlan | null>(null);
  const [runId, setRunId] = useState<string | null>(null);
  const run = usePreviewRun(org, runId);
  const limitNumber = Number(limit);
  const limitError =
    Number.isInteger(limitNumber) && limitNumber >= 1 && limitNumber <= PREVIEW_MAX ? undefined : `Use a whole number from 1 to ${PREVIEW_MAX}.`;
  // An estimate holds for the criteria and the number of tasks it was made for, not after an edit.
  const editorCriteria = JSON.stringify(criteria);
  const currentPlan = plan && plan.limit === limitNumber && plan.editorCriteria === editorCriteria ? plan : null;

  async function check() {
    if (limitError) return;
    const current = await getCriteria();
    if (!current) return;
    start.reset();
    const checked = { criteria: current, limit: limitNumber, editorCriteria };
    estimate.mutate({ criteria: current, limit: limitNumber }, { onSuccess: (answer) => setPlan({ ...checked, estimate: answer }) });
  }

  function begin(chosen: PreviewPlan) {
    const body = { criteria: chosen.criteria, limit: chosen.limit };
    start.mutate(
      { ...body, idempotencyKey: keys.keyFor(body) },
      {
        onSuccess: (created) => {
          keys.reset();
          setPlan(null);
          setRunId(created.id);
        },
      },
    );
  }

  const isRunning = run.data !== undefined && !isPreviewRunFinished(run.data);
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-end gap-3">
        <Field label="Latest tasks" hint={`Up to ${PREVIEW_MAX}`} error={limitError} className="w-32">
          {(props) => <Input {...props} inputMode="numeric" value={limit} onChange={(e) => setLimit(e.target.value)} />}
        </Field>
        <Button variant="secondary" onClick={() => void check()} isLoading={estimate.isPending || isRunning} className="mb-[1px]">
          Preview on the latest tasks
        </Button>
      </div>
      <p className="text-xs text-slate-600">
        Runs in the background. You see what it costs in AI calls before it starts; a preview of unchanged AI criteria reuses the
        answers already given and costs nothing.
      </p>
      {estimate.isError ? <Alert tone="error">{describeError(estimate.error).message}</Alert> : null}
      {currentPlan ? (
        <PreviewEstimate plan={currentPlan} isStarting={start.isPending} onStart={() => begin(currentPlan)} onCancel={() => setPlan(null)} />
      ) : null}
      {start.isError ? (
        <Alert tone="error" actions={billingActionFor(org, start.error)}>
          {describeError(start.error).message}
        </Alert>
      ) : null}
      {run.isError ? <Alert tone="error">{describeError(run.error).message}</Alert> : null}
      {run.data ? <PreviewRunResults run={run.data} /> : null}
    </div>
  );
}

/** Try criteria before saving or activating them: on a made-up task, and on the org's latest tasks. Stores nothing. */
export function PreviewPanel({ org, criteria, getCriteria }: { org: string; criteria: readonly Criterion[]; getCriteria: CriteriaSource }) {
  return (
    <Card>
      <h2 className="text-lg font-semibold text-slate-900">Preview</h2>
      <p className="mt-1 mb-4 text-sm text-slate-600">See what these criteria would do before anyone else does. Nothing is stored.</p>
      <div className="space-y-8">
        <section aria-labelledby="preview-latest-heading">
          <h3 id="preview-latest-heading" className="mb-2 font-medium text-slate-900">
            On your latest tasks
          </h3>
          <LatestTasksPreview org={org} criteria={criteria} getCriteria={getCriteria} />
        </section>
        <section aria-labelledby="preview-sample-heading">
          <h3 id="preview-sample-heading" className="mb-2 font-medium text-slate-900">
            On a sample task
          </h3>
          <SamplePreviewForm org={org} criteria={criteria} getCriteria={getCriteria} />
        </section>
      </div>
    </Card>
  );
}
