"use client";

import { useId, useState, type ChangeEvent } from "react";

import { Alert, Badge, Button, Card, EmptyState, Field, Skeleton, Table, TBody, Td, Textarea, Th, THead, useToast } from "@/components/ui";
import { ApiProblem } from "@/lib/api/problem";
import type { CriterionCalibration } from "@/lib/api/types";
import {
  agreementFigures,
  exampleLabelsCsv,
  LABELS_CSV_HEADER,
  LABELS_CSV_MAX_CHARS,
  labelImportErrors,
  labelRowWords,
  labelsCsvError,
} from "@/lib/calibration";
import { describeError } from "@/lib/errors";
import { formatNumber } from "@/lib/format";
import { useIdempotencyKeys, useSingleFlight } from "@/lib/forms";
import { useCalibration, useImportLabels } from "@/lib/queries/scoring";

function CriterionAgreement({ criterion }: { criterion: CriterionCalibration }) {
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} className="space-y-2" data-testid="calibration-criterion" data-criterion={criterion.key}>
      <div>
        <h4 id={headingId} className="flex flex-wrap items-center gap-2 font-medium text-slate-900">
          {criterion.label} <Badge tone="accent">AI</Badge>
        </h4>
        <p className="text-xs text-slate-600">{criterion.rubric}</p>
        <p className="mt-1 text-xs text-slate-600">
          People&apos;s ratings: {formatNumber(criterion.from_reviews)} from reviews, {formatNumber(criterion.from_imports)} imported.
        </p>
      </div>
      <Table caption={`How the AI's ratings of ${criterion.label} agree with people's`} minWidth="20rem">
        <THead>
          <tr>
            <Th>Figure</Th>
            <Th numeric>Value</Th>
            <Th>What it says</Th>
          </tr>
        </THead>
        <TBody>
          {agreementFigures(criterion.agreement).map((figure) => (
            <tr key={figure.name} data-testid="calibration-figure" data-figure={figure.name}>
              <Td className="whitespace-nowrap">{figure.name}</Td>
              <Td numeric className="font-semibold text-slate-900">
                {figure.value}
              </Td>
              <Td className="text-slate-700">{figure.reading}</Td>
            </tr>
          ))}
        </TBody>
      </Table>
    </section>
  );
}

function Explanation() {
  return (
    <details className="rounded-lg border border-slate-200 px-3 py-2 text-sm text-slate-700">
      <summary className="cursor-pointer font-medium text-slate-900">What these figures mean</summary>
      <dl className="mt-2 space-y-2">
        <div>
          <dt className="font-medium">Labels</dt>
          <dd>Tasks that both a person and the AI (under this version) rated. A person&apos;s review wins over an imported rating.</dd>
        </div>
        <div>
          <dt className="font-medium">Spearman ρ</dt>
          <dd>Whether the AI puts tasks in the same order as people: 1 is the same order, 0 no relation, −1 the reverse.</dd>
        </div>
        <div>
          <dt className="font-medium">Mean absolute error</dt>
          <dd>How far the AI&apos;s rating is from the person&apos;s, on average, in points of the 0–10 scale.</dd>
        </div>
        <div>
          <dt className="font-medium">Bias</dt>
          <dd>The AI&apos;s rating minus the person&apos;s, on average: above 0 the AI rates higher, below 0 lower.</dd>
        </div>
        <div>
          <dt className="font-medium">Pairwise accuracy</dt>
          <dd>Of the pairs of tasks people rate at least 4 points apart, the share the AI orders the same way.</dd>
        </div>
      </dl>
      <p className="mt-2">Each figure needs at least two labels; a handful of labels gives a rough figure, dozens a reliable one.</p>
    </details>
  );
}

