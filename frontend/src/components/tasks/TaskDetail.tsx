"use client";

import Link from "next/link";
import { useState } from "react";

import { Alert, Badge, Button, Card, ConfirmDialog, DateTime, LoadingState, Skeleton, Table, TBody, Td, Th, THead, useToast } from "@/components/ui";
import type { Task, TaskScore, TaskScoreRecord } from "@/lib/api/types";
import { describeError } from "@/lib/errors";
import { formatDelta, formatNumber, formatScore, formatUsd } from "@/lib/format";
import { paths } from "@/lib/paths";
import { can, orgOf, useMe } from "@/lib/queries/me";
import { useActiveVersion } from "@/lib/queries/scoring";
import { useRescoreTask, useTask, useTaskScores } from "@/lib/queries/tasks";
import { overrideTargets, type OverrideTarget } from "@/lib/review";
import { isPending } from "@/lib/tasks";

import { OverrideDialog } from "./OverrideDialog";
import { ScoreBreakdownChart } from "./ScoreBreakdownChart";
import { ScoreInputs } from "./ScoreInputs";
import { ScoreReviews } from "./ScoreReviews";
import { StatusBadge } from "./StatusBadge";

function RescoreButton({ org, task, scores }: { org: string; task: Task; scores: readonly TaskScoreRecord[] | undefined }) {
  const toast = useToast();
  const rescore = useRescoreTask(org, task.id);
  const active = useActiveVersion(org).data;
  const [isOpen, setIsOpen] = useState(false);
  const latest = scores?.[0];
  const alreadyCurrent = active !== undefined && latest !== undefined && latest.version_id === active.id;
  const reason = isPending(task)
    ? "The task is being scored."
    : alreadyCurrent
      ? `It already has a score from the active version (v${active.number}). Activate another version to re-score it.`
      : undefined;
  return (
    <div className="flex flex-col items-end gap-1">
      <Button variant="secondary" onClick={() => setIsOpen(true)} disabled={reason !== undefined} aria-describedby={reason ? "rescore-reason" : undefined}>
        Re-score
      </Button>
      {reason ? (
        <p id="rescore-reason" className="max-w-xs text-right text-xs text-slate-600">
          {reason}
        </p>
      ) : null}
      <ConfirmDialog
        open={isOpen}
        title="Re-score this task?"
        description={`It is scored again with the active version${active ? ` (v${active.number})` : ""}. The current score stays in its history.`}
        confirmLabel="Re-score"
        isLoading={rescore.isPending}
        error={rescore.isError ? <p className="text-sm text-rose-700">{describeError(rescore.error).message}</p> : null}
        onClose={() => {
          setIsOpen(false);
          rescore.reset();
        }}
        onConfirm={() =>
          rescore.mutate(undefined, {
            onSuccess: () => {
              setIsOpen(false);
              toast.show("Re-scoring. The new score appears here in a moment.");
            },
          })
        }
      />
    </div>
  );
}

function AiFacts({ score }: { score: TaskScoreRecord }) {
  const hasAi = score.breakdown.some((item) => item.kind === "ai");
  if (!hasAi) return <p className="text-sm text-slate-600">This score used no AI criteria.</p>;
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5 text-sm" data-testid="ai-facts">
      <dt className="text-slate-600">Provider</dt>
      <dd className="text-slate-900">{score.ai_provider || "—"}</dd>
      <dt className="text-slate-600">Model</dt>
      <dd className="break-all text-slate-900">{score.ai_model || "—"}</dd>
      <dt className="text-slate-600">AI calls</dt>
      <dd className="text-slate-900 tabular-nums">
        {score.ai_calls}
        {score.ai_calls === 0 ? " (answer reused from the cache)" : ""}
      </dd>
      <dt className="text-slate-600">Tokens</dt>
      <dd className="text-slate-900 tabular-nums">
        {formatNumber(score.input_tokens)} in · {formatNumber(score.output_tokens)} out
      </dd>
      <dt className="text-slate-600">Cost</dt>
      <dd className="text-slate-900 tabular-nums">{formatUsd(score.cost_usd)}</dd>
      <dt className="text-slate-600">AI time</dt>
      <dd className="text-slate-900 tabular-nums">{formatNumber(score.ai_latency_ms)} ms</dd>
    </dl>
  );
}

