"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useId, useState, type ChangeEvent } from "react";

import { billingActionFor } from "@/components/billing/BillingAction";
import { Alert, Badge, Button, Card, PageHeader, Table, TBody, Td, Th, THead, useToast } from "@/components/ui";
import { ApiProblem } from "@/lib/api/problem";
import { batchErrorsByLine, exampleCsv, MAX_IMPORT_ROWS, parseTaskCsv, type ParsedImport } from "@/lib/csv-import";
import { describeError } from "@/lib/errors";
import { formatNumber } from "@/lib/format";
import { useIdempotencyKeys, useSingleFlight } from "@/lib/forms";
import { paths } from "@/lib/paths";
import { useActiveVersion } from "@/lib/queries/scoring";
import { useSubmitBatch } from "@/lib/queries/tasks";
import { attributeCriteria } from "@/lib/task-form";

const MAX_FILE_BYTES = 5 * 1024 * 1024;

function ExampleLink({ org }: { org: string }) {
  const version = useActiveVersion(org).data;
  const names = version ? attributeCriteria(version.criteria).map((criterion) => criterion.attribute) : [];
  const href = `data:text/csv;charset=utf-8,${encodeURIComponent(exampleCsv(names))}`;
  return (
    <a href={href} download="taskscore-tasks.csv" className="font-medium text-indigo-700 underline hover:text-indigo-600">
      Download an example file
    </a>
  );
}

