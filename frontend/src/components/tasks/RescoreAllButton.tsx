"use client";

import { useState } from "react";

import { billingActionFor } from "@/components/billing/BillingAction";
import { Alert, Button, ConfirmDialog, DateTime, useToast } from "@/components/ui";
import { estimateSentence, notCoveredWords } from "@/lib/ai";
import { describeError } from "@/lib/errors";
import { useIdempotencyKeys } from "@/lib/forms";
import { useRescoreAll, useRescoreEstimate } from "@/lib/queries/tasks";

const RESCORE_ALL_INTENT = { action: "rescore-all" } as const;

/**
 * Re-scores every finished task without a score from the active version, after a confirmation
 * that says what it costs (tasks, AI calls, what this month has left). When the allowance does not
 * cover it, the confirmation explains and cannot be confirmed.
 */
export function RescoreAllButton({ org }: { org: string }) {
  const toast = useToast();
  const rescoreAll = useRescoreAll(org);
  const keys = useIdempotencyKeys();
  const [isOpen, setIsOpen] = useState(false);
  const estimate = useRescoreEstimate(org, isOpen);
  const data = estimate.data;
  const isNothingToDo = data !== undefined && data.tasks === 0;
  const isBlocked = data !== undefined && !data.covered;

  let description;
  if (estimate.isPending) {
    description = <p data-testid="rescore-estimate">Counting the tasks and the AI calls it would take…</p>;
  } else if (estimate.isError) {
    description = (
      <Alert tone="error" actions={<Button variant="secondary" size="sm" onClick={() => void estimate.refetch()}>Try again</Button>}>
        What it would cost could not be worked out: {describeError(estimate.error).message}
      </Alert>
    );
  } else if (estimate.data.tasks === 0) {
    description = <p data-testid="rescore-estimate">Every finished task already has a score from the active scoring version: there is nothing to re-score.</p>;
  } else {
    const known = estimate.data;
    description = (
      <div className="space-y-2">
        <p data-testid="rescore-estimate" className="font-medium text-slate-900">
          {estimateSentence("Re-score", known)}
        </p>
        {!known.covered ? (
          <Alert tone="warning" title="Not enough AI calls left this month">
            <p>{notCoveredWords(known)}</p>
            <p>
              This period began <DateTime iso={known.usage.period_start} />; the allowance renews when the next one starts.
            </p>
          </Alert>
        ) : (
          <p>
            Every finished task without a score from the active version is scored again with it; answers the AI already gave
            are reused and cost nothing. Old scores stay in each task&apos;s history, and people&apos;s overrides stay in place.
          </p>
        )}
      </div>
    );
  }

  return (
    <>
      <Button variant="secondary" onClick={() => setIsOpen(true)}>
        Re-score all
      </Button>
      <ConfirmDialog
        open={isOpen}
        title="Re-score every task?"
        description={description}
        confirmLabel={data && !isNothingToDo ? `Re-score ${data.tasks} ${data.tasks === 1 ? "task" : "tasks"}` : "Re-score all"}
        isConfirmDisabled={data === undefined || isNothingToDo || isBlocked}
        isLoading={rescoreAll.isPending}
        error={
          rescoreAll.isError ? (
            <div className="space-y-2">
              <p className="text-sm text-rose-700" role="alert">
                {describeError(rescoreAll.error).message}
              </p>
              {billingActionFor(org, rescoreAll.error)}
            </div>
          ) : null
        }
        onClose={() => {
          setIsOpen(false);
          rescoreAll.reset();
        }}
        onConfirm={() =>
          rescoreAll.mutate(
            { idempotencyKey: keys.keyFor(RESCORE_ALL_INTENT) },
            {
              onSuccess: ({ queued }) => {
                keys.reset();
                setIsOpen(false);
                toast.show(queued === 0 ? "Every task already has a score from the active version." : `Re-scoring ${queued} tasks.`);
              },
            },
          )
        }
      />
    </>
  );
}