/** The score people see (reviewed), and the machine's beside it when a person overrode it. */
function ScoreHeader({ score }: { score: TaskScore }) {
  return (
    <p className="text-right">
      <span className="flex items-center justify-end gap-2">
        {score.overridden ? (
          <Badge tone="info" className="text-sm">
            Reviewed
          </Badge>
        ) : null}
        <span className="text-4xl font-semibold text-slate-900 tabular-nums" data-testid="task-score">
          {formatScore(score.value)}
        </span>
      </span>
      <span className="block text-xs text-slate-600">of 100 · version {score.version}</span>
      {score.overridden ? (
        <span className="block text-sm text-slate-700 tabular-nums" data-testid="machine-score">
          Machine: {formatScore(score.machine_value)}
        </span>
      ) : null}
    </p>
  );
}

function ScoreHistory({ scores }: { scores: readonly TaskScoreRecord[] }) {
  return (
    <Table caption="Every score of this task, newest first" minWidth="30rem">
      <THead>
        <tr>
          <Th>Scoring version</Th>
          <Th numeric>Score</Th>
          <Th numeric>Change</Th>
          <Th>AI cost</Th>
          <Th>Scored</Th>
        </tr>
      </THead>
      <TBody>
        {scores.map((score, index) => {
          const previous = scores[index + 1];
          return (
            <tr key={score.version_id} data-testid="score-history-row" data-version={score.version}>
              <Td>
                {score.model} v{score.version}
              </Td>
              <Td numeric className="font-semibold text-slate-900">
                {formatScore(score.value)}
              </Td>
              <Td numeric>{previous ? formatDelta(score.value - previous.value) : "—"}</Td>
              <Td className="tabular-nums">{formatUsd(score.cost_usd)}</Td>
              <Td>
                <DateTime iso={score.scored_at} />
              </Td>
            </tr>
          );
        })}
      </TBody>
    </Table>
  );
}

