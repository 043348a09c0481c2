import Papa from "papaparse";

import { SCHEMA_LIMITS } from "./api/limits";
import type { TaskInput } from "./api/types";
import { attributeError } from "./task-form";

/** The most tasks one import sends (the batch endpoint's limit: all of them are made, or none). */
export const MAX_IMPORT_ROWS = SCHEMA_LIMITS.TaskBatchIn.tasks.maxItems;
const TITLE_MAX = SCHEMA_LIMITS.TaskIn.title.maxLength;
const DESCRIPTION_MAX = SCHEMA_LIMITS.TaskIn.description.maxLength;
const ATTRIBUTE_NAME = new RegExp(SCHEMA_LIMITS.TaskIn.attributes.propertyNamePattern);
const TEXT_COLUMNS = new Set(["title", "description"]);

export interface ImportRow {
  /** The row's line in the file (the header is line 1), as a spreadsheet shows it. */
  line: number;
  input: TaskInput;
  errors: string[];
}

export interface ParsedImport {
  rows: ImportRow[];
  /** Problems with the file as a whole (no title column, bad column names, too many rows). */
  fileErrors: string[];
  attributeColumns: string[];
}

/**
 * Reads a CSV with a header row: `title` (required), `description` (optional), and one column per
 * numeric attribute (named like the API's attributes). Empty cells are left out; every problem is
 * named by its line, so nothing is sent until the whole file is right.
 */
export function parseTaskCsv(text: string): ParsedImport {
  const parsed = Papa.parse<Record<string, string>>(text.replace(/^\uFEFF/, ""), {
    header: true,
    skipEmptyLines: "greedy",
    transformHeader: (header) => header.trim().toLowerCase(),
  });
  const fileErrors: string[] = [];
  const columns = parsed.meta.fields ?? [];
  if (!columns.includes("title")) fileErrors.push("The first line must name the columns, one of them “title”.");
  const attributeColumns = columns.filter((column) => !TEXT_COLUMNS.has(column) && column !== "");
  for (const column of attributeColumns) {
    if (!ATTRIBUTE_NAME.test(column)) {
      fileErrors.push(
        `Column “${column}” is not a valid attribute name (lowercase letters, digits and _, starting with a letter).`,
      );
    }
  }
  if (new Set(columns).size !== columns.length) fileErrors.push("Two columns have the same name.");
  const seenLines = new Set<number>();
  for (const error of parsed.errors) {
    const line = (error.row ?? 0) + 2;
    if (error.code === "TooFewFields" || error.code === "TooManyFields") continue; // reported per row below
    if (!seenLines.has(line)) fileErrors.push(`Line ${line}: ${error.message}.`);
    seenLines.add(line);
  }
  if (parsed.data.length === 0 && fileErrors.length === 0) fileErrors.push("The file has no tasks under its header line.");
  if (parsed.data.length > MAX_IMPORT_ROWS) {
    fileErrors.push(`The file has ${parsed.data.length} tasks; import at most ${MAX_IMPORT_ROWS} at a time.`);
  }

  const fieldCount = columns.length;
  const rows = parsed.data.map((record, index): ImportRow => {
    const line = index + 2;
    const errors: string[] = [];
    const extra = (record as Record<string, unknown>).__parsed_extra;
    if (Array.isArray(extra) && extra.length > 0) errors.push(`It has more cells than the ${fieldCount} columns.`);
    const title = (record.title ?? "").trim();
    const description = (record.description ?? "").trim();
    if (title === "") errors.push("The title is empty.");
    else if (title.length > TITLE_MAX) errors.push(`The title is longer than ${TITLE_MAX} characters.`);
    if (description.length > DESCRIPTION_MAX) errors.push(`The description is longer than ${DESCRIPTION_MAX} characters.`);
    const attributes: Record<string, number> = {};
    for (const column of attributeColumns) {
      const raw = (record[column] ?? "").trim();
      if (raw === "") continue;
      const error = attributeError(raw);
      if (error) errors.push(`“${column}” is “${raw}”: ${error.toLowerCase()}`);
      else attributes[column] = Number(raw);
    }
    return { line, input: { title, description, attributes }, errors };
  });
  return { rows, fileErrors, attributeColumns };
}

/** An example file for the given attributes, to start from. */
export function exampleCsv(attributeNames: readonly string[]): string {
  const header = ["title", "description", ...attributeNames];
  const example = ["Export reports as CSV", "Finance needs monthly exports; done when a CSV downloads from the report page.", ...attributeNames.map(() => "5")];
  return Papa.unparse([header, example]);
}

/**
 * Maps the batch endpoint's field errors (`tasks.3.title`) to the file's lines (3 → line 5),
 * returning the messages per line and those that name no row.
 */
export function batchErrorsByLine(
  errors: readonly { field: string; message: string }[],
): { byLine: Map<number, string[]>; other: string[] } {
  const byLine = new Map<number, string[]>();
  const other: string[] = [];
  for (const { field, message } of errors) {
    const match = /^(?:body\.)?tasks\.(\d+)(?:\.(.+))?$/.exec(field);
    if (!match) {
      other.push(`${field}: ${message}`);
      continue;
    }
    const line = Number(match[1]) + 2;
    const where = match[2] ? `${match[2]}: ` : "";
    byLine.set(line, [...(byLine.get(line) ?? []), `${where}${message}`]);
  }
  return { byLine, other };
}
