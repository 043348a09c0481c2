"use client";

import { useState } from "react";
import { useForm, type Path } from "react-hook-form";

import { FormError } from "@/components/auth/FormError";
import { billingActionFor } from "@/components/billing/BillingAction";
import { Alert, Badge, Button, Card, Field, Input, Skeleton, Textarea, useToast } from "@/components/ui";
import { SCHEMA_LIMITS } from "@/lib/api/limits";
import type { ScoringVersion } from "@/lib/api/types";
import { describeError } from "@/lib/errors";
import { applyServerErrors, useIdempotencyKeys, useSingleFlight } from "@/lib/forms";
import { useActiveVersion } from "@/lib/queries/scoring";
import { useSubmitTask } from "@/lib/queries/tasks";
import {
  attributeCriteria,
  attributeError,
  attributeHint,
  emptyTaskForm,
  toTaskInput,
  type TaskFormValues,
} from "@/lib/task-form";

const TITLE = SCHEMA_LIMITS.TaskIn.title;
const DESCRIPTION = SCHEMA_LIMITS.TaskIn.description;

function Form({ org, version }: { org: string; version: ScoringVersion }) {
  const toast = useToast();
  const submitTask = useSubmitTask(org);
  const keys = useIdempotencyKeys();
  const singleFlight = useSingleFlight();
  const criteria = attributeCriteria(version.criteria);
  const aiCriteria = version.criteria.filter((criterion) => criterion.kind === "ai");
  const [formError, setFormError] = useState<{ summary: string; details: string[]; error: unknown } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    reset,
    setFocus,
    formState: { errors },
  } = useForm<TaskFormValues>({ defaultValues: emptyTaskForm(criteria) });

  async function onSubmit(values: TaskFormValues) {
    // A second click while the first submission runs does nothing; a retry after a lost answer
    // sends the same Idempotency-Key, so the server makes one task either way.
    setFormError(null);
    const input = toTaskInput(values);
    try {
      const task = await submitTask.mutateAsync({ input, idempotencyKey: keys.keyFor(input) });
      keys.reset();
      reset(emptyTaskForm(criteria));
      toast.show(`“${task.title}” is submitted. Its score appears in the list.`);
      setFocus("title");
    } catch (error) {
      const fields: Path<TaskFormValues>[] = [
        "title",
        "description",
        ...criteria.map((criterion): Path<TaskFormValues> => `attributes.${criterion.attribute}`),
      ];
      const { summary, unplaced } = applyServerErrors(error, setError, fields);
      setFormError({ summary, details: unplaced, error });
    }
  }

  return (
    <form noValidate onSubmit={handleSubmit(singleFlight(onSubmit))} aria-labelledby="new-task-heading" className="space-y-4">
      <h2 id="new-task-heading" className="text-lg font-semibold text-slate-900">
        New task
      </h2>
      {formError ? (
        <FormError summary={formError.summary} details={formError.details} actions={billingActionFor(org, formError.error)} />
      ) : null}
      <Field label="Title" error={errors.title?.message}>
        {(control) => (
          <Input
            {...control}
            maxLength={TITLE.maxLength}
            {...register("title", {
              validate: (value) => value.trim() !== "" || "Enter a title.",
              maxLength: { value: TITLE.maxLength, message: `Keep the title to ${TITLE.maxLength} characters.` },
            })}
          />
        )}
      </Field>
      <Field
        label="Description"
        hint={aiCriteria.length > 0 ? "The goal, the scope and how to tell it is done: the AI rates what is written here." : undefined}
        error={errors.description?.message}
      >
        {(control) => (
          <Textarea
            {...control}
            rows={4}
            maxLength={DESCRIPTION.maxLength}
            {...register("description", {
              maxLength: { value: DESCRIPTION.maxLength, message: `Keep it to ${DESCRIPTION.maxLength} characters.` },
            })}
          />
        )}
      </Field>
      {criteria.length > 0 ? (
        <fieldset>
          <legend className="text-sm font-medium text-slate-800">What the scoring model reads</legend>
          <p className="mt-0.5 text-xs text-slate-600">Leave a value empty if you do not know it: it then counts as the worst.</p>
          <div className="mt-2 grid gap-3 sm:grid-cols-2">
            {criteria.map((criterion) => (
              <Field
                key={criterion.attribute}
                label={criterion.label}
                hint={attributeHint(criterion)}
                error={errors.attributes?.[criterion.attribute]?.message}
              >
                {(control) => (
                  <Input
                    {...control}
                    inputMode="decimal"
                    {...register(`attributes.${criterion.attribute}`, { validate: (value) => attributeError(value) ?? true })}
                  />
                )}
              </Field>
            ))}
          </div>
        </fieldset>
      ) : null}
      {aiCriteria.length > 0 ? (
        <p className="flex flex-wrap items-center gap-1.5 text-xs text-slate-600">
          <Badge tone="accent">AI</Badge> rates {aiCriteria.map((criterion) => criterion.label).join(", ")} from the title and
          description.
        </p>
      ) : null}
      <Button type="submit" isLoading={submitTask.isPending}>
        Submit task
      </Button>
    </form>
  );
}

/** The submit form, built from the org's active scoring version's criteria. */
export function TaskForm({ org }: { org: string }) {
  const versionQuery = useActiveVersion(org);
  return (
    <Card>
      {versionQuery.isPending ? (
        <div className="space-y-3" aria-busy="true">
          <Skeleton className="h-6 w-32" />
          <Skeleton className="h-9" />
          <Skeleton className="h-20" />
        </div>
      ) : versionQuery.isError ? (
        <Alert
          tone="error"
          title="The form could not be loaded"
          actions={<Button variant="secondary" size="sm" onClick={() => void versionQuery.refetch()}>Try again</Button>}
        >
          {describeError(versionQuery.error).message}
        </Alert>
      ) : (
        <Form key={versionQuery.data.id} org={org} version={versionQuery.data} />
      )}
    </Card>
  );
}
