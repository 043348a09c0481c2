import type { ScoreBreakdownItem, SkipReason } from "./api/types";

/** One criterion's part of a score, as the chart draws it (points out of 100). */
export interface BreakdownBar {
  key: string;
  label: string;
  kind: ScoreBreakdownItem["kind"];
  /** The machine's value: an attribute's value or an AI rating (0–10). */
  value: number | null;
  /** A person's value for this criterion (an active override), or null. */
  humanValue: number | null;
  /** Why the criterion was left out of the score, or null when it counted. */
  skipped: SkipReason | null;
  /** The criterion's weight as a share of the weights that counted (0–1; 0 when skipped). */
  weightShare: number;
  /** The most points it can give: 100 × its weight share. */
  maxPoints: number;
  /** The points it gave. */
  points: number;
  /** How far along its own range the task is (0–1). */
  normalized: number;
  rationale: string | null;
}

/** What a skipped AI criterion says instead of a bar. */
export const SKIP_WORDS: Record<SkipReason, string> = {
  budget: "Skipped: AI budget used up",
  ai_off: "Skipped: AI turned off",
  no_fields: "Skipped: no fields sent to the AI",
  slow: "Skipped: the AI did not answer in time; try the preview again shortly",
};

/** A skip reason in words; a reason this app does not know yet is said as it is. */
export function skipWords(reason: string): string {
  return reason in SKIP_WORDS ? SKIP_WORDS[reason as SkipReason] : `Skipped: ${reason.replaceAll("_", " ")}`;
}

/**
 * Turns a stored breakdown into bars: each criterion that counted can give up to 100 × wᵢ/Σw
 * points and gave 100 × wᵢ·sᵢ/Σw (its `contribution`); the points add up to the machine's score.
 * A skipped criterion counts neither as 0 nor towards the weights, so Σw leaves it out.
 */
export function breakdownBars(items: readonly ScoreBreakdownItem[]): BreakdownBar[] {
  const totalWeight = items.reduce((sum, item) => sum + (item.skipped ? 0 : item.weight), 0);
  return items.map((item) => {
    const skipped = item.skipped ?? null;
    const weightShare = totalWeight > 0 && !skipped ? item.weight / totalWeight : 0;
    return {
      key: item.key,
      label: item.label,
      kind: item.kind,
      value: item.value,
      humanValue: item.human_value ?? null,
      skipped,
      weightShare,
      maxPoints: 100 * weightShare,
      points: skipped ? 0 : item.contribution,
      normalized: skipped ? 0 : item.normalized,
      rationale: item.rationale ?? null,
    };
  });
}
