import type { TaskInput } from "./api/types";

export interface AttributeRow {
  /** Stable React key; not sent. */
  key: string;
  name: string;
  /** The number input's raw text, so a half-typed value is kept as typed. */
  value: string;
}

/** The attributes of a new org's default scoring formula, with mid-range starting values. */
export const DEFAULT_ATTRIBUTES: readonly { name: string; value: string; hint: string }[] = [
  { name: "reach", value: "100", hint: "0–1000" },
  { name: "impact", value: "5", hint: "0–10" },
  { name: "confidence", value: "80", hint: "0–100" },
  { name: "effort", value: "3", hint: "0–10, lower is better" },
];

let rowCounter = 0;

export function newAttributeRow(name = "", value = ""): AttributeRow {
  rowCounter += 1;
  return { key: `attribute-${rowCounter}`, name, value };
}

export function defaultAttributeRows(): AttributeRow[] {
  return DEFAULT_ATTRIBUTES.map(({ name, value }) => newAttributeRow(name, value));
}

/** Field errors keyed like the API's: `title`, `attributes`, `attributes.<name>`. */
export type FieldErrors = Record<string, string>;

export type BuildResult =
  | { ok: true; input: TaskInput }
  | { ok: false; errors: FieldErrors; rowErrors: Record<string, string> };

/**
 * Turns the form's values into the API's input, checking what can be checked here: a title,
 * and for each attribute row a name (unique) and a finite number. A fully blank row is skipped.
 * `rowErrors` is keyed by row key, for rows that have no usable name to key them by.
 */
export function buildTaskInput(values: { title: string; description: string; rows: readonly AttributeRow[] }): BuildResult {
  const errors: FieldErrors = {};
  const rowErrors: Record<string, string> = {};
  const attributes: Record<string, number> = {};

  const title = values.title.trim();
  if (title === "") errors.title = "Enter a title.";
  else if (title.length > 200) errors.title = "Keep the title to 200 characters or fewer.";

  for (const row of values.rows) {
    const name = row.name.trim();
    const rawValue = row.value.trim();
    if (name === "" && rawValue === "") continue;
    if (name === "") {
      rowErrors[row.key] = "Name this attribute.";
      continue;
    }
    if (Object.hasOwn(attributes, name)) {
      rowErrors[row.key] = `“${name}” is listed twice.`;
      continue;
    }
    const value = Number(rawValue);
    if (rawValue === "" || !Number.isFinite(value)) {
      rowErrors[row.key] = "Enter a number.";
      continue;
    }
    attributes[name] = value;
  }

  if (Object.keys(errors).length > 0 || Object.keys(rowErrors).length > 0) {
    return { ok: false, errors, rowErrors };
  }
  return { ok: true, input: { title, description: values.description, attributes } };
}

/** The API's field name for an attribute row's value. */
export function attributeField(name: string): string {
  return `attributes.${name.trim()}`;
}

/** Strips a `body.` prefix some validators put before field names. */
export function normalizeFieldName(field: string): string {
  return field.startsWith("body.") ? field.slice("body.".length) : field;
}