/** Imports people's 0–10 ratings from a CSV file or pasted text: every row or none. */
function LabelsImport({ org, criterionKeys }: { org: string; criterionKeys: readonly string[] }) {
  const toast = useToast();
  const fileId = useId();
  const importLabels = useImportLabels(org);
  const keys = useIdempotencyKeys();
  const singleFlight = useSingleFlight();
  const [text, setText] = useState("");
  const [checkError, setCheckError] = useState<string | undefined>(undefined);
  const [result, setResult] = useState<{ imported: number; criteria: string[] } | null>(null);
  const [refusal, setRefusal] = useState<{ rows: string[]; other: string[] } | null>(null);

  async function onFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    setResult(null);
    setRefusal(null);
    setCheckError(undefined);
    if (!file) return;
    if (file.size > LABELS_CSV_MAX_CHARS * 4) {
      setCheckError(`The file is too large: at most ${formatNumber(LABELS_CSV_MAX_CHARS)} characters (5,000 rows).`);
      return;
    }
    setText(await file.text());
  }

  async function onImport() {
    setResult(null);
    setRefusal(null);
    const problem = labelsCsvError(text);
    setCheckError(problem);
    if (problem) return;
    const body = { csv: text };
    try {
      const imported = await importLabels.mutateAsync({ ...body, idempotencyKey: keys.keyFor(body) });
      keys.reset();
      setResult(imported);
      setText("");
      toast.show(`Imported ${imported.imported} ${imported.imported === 1 ? "rating" : "ratings"}.`);
    } catch (error) {
      // 422: malformed rows; 404: well-formed rows naming tasks or criteria the org lacks.
      if (error instanceof ApiProblem && (error.status === 422 || error.status === 404)) {
        const { rows, other } = labelImportErrors(error.errors);
        setRefusal({ rows: rows.map(labelRowWords), other: other.length > 0 || rows.length > 0 ? other : [describeError(error).message] });
      } else {
        setRefusal({ rows: [], other: [describeError(error).message] });
      }
    }
  }

  const importOnce = singleFlight(onImport);
  const example = `data:text/csv;charset=utf-8,${encodeURIComponent(exampleLabelsCsv(criterionKeys))}`;
  return (
    <section aria-labelledby="labels-import-heading" className="space-y-3 border-t border-slate-100 pt-5">
      <div>
        <h3 id="labels-import-heading" className="font-medium text-slate-900">
          Import people&apos;s ratings
        </h3>
        <p className="mt-1 text-sm text-slate-600">
          A CSV with the header <code className="rounded bg-slate-100 px-1">{LABELS_CSV_HEADER}</code>: a task&apos;s id, an AI
          criterion&apos;s key ({criterionKeys.join(", ")}) and a rating from 0 to 10; up to 5,000 rows. Either every row is
          imported, or none is.{" "}
          <a href={example} download="taskscore-ratings.csv" className="font-medium text-indigo-700 underline hover:text-indigo-600">
            Download an example
          </a>
        </p>
      </div>
      <div>
        <label htmlFor={fileId} className="mb-1 block text-sm font-medium text-slate-800">
          CSV file
        </label>
        <input
          id={fileId}
          type="file"
          accept=".csv,text/csv"
          onChange={(event) => void onFile(event)}
          className="block w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-semibold file:text-slate-800 hover:file:bg-slate-50"
        />
      </div>
      <Field label="Or paste the ratings" hint="The chosen file's text appears here; you can edit it before importing." error={checkError}>
        {(control) => (
          <Textarea
            {...control}
            rows={5}
            spellCheck={false}
            className="font-mono text-xs"
            placeholder={`${LABELS_CSV_HEADER}\n…`}
            value={text}
            onChange={(event) => {
              setText(event.target.value);
              setCheckError(undefined);
            }}
          />
        )}
      </Field>
      <Button onClick={() => void importOnce()} isLoading={importLabels.isPending}>
        Import ratings
      </Button>
      {result ? (
        <Alert tone="success" title={`Imported ${formatNumber(result.imported)} ${result.imported === 1 ? "rating" : "ratings"}`}>
          {result.criteria.length > 0 ? `For ${result.criteria.join(", ")}. The figures above include them.` : null}
        </Alert>
      ) : null}
      {refusal ? (
        <Alert tone="error" title="Nothing was imported">
          {refusal.rows.length > 0 ? <p>Fix these rows and import again:</p> : null}
          <ul className="list-disc pl-5" data-testid="labels-import-errors">
            {[...refusal.rows, ...refusal.other].map((message) => (
              <li key={message}>{message}</li>
            ))}
          </ul>
        </Alert>
      ) : null}
    </section>
  );
}

/**
 * Calibration of a version's AI criteria: how their AI ratings agree with people's ratings of the
 * same tasks (reviews on task pages, imported labels), per criterion, with what the figures mean.
 * A reviewer imports more ratings here.
 */
export function CalibrationSection({
  org,
  modelId,
  number,
  canReview,
}: {
  org: string;
  modelId: number;
  number: number;
  canReview: boolean;
}) {
  const calibration = useCalibration(org, modelId, number);
  const criteria = calibration.data?.criteria ?? [];
  const hasLabels = criteria.some((criterion) => criterion.agreement.labels > 0 || criterion.from_reviews > 0 || criterion.from_imports > 0);
  return (
    <Card>
      <section aria-labelledby="calibration-heading" className="space-y-5">
        <div>
          <h2 id="calibration-heading" className="text-lg font-semibold text-slate-900">
            Calibration
          </h2>
          <p className="mt-1 text-sm text-slate-600">
            How this version&apos;s AI ratings agree with people&apos;s ratings of the same tasks. People rate by overriding an AI
            criterion on a task&apos;s page, or by importing ratings.
          </p>
        </div>
        {calibration.isPending ? (
          <div className="space-y-2" aria-busy="true">
            <span className="sr-only">Loading the calibration…</span>
            <Skeleton className="h-5 w-1/3" />
            <Skeleton className="h-32" />
          </div>
        ) : calibration.isError ? (
          <Alert tone="error" actions={<Button variant="secondary" size="sm" onClick={() => void calibration.refetch()}>Try again</Button>}>
            The calibration could not be loaded: {describeError(calibration.error).message}
          </Alert>
        ) : !hasLabels ? (
          <EmptyState title="No labels yet: override an AI criterion on a task, or import a CSV">
            Each person&apos;s rating of a task on an AI criterion is a label; with two or more, this shows how far the AI agrees.
          </EmptyState>
        ) : (
          <>
            {criteria.map((criterion) => (
              <CriterionAgreement key={criterion.key} criterion={criterion} />
            ))}
            <Explanation />
          </>
        )}
        {canReview ? <LabelsImport org={org} criterionKeys={criteria.map((criterion) => criterion.key)} /> : null}
      </section>
    </Card>
  );
}
