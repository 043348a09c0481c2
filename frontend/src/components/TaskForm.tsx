"use client";

import { useId, useState, type FormEvent } from "react";

import { ApiProblem } from "@/lib/api/problem";
import { useSubmitTask } from "@/lib/queries";
import {
  attributeField,
  buildTaskInput,
  DEFAULT_ATTRIBUTES,
  defaultAttributeRows,
  newAttributeRow,
  normalizeFieldName,
  type AttributeRow,
  type FieldErrors,
} from "@/lib/task-form";

const inputBaseClassName =
  "block rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-xs placeholder:text-slate-400 focus:border-indigo-500 focus:outline-2 focus:outline-indigo-500/40 aria-invalid:border-rose-500";
const inputClassName = `${inputBaseClassName} w-full`;

function FieldMessage({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} data-testid="field-error" className="mt-1 text-sm text-rose-700">
      {message}
    </p>
  );
}

function hintFor(name: string): string | undefined {
  return DEFAULT_ATTRIBUTES.find((attribute) => attribute.name === name.trim())?.hint;
}

/** Splits server field errors into the ones this form shows next to a field and the rest. */
function splitServerErrors(problem: ApiProblem, rows: readonly AttributeRow[]) {
  const known = new Set(["title", "description", "attributes", ...rows.map((row) => attributeField(row.name))]);
  const fields: FieldErrors = {};
  const other: string[] = [];
  for (const [rawField, message] of Object.entries(problem.fieldErrors)) {
    const field = normalizeFieldName(rawField);
    if (known.has(field)) fields[field] = message;
    else other.push(`${field}: ${message}`);
  }
  return { fields, other };
}

