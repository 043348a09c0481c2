"use client";

import { useState } from "react";
import { useForm } from "react-hook-form";

import { FormError } from "@/components/auth/FormError";
import { Button, Dialog, Field, Input, Textarea, useToast } from "@/components/ui";
import { ApiProblem } from "@/lib/api/problem";
import { applyServerErrors, normalizeFieldName, useIdempotencyKeys, useSingleSubmission } from "@/lib/forms";
import { useCreateOverride } from "@/lib/queries/tasks";
import {
  targetPhrase,
  formatOverrideValue,
  overrideValueError,
  overrideValueHint,
  REASON_MAX,
  reasonError,
  type OverrideTarget,
} from "@/lib/review";

interface OverrideFormValues {
  value: string;
  reason: string;
}

/** The form's fields, named as the API names them in a 422. */
const FIELDS = ["value", "reason"] as const;

function OverrideForm({ org, taskId, target, onDone }: { org: string; taskId: string; target: OverrideTarget; onDone: () => void }) {
  const toast = useToast();
  const createOverride = useCreateOverride(org, taskId);
  const keys = useIdempotencyKeys();
  const submitOnce = useSingleSubmission();
  const [formError, setFormError] = useState<{ summary: string; details: string[] } | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    setFocus,
    formState: { errors },
  } = useForm<OverrideFormValues>({ defaultValues: { value: "", reason: "" } });

  async function onSubmit(values: OverrideFormValues): Promise<boolean> {
    setFormError(null);
    const input = { criterion: target.criterion, value: Number(values.value.trim()), reason: values.reason.trim() };
    try {
      const created = await createOverride.mutateAsync({ input, idempotencyKey: keys.keyFor(input) });
      keys.reset();
      const name = targetPhrase(target);
      toast.show(
        `${name.charAt(0).toUpperCase()}${name.slice(1)} is now ${formatOverrideValue(target.kind, created.value)} (the machine's: ${formatOverrideValue(target.kind, created.machine_value)}).`,
      );
      onDone();
      return true;
    } catch (error) {
      const { summary, unplaced } = applyServerErrors(error, setError, FIELDS);
      setFormError({ summary, details: unplaced });
      // Focus the first field the server refused; otherwise the message above is announced.
      const refused = error instanceof ApiProblem ? Object.keys(error.fieldErrors).map(normalizeFieldName) : [];
      const first = FIELDS.find((field) => refused.includes(field));
      if (first) setFocus(first);
      return false;
    }
  }

  return (
    <form noValidate onSubmit={handleSubmit(submitOnce(onSubmit))} className="space-y-4" aria-label={`Override ${target.label}`}>
      {formError ? <FormError summary={formError.summary} details={formError.details} /> : null}
      <Field label={target.kind === "ai" ? "Your rating" : target.kind === "score" ? "Your score" : "Your value"} hint={overrideValueHint(target)} error={errors.value?.message}>
        {(control) => (
          <Input
            {...control}
            inputMode="decimal"
            autoComplete="off"
            className="sm:max-w-40"
            {...register("value", { validate: (value) => overrideValueError(target.kind, value) ?? true })}
          />
        )}
      </Field>
      <Field label="Reason" hint="Required. Kept with the override and in the audit log." error={errors.reason?.message}>
        {(control) => (
          <Textarea {...control} rows={3} maxLength={REASON_MAX} {...register("reason", { validate: (value) => reasonError(value) ?? true })} />
        )}
      </Field>
      <div className="flex flex-wrap justify-end gap-2">
        <Button variant="secondary" onClick={onDone} disabled={createOverride.isPending}>
          Cancel
        </Button>
        <Button type="submit" isLoading={createOverride.isPending}>
          Save override
        </Button>
      </div>
    </form>
  );
}

/**
 * Overrides a task's score or one criterion's value with a reason: the value's range follows what
 * is overridden (a score 0–100, an AI rating 0–10, an attribute's own value). Focus starts in the
 * value field and returns to the button that opened the dialog.
 */
export function OverrideDialog({
  org,
  taskId,
  target,
  onClose,
}: {
  org: string;
  taskId: string;
  /** What to override; null keeps the dialog closed. */
  target: OverrideTarget | null;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={target !== null}
      onClose={onClose}
      title={target ? (target.criterion === null ? "Override the score" : `Override ${target.label}`) : ""}
      description={
        target
          ? target.criterion === null
            ? "Your score replaces the machine's as the task's score; the machine's stays beside it."
            : "Your value replaces the machine's in the reviewed score; the machine's stays beside it."
          : undefined
      }
    >
      {target ? <OverrideForm key={target.criterion ?? ""} org={org} taskId={taskId} target={target} onDone={onClose} /> : null}
    </Dialog>
  );
}
