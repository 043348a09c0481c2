import type { ScoreBreakdownItem } from "./api/types";

/** One criterion's part of a score, as the chart draws it (points out of 100). */
export interface BreakdownBar {
  key: string;
  label: string;
  kind: ScoreBreakdownItem["kind"];
  value: number | null;
  /** The criterion's weight as a share of all weights (0–1). */
  weightShare: number;
  /** The most points it can give: 100 × its weight share. */
  maxPoints: number;
  /** The points it gave. */
  points: number;
  /** How far along its own range the task is (0–1). */
  normalized: number;
  rationale: string | null;
}

/**
 * Turns a stored breakdown into bars: each criterion can give up to 100 × wᵢ/Σw points and gave
 * 100 × wᵢ·sᵢ/Σw (its `contribution`). The points add up to the score.
 */
export function breakdownBars(items: readonly ScoreBreakdownItem[]): BreakdownBar[] {
  const totalWeight = items.reduce((sum, item) => sum + item.weight, 0);
  return items.map((item) => {
    const weightShare = totalWeight > 0 ? item.weight / totalWeight : 0;
    return {
      key: item.key,
      label: item.label,
      kind: item.kind,
      value: item.value,
      weightShare,
      maxPoints: 100 * weightShare,
      points: item.contribution,
      normalized: item.normalized,
      rationale: item.rationale ?? null,
    };
  });
}
