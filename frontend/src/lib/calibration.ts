/** Calibration: how an AI criterion agrees with people, in words; and the labels import's refusals. */
import { SCHEMA_LIMITS } from "./api/limits";
import type { Agreement } from "./api/types";
import type { FieldError } from "./api/problem";
import { formatNumber, formatPercent } from "./format";

export const LABELS_CSV_HEADER = "task_id,criterion,rating";
export const LABELS_CSV_MAX_CHARS = SCHEMA_LIMITS.LabelsImportIn.csv.maxLength;

/** An example file for the import, with the org's AI criteria keys. */
export function exampleLabelsCsv(criterionKeys: readonly string[]): string {
  const key = criterionKeys[0] ?? "clarity";
  return `${LABELS_CSV_HEADER}\n00000000-0000-0000-0000-000000000000,${key},7\n`;
}

export interface LabelRowError {
  /** The data row (1 = the first row under the header), as the API counts it. */
  row: number;
  column: string;
  message: string;
}

const ROW_FIELD = /^rows\.(\d+)\.(\w+)$/;

/** Splits a 422 of the labels import into bad rows (by row, then column) and file-level messages. */
export function labelImportErrors(errors: readonly FieldError[]): { rows: LabelRowError[]; other: string[] } {
  const rows: LabelRowError[] = [];
  const other: string[] = [];
  for (const { field, message } of errors) {
    const match = ROW_FIELD.exec(field.startsWith("body.") ? field.slice("body.".length) : field);
    if (match) rows.push({ row: Number(match[1]), column: match[2] ?? "", message });
    else other.push(message);
  }
  rows.sort((a, b) => a.row - b.row);
  return { rows, other };
}

const COLUMN_WORDS: Record<string, string> = { task_id: "task_id", criterion: "criterion", rating: "rating", csv: "the row" };

/** `Row 3 (line 4), rating: …`: a bad row as a person finds it in their file. */
export function labelRowWords(error: LabelRowError): string {
  return `Row ${error.row} (line ${error.row + 1}), ${COLUMN_WORDS[error.column] ?? error.column}: ${error.message}`;
}

/** Client-side checks before sending: something to send, within the size the API takes, with its header. */
export function labelsCsvError(text: string): string | undefined {
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  if (trimmed === "") return "Choose a file or paste the ratings.";
  if (text.length > LABELS_CSV_MAX_CHARS) return `The text is longer than ${formatNumber(LABELS_CSV_MAX_CHARS)} characters; split it.`;
  const header = (trimmed.split(/\r?\n/, 1)[0] ?? "").replaceAll(" ", "").toLowerCase();
  if (header !== LABELS_CSV_HEADER) return `The first line must be the header ${LABELS_CSV_HEADER}.`;
  return undefined;
}

/** One figure of an agreement, with what it says in words. */
export interface AgreementFigure {
  name: string;
  value: string;
  reading: string;
}

const NEEDS_LABELS = "Needs at least 2 labels.";

function spearmanReading(value: number): string {
  if (value >= 0.8) return "Strong agreement on which tasks rate higher.";
  if (value >= 0.5) return "Moderate agreement on which tasks rate higher.";
  if (value >= 0.2) return "Weak agreement on which tasks rate higher.";
  if (value > -0.2) return "No agreement on order.";
  return "The AI orders tasks the other way round from people.";
}

/** The figures of a criterion's agreement with people, each with a short reading. */
export function agreementFigures(agreement: Agreement): AgreementFigure[] {
  const { spearman, mae, bias, pairwise_accuracy: pairwise, pairs, labels } = agreement;
  return [
    {
      name: "Labels",
      value: formatNumber(labels),
      reading: labels === 1 ? "One task rated by both a person and the AI." : `Tasks rated by both a person and the AI.`,
    },
    {
      name: "Spearman ρ",
      value: spearman === null ? "—" : formatNumber(spearman, 2),
      reading: spearman === null ? NEEDS_LABELS : spearmanReading(spearman),
    },
    {
      name: "Mean absolute error",
      value: mae === null ? "—" : formatNumber(mae, 2),
      reading: mae === null ? NEEDS_LABELS : `The AI is off by ${formatNumber(mae, 1)} points of 10 on average.`,
    },
    {
      name: "Bias",
      value: bias === null ? "—" : `${bias > 0 ? "+" : ""}${formatNumber(bias, 2)}`,
      reading:
        bias === null
          ? NEEDS_LABELS
          : Math.abs(bias) < 0.25
            ? "No lean: the AI rates as high as people."
            : `The AI rates ${formatNumber(Math.abs(bias), 1)} points ${bias > 0 ? "higher" : "lower"} than people.`,
    },
    {
      name: "Pairwise accuracy",
      value: pairwise === null ? "—" : formatPercent(pairwise),
      reading:
        pairwise === null
          ? pairs === 0 && labels >= 2
            ? "No two tasks that people rate 4 or more apart yet."
            : NEEDS_LABELS
          : `Of ${formatNumber(pairs)} ${pairs === 1 ? "pair" : "pairs"} people rate 4 or more apart, the AI orders ${formatPercent(pairwise)} the same way.`,
    },
  ];
}