/** Imports up to 100 tasks from a CSV file in one batch: every row is checked first, and a bad row imports nothing. */
export function ImportTasks({ org }: { org: string }) {
  const router = useRouter();
  const toast = useToast();
  const inputId = useId();
  const submitBatch = useSubmitBatch(org);
  const keys = useIdempotencyKeys();
  const singleFlight = useSingleFlight();
  const [fileName, setFileName] = useState<string | null>(null);
  const [parsed, setParsed] = useState<ParsedImport | null>(null);
  const [serverErrors, setServerErrors] = useState<{ byLine: Map<number, string[]>; other: string[] } | null>(null);
  const [failure, setFailure] = useState<{ message: string; error?: unknown } | null>(null);

  async function onFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    setServerErrors(null);
    setFailure(null);
    setParsed(null);
    setFileName(file?.name ?? null);
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      setFailure({ message: `The file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB; a file of ${MAX_IMPORT_ROWS} tasks is far smaller.` });
      return;
    }
    setParsed(parseTaskCsv(await file.text()));
  }

  const rows = parsed?.rows ?? [];
  const rowErrorCount = rows.filter((row) => row.errors.length > 0).length;
  const isValid = parsed !== null && parsed.fileErrors.length === 0 && rowErrorCount === 0;

  async function onImport() {
    if (!parsed || !isValid) return;
    setServerErrors(null);
    setFailure(null);
    const input = { tasks: parsed.rows.map((row) => row.input) };
    try {
      const created = await submitBatch.mutateAsync({ input, idempotencyKey: keys.keyFor(input) });
      keys.reset();
      toast.show(`Imported ${created.items.length} tasks. They are being scored.`);
      router.push(paths.tasks(org));
    } catch (error) {
      if (error instanceof ApiProblem && error.status === 422 && error.errors.length > 0) {
        setServerErrors(batchErrorsByLine(error.errors));
      } else {
        setFailure({ message: describeError(error).message, error });
      }
    }
  }

  const importOnce = singleFlight(onImport);
  const problemLines = rows.filter((row) => row.errors.length > 0 || serverErrors?.byLine.has(row.line));

  return (
    <div className="space-y-6">
      <PageHeader
        title="Import tasks from CSV"
        description={`Up to ${MAX_IMPORT_ROWS} tasks at a time. Either every task is imported, or none is.`}
        actions={
          <Link href={paths.tasks(org)} className="text-sm font-medium text-indigo-700 underline hover:text-indigo-600">
            Back to the tasks
          </Link>
        }
      />
      <Card>
        <div className="space-y-3 text-sm text-slate-700">
          <p>
            The first line names the columns: <code className="rounded bg-slate-100 px-1">title</code> (required),{" "}
            <code className="rounded bg-slate-100 px-1">description</code>, and one column per attribute the scoring model
            reads (such as <code className="rounded bg-slate-100 px-1">reach</code> or{" "}
            <code className="rounded bg-slate-100 px-1">effort</code>). Leave a cell empty when the value is unknown.
          </p>
          <p>
            <ExampleLink org={org} />
          </p>
          <div>
            <label htmlFor={inputId} className="mb-1 block text-sm font-medium text-slate-800">
              CSV file
            </label>
            <input
              id={inputId}
              type="file"
              accept=".csv,text/csv"
              onChange={(event) => void onFile(event)}
              className="block w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-semibold file:text-slate-800 hover:file:bg-slate-50"
            />
          </div>
        </div>
      </Card>

      {failure ? (
        <Alert tone="error" title="Nothing was imported" actions={billingActionFor(org, failure.error)}>
          {failure.message}
        </Alert>
      ) : null}

      {parsed ? (
        <section aria-labelledby="import-preview-heading" className="space-y-3">
          <h2 id="import-preview-heading" className="text-lg font-semibold text-slate-900">
            {fileName}: {rows.length} {rows.length === 1 ? "task" : "tasks"}
          </h2>
          {parsed.fileErrors.length > 0 ? (
            <Alert tone="error" title="This file cannot be imported">
              <ul className="list-disc pl-5">
                {parsed.fileErrors.map((message) => (
                  <li key={message}>{message}</li>
                ))}
              </ul>
            </Alert>
          ) : null}
          {rowErrorCount > 0 ? (
            <Alert tone="error" title="Nothing will be imported until these lines are fixed">
              <ul className="list-disc pl-5" data-testid="import-row-errors">
                {rows
                  .filter((row) => row.errors.length > 0)
                  .map((row) => (
                    <li key={row.line}>
                      Line {row.line}: {row.errors.join(" ")}
                    </li>
                  ))}
              </ul>
            </Alert>
          ) : null}
          {serverErrors ? (
            <Alert tone="error" title="Nothing was imported: the server refused these lines">
              <ul className="list-disc pl-5" data-testid="import-row-errors">
                {[...serverErrors.byLine.entries()].map(([line, messages]) => (
                  <li key={line}>
                    Line {line}: {messages.join(" ")}
                  </li>
                ))}
                {serverErrors.other.map((message) => (
                  <li key={message}>{message}</li>
                ))}
              </ul>
            </Alert>
          ) : null}
          {rows.length > 0 ? (
            <Table caption="The tasks in the file" minWidth="20rem">
              <THead>
                <tr>
                  <Th numeric>Line</Th>
                  <Th>Title</Th>
                  <Th>Attributes</Th>
                  <Th>Check</Th>
                </tr>
              </THead>
              <TBody>
                {rows.map((row) => {
                  const messages = [...row.errors, ...(serverErrors?.byLine.get(row.line) ?? [])];
                  return (
                    <tr key={row.line} data-testid="import-row" data-line={row.line}>
                      <Td numeric>{row.line}</Td>
                      <Td className="max-w-[10rem] truncate sm:max-w-xs">{row.input.title || <span className="text-slate-500">(empty)</span>}</Td>
                      <Td className="text-xs text-slate-600">
                        {Object.entries(row.input.attributes ?? {})
                          .map(([name, value]) => `${name} ${formatNumber(value)}`)
                          .join(", ") || "—"}
                      </Td>
                      <Td>
                        {messages.length > 0 ? <Badge tone="danger">Fix</Badge> : <Badge tone="success">OK</Badge>}
                      </Td>
                    </tr>
                  );
                })}
              </TBody>
            </Table>
          ) : null}
          <div className="flex flex-wrap items-center gap-3">
            <Button onClick={() => void importOnce()} disabled={!isValid || problemLines.length > 0} isLoading={submitBatch.isPending}>
              Import {rows.length} {rows.length === 1 ? "task" : "tasks"}
            </Button>
            {!isValid ? <p className="text-sm text-slate-600">Fix the file and choose it again.</p> : null}
          </div>
        </section>
      ) : null}
    </div>
  );
}
