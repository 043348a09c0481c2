/** Human review of a score: what can be overridden, in which range, and how it is said. */
import { SCHEMA_LIMITS } from "./api/limits";
import type { ScoreBreakdownItem, TaskOverride } from "./api/types";
import { formatNumber, formatScore } from "./format";

/** What an override replaces: the whole score, an AI criterion's rating, or an attribute's value. */
export type OverrideKind = "score" | ScoreBreakdownItem["kind"];

export interface OverrideTarget {
  /** The criterion key, or null for the whole score (as the API takes it). */
  criterion: string | null;
  label: string;
  kind: OverrideKind;
  /** The machine's value of it (null: the machine had none, e.g. a skipped AI criterion). */
  machineValue: number | null;
}

export const REASON_MAX = SCHEMA_LIMITS.OverrideIn.reason.maxLength;
const ATTRIBUTE_MIN = SCHEMA_LIMITS.TaskIn.attributes.valueMinimum;
const ATTRIBUTE_MAX = SCHEMA_LIMITS.TaskIn.attributes.valueMaximum;

/** The values a person may give, by what is overridden (the API checks the same). */
export const OVERRIDE_RANGES: Record<OverrideKind, { min: number; max: number }> = {
  score: { min: 0, max: 100 },
  ai: { min: 0, max: 10 },
  attribute: { min: ATTRIBUTE_MIN, max: ATTRIBUTE_MAX },
};

/** A value of this kind as people read it: `72.5`, `8 of 10`, `400`. */
export function formatOverrideValue(kind: OverrideKind, value: number | null): string {
  if (value === null) return "none";
  if (kind === "score") return formatScore(value);
  if (kind === "ai") return `${formatNumber(value, 1)} of 10`;
  return formatNumber(value);
}

/** The hint under the value field: the range, and what the machine said. */
export function overrideValueHint(target: OverrideTarget): string {
  const range =
    target.kind === "score"
      ? "A score from 0 to 100."
      : target.kind === "ai"
        ? "A rating from 0 to 10."
        : "A number: the attribute's value, as the task would give it.";
  const machine =
    target.machineValue === null
      ? " The machine has no value for it."
      : ` The machine's: ${formatOverrideValue(target.kind, target.machineValue)}.`;
  return range + machine;
}

/** Checks the value as typed; undefined when it is a number the API accepts for this kind. */
export function overrideValueError(kind: OverrideKind, raw: string): string | undefined {
  const text = raw.trim();
  if (text === "") return "Enter a value.";
  const value = Number(text);
  if (!Number.isFinite(value)) return "Enter a number.";
  const { min, max } = OVERRIDE_RANGES[kind];
  if (value < min || value > max) {
    if (kind === "score") return "A score is from 0 to 100.";
    if (kind === "ai") return "A rating is from 0 to 10.";
    return "This number is too large.";
  }
  return undefined;
}

export function reasonError(raw: string): string | undefined {
  const text = raw.trim();
  if (text === "") return "Say why the machine's value is wrong.";
  if (text.length > REASON_MAX) return `Keep the reason to ${formatNumber(REASON_MAX)} characters.`;
  return undefined;
}

/** The targets of a score's breakdown (the whole score first), for dialogs and lists. */
export function overrideTargets(score: { machine_value: number; breakdown: readonly ScoreBreakdownItem[] }): OverrideTarget[] {
  return [
    { criterion: null, label: "Score", kind: "score", machineValue: score.machine_value },
    ...score.breakdown.map((item) => ({ criterion: item.key, label: item.label, kind: item.kind, machineValue: item.value })),
  ];
}

/** The target an override names, from the score's breakdown (a criterion no longer in it keeps its key). */
export function targetOf(override: Pick<TaskOverride, "criterion" | "machine_value">, targets: readonly OverrideTarget[]): OverrideTarget {
  const found = targets.find((target) => target.criterion === override.criterion);
  if (found) return found;
  return { criterion: override.criterion, label: override.criterion ?? "Score", kind: override.criterion === null ? "score" : "attribute", machineValue: override.machine_value };
}

/** How a sentence names the target: `the score`, or the criterion's label. */
export function targetPhrase(target: Pick<OverrideTarget, "criterion" | "label">): string {
  return target.criterion === null ? "the score" : target.label;
}
