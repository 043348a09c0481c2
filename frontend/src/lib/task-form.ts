import type { AttributeCriterion, Criterion, TaskInput } from "./api/types";
import { SCHEMA_LIMITS } from "./api/limits";
import { formatNumber } from "./format";

/** The form's values: text as typed, and each attribute's number as typed (so "1e" stays). */
export interface TaskFormValues {
  title: string;
  description: string;
  attributes: Record<string, string>;
}

const VALUE_MIN = SCHEMA_LIMITS.TaskIn.attributes.valueMinimum;
const VALUE_MAX = SCHEMA_LIMITS.TaskIn.attributes.valueMaximum;

/** The attribute criteria of a version, one per attribute (the first wins if two read one). */
export function attributeCriteria(criteria: readonly Criterion[]): AttributeCriterion[] {
  const seen = new Set<string>();
  const result: AttributeCriterion[] = [];
  for (const criterion of criteria) {
    if (criterion.kind !== "attribute" || seen.has(criterion.attribute)) continue;
    seen.add(criterion.attribute);
    result.push(criterion);
  }
  return result;
}

/** "0–1000, lower is better": what a person should know to fill in an attribute. */
export function attributeHint(criterion: AttributeCriterion): string {
  const range = `${formatNumber(criterion.min ?? 0)}–${formatNumber(criterion.max ?? 1)}`;
  return criterion.invert ? `${range}, lower is better` : `${range}, higher is better`;
}

export function emptyTaskForm(criteria: readonly AttributeCriterion[]): TaskFormValues {
  return { title: "", description: "", attributes: Object.fromEntries(criteria.map((c) => [c.attribute, ""])) };
}

/** Checks one attribute's text: empty is allowed (not sent), else a finite number in the API's range. */
export function attributeError(raw: string): string | undefined {
  const text = raw.trim();
  if (text === "") return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) return "Enter a number.";
  if (value < VALUE_MIN || value > VALUE_MAX) return "This number is too large.";
  return undefined;
}

/** The API's input from the form's values: trimmed text, and only the attributes filled in. */
export function toTaskInput(values: TaskFormValues): TaskInput {
  const attributes: Record<string, number> = {};
  for (const [name, raw] of Object.entries(values.attributes)) {
    const text = raw.trim();
    if (text !== "") attributes[name] = Number(text);
  }
  return { title: values.title.trim(), description: values.description.trim(), attributes };
}
