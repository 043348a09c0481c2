import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { STATUS_BADGE, StatusBadge } from "@/components/StatusBadge";
import { TASK_STATUSES } from "@/lib/tasks";

describe("STATUS_BADGE", () => {
  it("has exactly one entry for every task status", () => {
    expect(Object.keys(STATUS_BADGE).sort()).toEqual([...TASK_STATUSES].sort());
  });

  it("gives every status its own label and colour", () => {
    const labels = TASK_STATUSES.map((status) => STATUS_BADGE[status].label);
    const classes = TASK_STATUSES.map((status) => STATUS_BADGE[status].className);
    expect(new Set(labels).size).toBe(TASK_STATUSES.length);
    expect(new Set(classes).size).toBe(TASK_STATUSES.length);
  });

  it.each(TASK_STATUSES)("renders the %s badge with its label", (status) => {
    render(<StatusBadge status={status} />);
    expect(screen.getByTestId("status-badge")).toHaveTextContent(STATUS_BADGE[status].label);
  });
});
