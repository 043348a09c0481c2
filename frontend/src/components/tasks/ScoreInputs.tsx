"use client";

import type { ReactNode } from "react";

import { Alert, Badge, Button, Card, Skeleton } from "@/components/ui";
import type { ScoreDetail } from "@/lib/api/types";
import { fieldsWords, redactionWords } from "@/lib/ai";
import { skipWords } from "@/lib/breakdown";
import { describeError } from "@/lib/errors";
import { formatNumber, formatScore } from "@/lib/format";
import { useScoreDetail } from "@/lib/queries/tasks";

/** How many hex digits of the text's SHA-256 are shown (the whole hash is in the tooltip). */
const HASH_SHOWN = 12;

/** One fact, its name above its value (the card is narrow beside the breakdown, and on a phone). */
function Fact({ term, children, testId }: { term: string; children: ReactNode; testId?: string }) {
  return (
    <div>
      <dt className="text-xs font-medium text-slate-600">{term}</dt>
      <dd className="min-w-0 break-words text-slate-900" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

const FACTS_CLASS = "space-y-2.5 text-sm";

function capitalized(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function lowerFirst(text: string): string {
  return `${text.charAt(0).toLowerCase()}${text.slice(1)}`;
}

function Facts({ detail }: { detail: ScoreDetail }) {
  const inputs = detail.inputs;
  const labels = new Map(detail.breakdown.map((item) => [item.key, item.label]));
  const hasAi = detail.breakdown.some((item) => item.kind === "ai");
  const recomputedMatches = Math.abs(detail.recomputed_value - detail.value) < 0.05;
  const recomputed = (
    <Fact term="Recomputed from these inputs" testId="score-recomputed">
      <span className="mr-2 font-semibold tabular-nums">{formatScore(detail.recomputed_value)}</span>
      {recomputedMatches ? (
        <Badge tone="success">Same as the machine&apos;s score</Badge>
      ) : (
        <Badge tone="warning">The machine&apos;s score is {formatScore(detail.value)}</Badge>
      )}
    </Fact>
  );
  if (inputs === null) {
    return (
      <>
        <p className="mb-3 text-sm text-slate-600">
          This score was recorded before Taskscore kept a score&apos;s inputs; it is recomputed from its breakdown.
        </p>
        <dl className={FACTS_CLASS}>
          <Fact term="Scoring version">
            {detail.model} v{detail.version}
          </Fact>
          {recomputed}
        </dl>
      </>
    );
  }
  const ai = inputs.ai;
  const skipped = Object.entries(ai.skipped);
  const values = [
    ...Object.entries(inputs.attributes).map(([name, value]) => `${name} ${formatNumber(value)}`),
    ...Object.entries(inputs.ratings).map(([key, rating]) => `${labels.get(key) ?? key} ${formatNumber(rating, 1)} of 10`),
  ];
  return (
    <dl className={FACTS_CLASS} data-testid="score-inputs">
      <Fact term="Scoring version">
        {detail.model} v{inputs.version}
      </Fact>
      <Fact term="Values used">{values.length > 0 ? values.join(" · ") : "None"}</Fact>
      {hasAi ? (
        <>
          <Fact term="Sent to the AI" testId="score-fields-sent">
            {ai.fields_sent.length > 0 ? `The ${fieldsWords(ai.fields_sent)}` : "Nothing"}
          </Fact>
          <Fact term="Redacted first" testId="score-redacted">
            {ai.redacted ? `Yes: ${ai.redacted_kinds.map((kind) => lowerFirst(redactionWords(kind))).join("; ")}` : "Nothing needed redacting"}
          </Fact>
          <Fact term="AI">
            {[ai.provider, ai.model].filter(Boolean).join(" · ") || "—"}
            {ai.prompt_version ? <span className="text-slate-600"> · prompt version {ai.prompt_version}</span> : null}
          </Fact>
          <Fact term="Text the AI read">
            {ai.text_sha256 ? (
              <>
                <span className="sr-only">SHA-256 starting </span>
                <code className="rounded bg-slate-100 px-1 text-xs" title={`SHA-256 ${ai.text_sha256}`}>
                  {ai.text_sha256.slice(0, HASH_SHOWN)}…
                </code>{" "}
                <span className="text-xs text-slate-600">(its SHA-256: the text itself is not kept)</span>
              </>
            ) : (
              "None"
            )}
          </Fact>
          {skipped.length > 0 ? (
            <Fact term="Left out">
              <ul>
                {skipped.map(([key, reason]) => (
                  <li key={key}>
                    {labels.get(key) ?? key}: {capitalized(skipWords(reason).replace(/^Skipped: /, ""))}
                  </li>
                ))}
              </ul>
            </Fact>
          ) : null}
        </>
      ) : (
        <Fact term="AI">No AI criteria</Fact>
      )}
      {recomputed}
    </dl>
  );
}

/**
 * "How this score was made": the inputs the score kept (values, what the AI was sent, what was
 * redacted, provider, model and prompt, the hash of the text it read) and the score recomputed
 * from them alone.
 */
export function ScoreInputs({ org, taskId, scoreId }: { org: string; taskId: string; scoreId: number }) {
  const detail = useScoreDetail(org, taskId, scoreId);
  return (
    <Card>
      <h2 className="mb-3 text-lg font-semibold text-slate-900">How this score was made</h2>
      {detail.isPending ? (
        <div className="space-y-2" aria-busy="true">
          <span className="sr-only">Loading the score&apos;s inputs…</span>
          <Skeleton className="h-4 w-2/3" />
          <Skeleton className="h-4 w-1/2" />
          <Skeleton className="h-4 w-3/4" />
        </div>
      ) : detail.isError ? (
        <Alert tone="error" actions={<Button variant="secondary" size="sm" onClick={() => void detail.refetch()}>Try again</Button>}>
          The score&apos;s inputs could not be loaded: {describeError(detail.error).message}
        </Alert>
      ) : (
        <Facts detail={detail.data} />
      )}
    </Card>
  );
}
