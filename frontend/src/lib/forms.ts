import { useCallback, useRef } from "react";
import type { FieldValues, Path, UseFormSetError } from "react-hook-form";

import { AllauthError } from "./api/allauth";
import { newIdempotencyKey } from "./api/client";
import { ApiProblem } from "./api/problem";
import { describeError } from "./errors";

/** Strips a `body.` prefix some validators put before field names. */
export function normalizeFieldName(field: string): string {
  return field.startsWith("body.") ? field.slice("body.".length) : field;
}

const FIX_FIELDS = "Please correct the fields marked below.";

/**
 * Puts an API refusal's field errors on the form's fields (by the API's dotted field name,
 * optionally renamed) and returns the messages that belong to no field of this form, plus a
 * summary for the top of the form.
 */
export function applyServerErrors<Values extends FieldValues>(
  error: unknown,
  setError: UseFormSetError<Values>,
  fields: readonly Path<Values>[],
  rename: (apiField: string) => string = (field) => field,
): { summary: string; unplaced: string[] } {
  const known = new Set<string>(fields);
  const unplaced: string[] = [];
  let entries: [string, string][] = [];
  if (error instanceof ApiProblem) entries = Object.entries(error.fieldErrors);
  else if (error instanceof AllauthError) entries = Object.entries(error.fieldMessages);
  for (const [apiField, message] of entries) {
    const field = rename(normalizeFieldName(apiField));
    if (known.has(field)) setError(field as Path<Values>, { type: "server", message });
    else unplaced.push(apiField && apiField !== "" && !(error instanceof AllauthError) ? `${apiField}: ${message}` : message);
  }
  const placedAny = entries.length > unplaced.length;
  let summary: string;
  if (error instanceof AllauthError || (error instanceof ApiProblem && error.status === 422)) {
    summary = unplaced.length > 0 ? "" : placedAny ? FIX_FIELDS : describeError(error).message;
    if (unplaced.length > 0 && error instanceof ApiProblem) summary = FIX_FIELDS;
  } else {
    summary = describeError(error).message;
  }
  return { summary, unplaced };
}

/**
 * One idempotency key per intended submission: the same body gets the same key (a double click, a
 * retry after a lost answer), a changed body a new one, and `reset()` after success starts over.
 */
export function useIdempotencyKeys() {
  const current = useRef<{ body: string; key: string } | null>(null);
  const keyFor = useCallback((body: unknown): string => {
    const json = JSON.stringify(body);
    if (current.current?.body !== json) current.current = { body: json, key: newIdempotencyKey() };
    return current.current.key;
  }, []);
  const reset = useCallback(() => {
    current.current = null;
  }, []);
  return { keyFor, reset };
}

/**
 * Wraps a submit handler so that it runs once at a time: a second click (or Enter) while the
 * first submission is on its way does nothing, even within one event loop turn.
 */
export function useSingleFlight() {
  const isBusy = useRef(false);
  return useCallback(
    <Args extends unknown[]>(handler: (...args: Args) => Promise<void>) =>
      async (...args: Args): Promise<void> => {
        if (isBusy.current) return;
        isBusy.current = true;
        try {
          await handler(...args);
        } finally {
          isBusy.current = false;
        }
      },
    [],
  );
}

/**
 * `useSingleFlight` for a form that is finished after one success (a dialog that then closes): the
 * handler resolves `true` when it succeeded, and from then on a submission does nothing, even a
 * second click that lands after the answer but before the dialog is gone.
 */
export function useSingleSubmission() {
  const state = useRef<"ready" | "busy" | "done">("ready");
  return useCallback(
    <Args extends unknown[]>(handler: (...args: Args) => Promise<boolean>) =>
      async (...args: Args): Promise<void> => {
        if (state.current !== "ready") return;
        state.current = "busy";
        let isDone = false;
        try {
          isDone = await handler(...args);
        } finally {
          state.current = isDone ? "done" : "ready";
        }
      },
    [],
  );
}
