import { SCHEMA_LIMITS } from "./api/limits";
import type { Criterion } from "./api/types";

/** A criterion as the editor holds it: numbers as typed text, so half-typed values stay. */
export type CriterionDraft =
  | {
      kind: "attribute";
      key: string;
      label: string;
      weight: string;
      attribute: string;
      min: string;
      max: string;
      invert: boolean;
    }
  | {
      kind: "ai";
      key: string;
      label: string;
      weight: string;
      rubric: string;
      high_anchor: string;
      low_anchor: string;
    };

export interface CriteriaFormValues {
  criteria: CriterionDraft[];
  notes: string;
}

export const CRITERIA_LIMITS = {
  maxItems: SCHEMA_LIMITS.VersionIn.criteria.maxItems,
  notesMax: SCHEMA_LIMITS.VersionIn.notes.maxLength,
  keyPattern: new RegExp(SCHEMA_LIMITS.AttributeCriterion.key.pattern),
  labelMax: SCHEMA_LIMITS.AttributeCriterion.label.maxLength,
  weightMax: SCHEMA_LIMITS.AttributeCriterion.weight.maximum,
  rubricMin: SCHEMA_LIMITS.AICriterion.rubric.minLength,
  rubricMax: SCHEMA_LIMITS.AICriterion.rubric.maxLength,
  anchorMax: SCHEMA_LIMITS.AICriterion.high_anchor.maxLength,
} as const;

export function toDraft(criterion: Criterion): CriterionDraft {
  if (criterion.kind === "attribute") {
    return {
      kind: "attribute",
      key: criterion.key,
      label: criterion.label,
      weight: String(criterion.weight),
      attribute: criterion.attribute,
      min: String(criterion.min ?? 0),
      max: String(criterion.max ?? 1),
      invert: criterion.invert ?? false,
    };
  }
  return {
    kind: "ai",
    key: criterion.key,
    label: criterion.label,
    weight: String(criterion.weight),
    rubric: criterion.rubric,
    high_anchor: criterion.high_anchor ?? "",
    low_anchor: criterion.low_anchor ?? "",
  };
}

/** A key for a new criterion from its label (`Time to value` → `time_to_value`), unique among `taken`. */
export function keyFromLabel(label: string, taken: ReadonlySet<string>): string {
  let base = label
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 34);
  if (!/^[a-z]/.test(base)) base = `c_${base}`.replace(/_+$/, "");
  let key = base || "criterion";
  for (let suffix = 2; taken.has(key); suffix += 1) key = `${base}_${suffix}`;
  return key;
}

export function newAttributeDraft(taken: ReadonlySet<string>): CriterionDraft {
  const key = keyFromLabel("new attribute", taken);
  return { kind: "attribute", key, label: "", weight: "1", attribute: key, min: "0", max: "10", invert: false };
}

export function newAiDraft(taken: ReadonlySet<string>): CriterionDraft {
  return { kind: "ai", key: keyFromLabel("new ai criterion", taken), label: "", weight: "1", rubric: "", high_anchor: "", low_anchor: "" };
}

function parseWeight(text: string): number {
  const value = Number(text.trim());
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Each criterion's weight as a share of all weights (live percentages while editing). */
export function weightShares(drafts: readonly Pick<CriterionDraft, "weight">[]): number[] {
  const weights = drafts.map((draft) => parseWeight(draft.weight));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => (total > 0 ? weight / total : 0));
}

/** The API's criteria from the editor's drafts (numbers parsed; the API validates everything). */
export function toCriteria(drafts: readonly CriterionDraft[]): Criterion[] {
  return drafts.map((draft): Criterion => {
    if (draft.kind === "attribute") {
      return {
        kind: "attribute",
        key: draft.key.trim(),
        label: draft.label.trim(),
        weight: Number(draft.weight),
        attribute: draft.attribute.trim(),
        min: Number(draft.min),
        max: Number(draft.max),
        invert: draft.invert,
      };
    }
    return {
      kind: "ai",
      key: draft.key.trim(),
      label: draft.label.trim(),
      weight: Number(draft.weight),
      rubric: draft.rubric.trim(),
      high_anchor: draft.high_anchor.trim(),
      low_anchor: draft.low_anchor.trim(),
    };
  });
}

/**
 * The editor's field for an API error path (`criteria.1.weight`). Paths from older servers that
 * kept the union's tag (`criteria.1.attribute.weight`) map to the same field.
 */
export function criteriaFieldOf(apiField: string): string {
  const match = /^(?:body\.)?criteria\.(\d+)\.(?:(?:attribute|ai)\.)?(.+)$/.exec(apiField);
  if (!match) return apiField.replace(/^body\./, "");
  return `criteria.${match[1]}.${match[2]}`;
}

/** Checks what the editor can check before sending; the API checks again. */
export function validateNumber(text: string, { positive = false, max }: { positive?: boolean; max?: number } = {}): string | true {
  const value = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(value)) return "Enter a number.";
  if (positive && value <= 0) return "Use a number above 0.";
  if (max !== undefined && value > max) return `Use at most ${max}.`;
  return true;
}