export function TaskForm({ org }: { org: string }) {
  const formId = useId();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [rows, setRows] = useState<AttributeRow[]>(defaultAttributeRows);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [otherErrors, setOtherErrors] = useState<string[]>([]);
  const [announcement, setAnnouncement] = useState("");
  const submitTask = useSubmitTask(org);

  function updateRow(key: string, change: Partial<Pick<AttributeRow, "name" | "value">>) {
    setRows((current) => current.map((row) => (row.key === key ? { ...row, ...change } : row)));
  }

  function clearErrors() {
    setFieldErrors({});
    setRowErrors({});
    setFormError(null);
    setOtherErrors([]);
  }

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    clearErrors();
    setAnnouncement("");
    const built = buildTaskInput({ title, description, rows });
    if (!built.ok) {
      setFieldErrors(built.errors);
      setRowErrors(built.rowErrors);
      return;
    }
    try {
      const task = await submitTask.mutateAsync(built.input);
      setTitle("");
      setDescription("");
      setAnnouncement(`Task “${task.title}” submitted. Its score will appear in the list.`);
    } catch (error) {
      if (error instanceof ApiProblem && error.status === 422 && error.errors.length > 0) {
        const { fields, other } = splitServerErrors(error, rows);
        setFieldErrors(fields);
        setOtherErrors(other);
        setFormError(error.detail ?? "Please correct the highlighted fields.");
      } else if (error instanceof ApiProblem) {
        setFormError(error.detail ?? error.title);
      } else {
        setFormError("The task could not be submitted. Check your connection and try again.");
      }
    }
  }

  const titleId = `${formId}-title`;
  const descriptionId = `${formId}-description`;
  const hasErrors = formError !== null || Object.keys(fieldErrors).length > 0 || Object.keys(rowErrors).length > 0;

  return (
    <form
      noValidate
      onSubmit={handleSubmit}
      aria-labelledby={`${formId}-heading`}
      className="space-y-5 rounded-xl border border-slate-200 bg-white p-5 shadow-sm"
    >
      <h2 id={`${formId}-heading`} className="text-lg font-semibold text-slate-900">
        New task
      </h2>

      {hasErrors && formError ? (
        <div role="alert" className="rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800">
          <p>{formError}</p>
          {otherErrors.length > 0 ? (
            <ul className="mt-1 list-disc pl-5">
              {otherErrors.map((message) => (
                <li key={message}>{message}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}

      <div>
        <label htmlFor={titleId} className="mb-1 block text-sm font-medium text-slate-800">
          Title
        </label>
        <input
          id={titleId}
          name="title"
          type="text"
          maxLength={200}
          required
          value={title}
          onChange={(event) => setTitle(event.target.value)}
          aria-invalid={fieldErrors.title ? true : undefined}
          aria-describedby={fieldErrors.title ? `${titleId}-error` : undefined}
          className={inputClassName}
        />
        <FieldMessage id={`${titleId}-error`} message={fieldErrors.title} />
      </div>

      <div>
        <label htmlFor={descriptionId} className="mb-1 block text-sm font-medium text-slate-800">
          Description
        </label>
        <textarea
          id={descriptionId}
          name="description"
          rows={3}
          value={description}
          onChange={(event) => setDescription(event.target.value)}
          aria-invalid={fieldErrors.description ? true : undefined}
          aria-describedby={fieldErrors.description ? `${descriptionId}-error` : undefined}
          className={inputClassName}
        />
        <FieldMessage id={`${descriptionId}-error`} message={fieldErrors.description} />
      </div>

      <fieldset>
        <legend className="text-sm font-medium text-slate-800">Attributes</legend>
        <p className="mt-0.5 text-xs text-slate-500">Numbers the scoring formula reads. Add, rename or remove any.</p>
        <FieldMessage id={`${formId}-attributes-error`} message={fieldErrors.attributes} />
        <ul className="mt-3 space-y-2">
          {rows.map((row, index) => {
            const position = index + 1;
            const message = rowErrors[row.key] ?? fieldErrors[attributeField(row.name)];
            const errorId = `${formId}-${row.key}-error`;
            const hint = hintFor(row.name);
            const hintId = `${formId}-${row.key}-hint`;
            const describedBy = [message ? errorId : null, hint ? hintId : null].filter(Boolean).join(" ") || undefined;
            return (
              <li key={row.key} data-testid="attribute-row">
                <div className="flex items-start gap-2">
                  <input
                    type="text"
                    name="attribute-name"
                    aria-label={`Attribute ${position} name`}
                    placeholder="name"
                    value={row.name}
                    onChange={(event) => updateRow(row.key, { name: event.target.value })}
                    aria-invalid={message ? true : undefined}
                    aria-describedby={message ? errorId : undefined}
                    className={`${inputBaseClassName} w-0 min-w-0 flex-1`}
                  />
                  <input
                    type="number"
                    name="attribute-value"
                    inputMode="decimal"
                    step="any"
                    aria-label={`Attribute ${position} value`}
                    placeholder="0"
                    value={row.value}
                    onChange={(event) => updateRow(row.key, { value: event.target.value })}
                    aria-invalid={message ? true : undefined}
                    aria-describedby={describedBy}
                    className={`${inputBaseClassName} w-24 shrink-0 sm:w-32`}
                  />
                  <button
                    type="button"
                    onClick={() => setRows((current) => current.filter((candidate) => candidate.key !== row.key))}
                    aria-label={`Remove attribute ${row.name.trim() || position}`}
                    className="shrink-0 rounded-md px-2.5 py-2 text-sm text-slate-500 hover:bg-slate-100 hover:text-slate-800 focus-visible:outline-2 focus-visible:outline-indigo-500"
                  >
                    <span aria-hidden="true">✕</span>
                  </button>
                </div>
                {hint ? (
                  <p id={hintId} className="mt-0.5 pl-1 text-xs text-slate-500">
                    Range {hint}
                  </p>
                ) : null}
                <FieldMessage id={errorId} message={message} />
              </li>
            );
          })}
        </ul>
        <button
          type="button"
          onClick={() => setRows((current) => [...current, newAttributeRow()])}
          className="mt-3 rounded-md border border-dashed border-slate-300 px-3 py-1.5 text-sm text-slate-700 hover:border-slate-400 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-indigo-500"
        >
          Add attribute
        </button>
      </fieldset>

      <div className="flex items-center gap-3">
        <button
          type="submit"
          disabled={submitTask.isPending}
          className="shrink-0 whitespace-nowrap rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:cursor-wait disabled:opacity-60"
        >
          Submit task
        </button>
        <p role="status" className="text-sm text-emerald-700">
          {announcement}
        </p>
      </div>
    </form>
  );
}