/** One task: its text and attributes, how its score was made (chart, AI rationale and cost) and its history. */
export function TaskDetail({ org, taskId }: { org: string; taskId: string }) {
  const membership = orgOf(useMe().data, org);
  const canReview = can(membership, "score.review");
  const [overrideTarget, setOverrideTarget] = useState<OverrideTarget | null>(null);
  const taskQuery = useTask(org, taskId);
  const task = taskQuery.data;
  const scoresQuery = useTaskScores(org, taskId, task?.score?.scored_at);

  if (taskQuery.isPending) return <LoadingState label="Loading the task…" />;
  if (taskQuery.isError) {
    const description = describeError(taskQuery.error);
    return (
      <Alert
        tone={description.isRetryable ? "error" : "warning"}
        title={description.isRetryable ? "The task could not be loaded" : "No such task"}
        actions={
          <>
            {description.isRetryable ? <Button onClick={() => void taskQuery.refetch()}>Try again</Button> : null}
            <Link href={paths.tasks(org)} className="font-semibold underline">
              Back to the tasks
            </Link>
          </>
        }
      >
        {description.isRetryable ? description.message : "It does not exist in this organization, or it was removed."}
      </Alert>
    );
  }
  if (!task) return null;
  const latest = scoresQuery.data?.[0];
  const attributes = Object.entries(task.attributes);
  const score = task.score;
  const targets = score ? overrideTargets(score) : [];

  return (
    <div className="space-y-6">
      <nav aria-label="Breadcrumb" className="text-sm">
        <Link href={paths.tasks(org)} className="text-indigo-700 underline hover:text-indigo-600">
          Tasks
        </Link>
        <span aria-hidden="true" className="text-slate-400">
          {" "}
          /{" "}
        </span>
        <span className="text-slate-600">{task.title}</span>
      </nav>
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <h1 className="text-2xl font-semibold tracking-tight break-words text-slate-900" data-testid="task-heading">
            {task.title}
          </h1>
          <p className="mt-1 flex flex-wrap items-center gap-2 text-sm text-slate-600" data-testid="task-status" data-status={task.status}>
            <StatusBadge status={task.status} /> Submitted <DateTime iso={task.created_at} />
          </p>
        </div>
        <div className="flex flex-wrap items-start justify-end gap-4">
          {task.score ? <ScoreHeader score={task.score} /> : null}
          <div className="flex flex-col items-end gap-2">
            {canReview && score ? (
              <Button variant="secondary" onClick={() => setOverrideTarget(targets[0] ?? null)}>
                Override score
              </Button>
            ) : null}
            {can(membership, "task.rescore") ? <RescoreButton org={org} task={task} scores={scoresQuery.data} /> : null}
          </div>
        </div>
      </div>

      {task.status === "failed" ? (
        <Alert tone="error" title="Scoring failed">
          {task.failure_reason ?? "No reason was given."}
        </Alert>
      ) : null}
      {isPending(task) ? (
        <Alert tone="info" title={task.status === "queued" ? "Waiting to be scored" : "Being scored"}>
          The score appears here by itself, usually within seconds.
        </Alert>
      ) : null}

      <div className="grid gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <Card>
          <h2 className="mb-1 text-lg font-semibold text-slate-900">Score breakdown</h2>
          {score ? (
            <>
              <p className="mb-4 text-sm text-slate-600">
                {score.overridden
                  ? `The bars show the machine's ${formatScore(score.machine_value)}; people's values make the reviewed ${formatScore(score.value)}.`
                  : "What each criterion gave, out of what it could give."}
              </p>
              <ScoreBreakdownChart
                items={score.breakdown}
                score={score.machine_value}
                action={
                  canReview
                    ? (bar) => (
                        <Button
                          variant="secondary"
                          size="sm"
                          className="px-2 py-1 text-xs"
                          aria-label={`Override ${bar.label}`}
                          onClick={() => setOverrideTarget(targets.find((target) => target.criterion === bar.key) ?? null)}
                        >
                          Override
                        </Button>
                      )
                    : undefined
                }
              />
            </>
          ) : (
            <p className="mt-3 text-sm text-slate-600">The breakdown appears when the task has a score.</p>
          )}
        </Card>
        <div className="space-y-6">
          {score ? <ScoreReviews org={org} task={task} canReview={canReview} /> : null}
          <Card>
            <h2 className="mb-3 text-lg font-semibold text-slate-900">The task</h2>
            {task.description ? (
              <p className="text-sm whitespace-pre-line break-words text-slate-700">{task.description}</p>
            ) : (
              <p className="text-sm text-slate-600">No description.</p>
            )}
            <h3 className="mt-4 mb-2 text-sm font-medium text-slate-800">Attributes</h3>
            {attributes.length > 0 ? (
              <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
                {attributes.map(([name, value]) => (
                  <div key={name} className="contents">
                    <dt className="font-mono text-xs leading-5 text-slate-600">{name}</dt>
                    <dd className="text-slate-900 tabular-nums">{formatNumber(value)}</dd>
                  </div>
                ))}
              </dl>
            ) : (
              <p className="text-sm text-slate-600">None.</p>
            )}
          </Card>
          <Card>
            <h2 className="mb-3 flex items-center gap-2 text-lg font-semibold text-slate-900">
              AI assessment <Badge tone="accent">AI</Badge>
            </h2>
            {scoresQuery.isPending ? (
              <Skeleton className="h-24" />
            ) : scoresQuery.isError ? (
              <Alert tone="error">{describeError(scoresQuery.error).message}</Alert>
            ) : latest ? (
              <AiFacts score={latest} />
            ) : (
              <p className="text-sm text-slate-600">No score yet.</p>
            )}
          </Card>
          {score ? <ScoreInputs org={org} taskId={task.id} scoreId={score.id} /> : null}
        </div>
      </div>
      {canReview ? <OverrideDialog org={org} taskId={task.id} target={overrideTarget} onClose={() => setOverrideTarget(null)} /> : null}

      <section aria-labelledby="history-heading">
        <h2 id="history-heading" className="mb-1 text-lg font-semibold text-slate-900">
          Score history
        </h2>
        <p className="mb-3 text-sm text-slate-600">
          Each score as the machine computed it{score?.overridden ? "; people's overrides are under Reviews" : ""}.
        </p>
        {scoresQuery.isPending ? (
          <Skeleton className="h-24" />
        ) : scoresQuery.isError ? (
          <Alert tone="error" actions={<Button variant="secondary" size="sm" onClick={() => void scoresQuery.refetch()}>Try again</Button>}>
            The history could not be loaded: {describeError(scoresQuery.error).message}
          </Alert>
        ) : scoresQuery.data.length === 0 ? (
          <p className="text-sm text-slate-600">No score yet.</p>
        ) : (
          <ScoreHistory scores={scoresQuery.data} />
        )}
      </section>
    </div>
  );
}
