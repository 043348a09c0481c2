"use client";

import { useEffect, useId, useRef, useState } from "react";

import { Alert, Badge, Button, Card, ConfirmDialog, DateTime, Skeleton, useToast } from "@/components/ui";
import type { Task, TaskOverride } from "@/lib/api/types";
import { describeError } from "@/lib/errors";
import { useClearOverride, useOverrideHistory } from "@/lib/queries/tasks";
import { formatOverrideValue, overrideTargets, targetOf, targetPhrase, type OverrideTarget } from "@/lib/review";

function OverrideEntry({
  override,
  targets,
  onClear,
}: {
  override: TaskOverride;
  targets: readonly OverrideTarget[];
  onClear?: (() => void) | undefined;
}) {
  const target = targetOf(override, targets);
  const isCleared = override.cleared_at !== null;
  return (
    <li className="py-3 first:pt-0 last:pb-0" data-testid={isCleared ? "override-history-entry" : "override-entry"} data-criterion={override.criterion ?? "score"}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <p className="text-sm text-slate-900">
          <span className="font-medium">{target.label}</span>:{" "}
          <strong className="tabular-nums">{formatOverrideValue(target.kind, override.value)}</strong>{" "}
          <span className="text-slate-600">(machine: {formatOverrideValue(target.kind, override.machine_value)})</span>
        </p>
        {isCleared ? <Badge>Cleared</Badge> : onClear ? (
          <Button variant="secondary" size="sm" onClick={onClear} aria-label={`Clear the override of ${targetPhrase(target)}`}>
            Clear
          </Button>
        ) : (
          <Badge tone="info">Active</Badge>
        )}
      </div>
      <blockquote className="mt-1 border-l-2 border-sky-300 pl-3 text-sm whitespace-pre-line break-words text-slate-700">{override.reason}</blockquote>
      <p className="mt-1 text-xs text-slate-600">
        By {override.created_by}, <DateTime iso={override.created_at} />
        {isCleared && override.cleared_at ? (
          <>
            {" "}
            · cleared by {override.cleared_by ?? "someone"}, <DateTime iso={override.cleared_at} />
          </>
        ) : null}
      </p>
    </li>
  );
}

function History({ org, task, targets }: { org: string; task: Task; targets: readonly OverrideTarget[] }) {
  const history = useOverrideHistory(org, task.id, true);
  if (history.isPending) return <Skeleton className="h-16" />;
  if (history.isError) {
    return (
      <Alert tone="error" actions={<Button variant="secondary" size="sm" onClick={() => void history.refetch()}>Try again</Button>}>
        The history could not be loaded: {describeError(history.error).message}
      </Alert>
    );
  }
  if (history.data.length === 0) return <p className="text-sm text-slate-600">No one has overridden this task yet.</p>;
  return (
    <ol className="divide-y divide-slate-100" data-testid="override-history">
      {history.data.map((override) => (
        <OverrideEntry key={override.id} override={override} targets={targets} />
      ))}
    </ol>
  );
}

/**
 * People's corrections of a task's score: the active overrides with who, when and why (each can be
 * cleared by a reviewer, after a confirmation), and the full history, cleared ones too, on demand.
 */
export function ScoreReviews({ org, task, canReview }: { org: string; task: Task; canReview: boolean }) {
  const toast = useToast();
  const historyId = useId();
  const clear = useClearOverride(org, task.id);
  const [clearing, setClearing] = useState<TaskOverride | null>(null);
  const [isHistoryOpen, setIsHistoryOpen] = useState(false);
  // The cleared override's button is gone once the dialog closes: focus the heading instead.
  const headingRef = useRef<HTMLHeadingElement>(null);
  const focusHeadingAfterClose = useRef(false);
  useEffect(() => {
    if (clearing === null && focusHeadingAfterClose.current) {
      focusHeadingAfterClose.current = false;
      headingRef.current?.focus();
    }
  }, [clearing]);
  const targets = task.score ? overrideTargets(task.score) : [];
  const clearingTarget = clearing ? targetOf(clearing, targets) : null;

  return (
    <Card>
      <h2 ref={headingRef} tabIndex={-1} className="mb-3 text-lg font-semibold text-slate-900 focus:outline-none">
        Reviews
      </h2>
      {task.overrides.length === 0 ? (
        <p className="text-sm text-slate-600">
          No one has overridden this score.
          {canReview && task.score ? " If the machine got it wrong, override the score or one criterion, with a reason." : ""}
        </p>
      ) : (
        <ul className="divide-y divide-slate-100" aria-label="Active overrides">
          {task.overrides.map((override) => (
            <OverrideEntry
              key={override.id}
              override={override}
              targets={targets}
              onClear={
                canReview
                  ? () => {
                      clear.reset();
                      setClearing(override);
                    }
                  : undefined
              }
            />
          ))}
        </ul>
      )}
      <div className="mt-4 border-t border-slate-100 pt-3">
        <Button variant="ghost" size="sm" aria-expanded={isHistoryOpen} aria-controls={historyId} onClick={() => setIsHistoryOpen((open) => !open)}>
          <span aria-hidden="true">{isHistoryOpen ? "▾" : "▸"}</span>
          {isHistoryOpen ? "Hide the history" : "Show the full history"}
        </Button>
        <div id={historyId} hidden={!isHistoryOpen} className="mt-2">
          {isHistoryOpen ? <History org={org} task={task} targets={targets} /> : null}
        </div>
      </div>
      <ConfirmDialog
        open={clearing !== null}
        title={clearingTarget ? `Clear the override of ${targetPhrase(clearingTarget)}?` : ""}
        description={
          clearing && clearingTarget
            ? `The machine's value counts again (now ${formatOverrideValue(clearingTarget.kind, clearingTarget.machineValue)}). The override stays in the history.`
            : ""
        }
        confirmLabel="Clear override"
        tone="danger"
        isLoading={clear.isPending}
        error={clear.isError ? <p className="text-sm text-rose-700">{describeError(clear.error).message}</p> : null}
        onClose={() => setClearing(null)}
        onConfirm={() => {
          if (!clearing) return;
          clear.mutate(clearing.id, {
            onSuccess: () => {
              toast.show(`The override of ${clearingTarget ? targetPhrase(clearingTarget) : "the score"} is cleared.`);
              focusHeadingAfterClose.current = true;
              setClearing(null);
            },
          });
        }}
      />
    </Card>
  );
}
