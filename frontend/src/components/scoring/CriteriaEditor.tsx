"use client";

import { useFieldArray, useWatch, type Control, type FieldErrors, type UseFormRegister } from "react-hook-form";

import { Badge, Button, Checkbox, Field, Input, Textarea } from "@/components/ui";
import {
  CRITERIA_LIMITS,
  newAiDraft,
  newAttributeDraft,
  validateNumber,
  weightShares,
  type CriteriaFormValues,
} from "@/lib/criteria-form";
import { formatPercent } from "@/lib/format";

interface CriteriaEditorProps {
  control: Control<CriteriaFormValues>;
  register: UseFormRegister<CriteriaFormValues>;
  errors: FieldErrors<CriteriaFormValues>;
}

/** A criterion field's message; the two kinds have different fields, so look it up by name. */
function errorOf(errors: unknown, name: string): string | undefined {
  if (typeof errors !== "object" || errors === null) return undefined;
  const field = (errors as Record<string, { message?: unknown } | undefined>)[name];
  return typeof field?.message === "string" ? field.message : undefined;
}

const PATTERN_MESSAGE = "Lowercase letters, digits and _, starting with a letter (up to 40).";

/** Edits a list of criteria: attribute criteria (range, direction) and AI criteria (question, anchors), weights as live percentages. */
export function CriteriaEditor({ control, register, errors }: CriteriaEditorProps) {
  const { fields, append, remove, move } = useFieldArray({ control, name: "criteria" });
  const criteria = useWatch({ control, name: "criteria" });
  const shares = weightShares(criteria);
  const takenKeys = new Set(criteria.map((criterion) => criterion.key));
  const isFull = fields.length >= CRITERIA_LIMITS.maxItems;

  return (
    <div className="space-y-4">
      {errors.criteria?.root?.message || errors.criteria?.message ? (
        <p className="text-sm text-rose-700" role="alert">
          {errors.criteria.root?.message ?? errors.criteria.message}
        </p>
      ) : null}
      <ol className="space-y-4">
        {fields.map((field, index) => {
          const fieldErrors = errors.criteria?.[index];
          const kind = field.kind;
          const label = criteria[index]?.label ?? "";
          const name = label.trim() || `Criterion ${index + 1}`;
          return (
            <li key={field.id} className="rounded-lg border border-slate-200 p-4" data-testid="criterion-editor" data-kind={kind}>
              <fieldset className="space-y-3">
                <legend className="flex w-full flex-wrap items-center justify-between gap-2">
                  <span className="flex items-center gap-2 font-medium text-slate-900">
                    {name} {kind === "ai" ? <Badge tone="accent">AI</Badge> : <Badge>Attribute</Badge>}
                  </span>
                  <span className="text-sm text-slate-700 tabular-nums" data-testid="weight-share">
                    {formatPercent(shares[index] ?? 0)} of the score
                  </span>
                </legend>
                <div className="grid gap-3 sm:grid-cols-3">
                  <Field label="Label" error={errorOf(fieldErrors, "label")} className="sm:col-span-2">
                    {(props) => (
                      <Input
                        {...props}
                        maxLength={CRITERIA_LIMITS.labelMax}
                        {...register(`criteria.${index}.label`, { validate: (value) => value.trim() !== "" || "Enter a label." })}
                      />
                    )}
                  </Field>
                  <Field label="Weight" error={errorOf(fieldErrors, "weight")}>
                    {(props) => (
                      <Input
                        {...props}
                        inputMode="decimal"
                        {...register(`criteria.${index}.weight`, {
                          validate: (value) => validateNumber(value, { positive: true, max: CRITERIA_LIMITS.weightMax }),
                        })}
                      />
                    )}
                  </Field>
                </div>
                {kind === "attribute" ? (
                  <div className="grid gap-3 sm:grid-cols-4">
                    <Field label="Attribute" hint="The task's number it reads" error={errorOf(fieldErrors, "attribute")}>
                      {(props) => (
                        <Input
                          {...props}
                          {...register(`criteria.${index}.attribute`, {
                            pattern: { value: CRITERIA_LIMITS.keyPattern, message: PATTERN_MESSAGE },
                          })}
                        />
                      )}
                    </Field>
                    <Field label="Lowest" hint="Counts as 0" error={errorOf(fieldErrors, "min")}>
                      {(props) => <Input {...props} inputMode="decimal" {...register(`criteria.${index}.min`, { validate: (value) => validateNumber(value) })} />}
                    </Field>
                    <Field label="Highest" hint="Counts as full" error={errorOf(fieldErrors, "max")}>
                      {(props) => <Input {...props} inputMode="decimal" {...register(`criteria.${index}.max`, { validate: (value) => validateNumber(value) })} />}
                    </Field>
                    <div className="flex items-end pb-2">
                      <label className="flex items-center gap-2 text-sm text-slate-800">
                        <Checkbox {...register(`criteria.${index}.invert`)} />
                        Lower is better
                      </label>
                    </div>
                  </div>
                ) : (
                  <div className="space-y-3">
                    <Field label="Question the AI answers (0–10)" error={errorOf(fieldErrors, "rubric")}>
                      {(props) => (
                        <Textarea
                          {...props}
                          rows={2}
                          maxLength={CRITERIA_LIMITS.rubricMax}
                          {...register(`criteria.${index}.rubric`, {
                            validate: (value) =>
                              value.trim().length >= CRITERIA_LIMITS.rubricMin || `Write at least ${CRITERIA_LIMITS.rubricMin} characters.`,
                          })}
                        />
                      )}
                    </Field>
                    <div className="grid gap-3 sm:grid-cols-2">
                      <Field label="What a 10 looks like" error={errorOf(fieldErrors, "high_anchor")}>
                        {(props) => <Textarea {...props} rows={2} maxLength={CRITERIA_LIMITS.anchorMax} {...register(`criteria.${index}.high_anchor`)} />}
                      </Field>
                      <Field label="What a 0 looks like" error={errorOf(fieldErrors, "low_anchor")}>
                        {(props) => <Textarea {...props} rows={2} maxLength={CRITERIA_LIMITS.anchorMax} {...register(`criteria.${index}.low_anchor`)} />}
                      </Field>
                    </div>
                  </div>
                )}
                <details className="text-sm">
                  <summary className="cursor-pointer text-slate-600">Key (used in breakdowns and the API)</summary>
                  <Field label="Key" hideLabel error={errorOf(fieldErrors, "key")} className="mt-2 max-w-xs">
                    {(props) => (
                      <Input
                        {...props}
                        {...register(`criteria.${index}.key`, {
                          pattern: { value: CRITERIA_LIMITS.keyPattern, message: PATTERN_MESSAGE },
                          validate: (value) =>
                            criteria.filter((criterion) => criterion.key === value).length <= 1 || "Two criteria have this key.",
                        })}
                      />
                    )}
                  </Field>
                </details>
                <div className="flex flex-wrap gap-2">
                  <Button size="sm" variant="ghost" disabled={index === 0} onClick={() => move(index, index - 1)}>
                    Move up<span className="sr-only"> {name}</span>
                  </Button>
                  <Button size="sm" variant="ghost" disabled={index === fields.length - 1} onClick={() => move(index, index + 1)}>
                    Move down<span className="sr-only"> {name}</span>
                  </Button>
                  <Button size="sm" variant="ghost" disabled={fields.length === 1} onClick={() => remove(index)} className="text-rose-700">
                    Remove<span className="sr-only"> {name}</span>
                  </Button>
                </div>
              </fieldset>
            </li>
          );
        })}
      </ol>
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" size="sm" disabled={isFull} onClick={() => append(newAttributeDraft(takenKeys))}>
          Add attribute criterion
        </Button>
        <Button variant="secondary" size="sm" disabled={isFull} onClick={() => append(newAiDraft(takenKeys))}>
          Add AI criterion
        </Button>
        {isFull ? <p className="text-sm text-slate-600">A version holds at most {CRITERIA_LIMITS.maxItems} criteria.</p> : null}
      </div>
    </div>
  );
}
