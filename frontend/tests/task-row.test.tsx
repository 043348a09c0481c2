import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { TaskRow } from "@/components/TaskRow";

import { makeTask, scoredTask } from "./helpers";

describe("TaskRow", () => {
  it("shows a scored task's score with one decimal and its breakdown on demand", async () => {
    const task = scoredTask(72.54, { title: "Dark mode" });
    render(<TaskRow task={task} />);

    const row = screen.getByTestId("task-row");
    expect(row).toHaveAttribute("data-status", "scored");
    expect(within(row).getByText("Dark mode")).toBeVisible();
    expect(within(row).getByTestId("task-score")).toHaveTextContent(/^72\.5$/);

    await userEvent.click(within(row).getByText("Score breakdown"));
    const table = within(row).getByRole("table");
    expect(within(table).getByRole("rowheader", { name: "Reach" })).toBeVisible();
    expect(within(table).getByRole("rowheader", { name: "Effort" })).toBeVisible();
  });

  it("formats a whole score with one decimal too", () => {
    render(<TaskRow task={scoredTask(80)} />);
    expect(screen.getByTestId("task-score")).toHaveTextContent(/^80\.0$/);
  });

  it("shows the failure reason of a failed task and no score", () => {
    render(<TaskRow task={makeTask({ status: "failed", failure_reason: "Formula has no attributes" })} />);

    expect(screen.getByTestId("task-row")).toHaveAttribute("data-status", "failed");
    expect(screen.getByTestId("task-failure")).toHaveTextContent("Formula has no attributes");
    expect(screen.queryByTestId("task-score")).toBeNull();
  });

  it("shows a pending task without a score", () => {
    render(<TaskRow task={makeTask({ status: "scoring" })} />);

    expect(screen.getByTestId("task-row")).toHaveAttribute("data-status", "scoring");
    expect(screen.getByTestId("status-badge")).toHaveTextContent("Scoring");
    expect(screen.queryByTestId("task-score")).toBeNull();
  });

  it("marks an AI factor and shows its rationale in the breakdown", async () => {
    const task = scoredTask(55, { title: "Search" });
    task.score?.breakdown.push({
      key: "ai_fit",
      label: "Strategic fit",
      kind: "ai",
      weight: 0.2,
      value: null,
      normalized: 0.5,
      contribution: 10,
      rationale: "Matches the roadmap theme.",
    });
    render(<TaskRow task={task} />);

    await userEvent.click(screen.getByText("Score breakdown"));
    const aiRow = screen.getByRole("rowheader", { name: /Strategic fit/ });
    expect(aiRow).toHaveTextContent("AI");
    expect(aiRow).toHaveTextContent("Matches the roadmap theme.");
  });
});
