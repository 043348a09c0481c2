import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { ScoreBreakdownChart } from "@/components/tasks/ScoreBreakdownChart";
import type { ScoreBreakdownItem } from "@/lib/api/types";
import { breakdownBars } from "@/lib/breakdown";

const ITEMS: ScoreBreakdownItem[] = [
  { key: "reach", label: "Reach", kind: "attribute", weight: 3, value: 500, normalized: 0.5, contribution: 30 },
  { key: "clarity", label: "Clarity", kind: "ai", weight: 1, value: 8, normalized: 0.8, contribution: 20, rationale: "Clear goal." },
];

describe("breakdownBars", () => {
  it("gives each criterion its share of 100 points and the points it earned", () => {
    const bars = breakdownBars(ITEMS);
    expect(bars.map((bar) => [bar.key, bar.weightShare, bar.maxPoints, bar.points])).toEqual([
      ["reach", 0.75, 75, 30],
      ["clarity", 0.25, 25, 20],
    ]);
  });
});

describe("ScoreBreakdownChart", () => {
  it("writes out every criterion's points, value, weight and the AI rationale", () => {
    render(<ScoreBreakdownChart items={ITEMS} score={50} />);
    const rows = screen.getAllByTestId("breakdown-row");
    expect(rows).toHaveLength(2);
    expect(within(rows[0] as HTMLElement).getByTestId("breakdown-points")).toHaveTextContent("30");
    expect(rows[0]).toHaveTextContent("of 75 points");
    expect(rows[0]).toHaveTextContent("Value 500 · 50% of its range · weight 75%");
    expect(rows[1]).toHaveTextContent("Rating 8 of 10");
    expect(within(rows[1] as HTMLElement).getByTestId("ai-rationale")).toHaveTextContent("Clear goal.");
    expect(screen.getByText(/how each criterion contributed to 50.0 of 100/)).toBeInTheDocument();
  });
});

describe("ScoreBreakdownChart with skipped criteria and people's values", () => {
  it("says why a criterion was left out instead of drawing a 0, and shows a person's value beside the machine's", () => {
    render(
      <ScoreBreakdownChart
        score={75}
        items={[
          { key: "reach", label: "Reach", kind: "attribute", weight: 3, value: 750, normalized: 0.75, contribution: 75, human_value: 900 },
          { key: "clarity", label: "Clarity", kind: "ai", weight: 1, value: null, normalized: 0, contribution: 0, skipped: "ai_off" },
          { key: "scope", label: "Scope", kind: "ai", weight: 1, value: null, normalized: 0, contribution: 0, skipped: "no_fields" },
        ]}
        action={(bar) => <button type="button">Override {bar.label}</button>}
      />,
    );
    const [reach, clarity, scope] = screen.getAllByTestId("breakdown-row") as HTMLElement[];
    expect(within(reach as HTMLElement).getByTestId("breakdown-machine")).toHaveTextContent("Machine: Value 750 · 75% of its range · weight 100%");
    expect(within(reach as HTMLElement).getByTestId("breakdown-human")).toHaveTextContent("Person: 900");
    expect(within(clarity as HTMLElement).getByTestId("breakdown-skipped")).toHaveTextContent("Skipped: AI turned off");
    expect(clarity).toHaveTextContent("not counted");
    expect(within(clarity as HTMLElement).queryByTestId("breakdown-points")).not.toBeInTheDocument();
    expect(within(scope as HTMLElement).getByTestId("breakdown-skipped")).toHaveTextContent("Skipped: no fields sent to the AI");
    expect(screen.getByRole("button", { name: "Override Scope" })).toBeInTheDocument();
  });
});
