import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { STATUS_BADGE, StatusBadge } from "@/components/tasks/StatusBadge";
import { TASK_STATUSES } from "@/lib/tasks";

describe("StatusBadge", () => {
  it.each(TASK_STATUSES)("labels the %s status for eyes and screen readers", (status) => {
    render(<StatusBadge status={status} />);
    const badge = screen.getByTestId("status-badge");
    expect(badge).toHaveTextContent(STATUS_BADGE[status].label);
    expect(badge).toHaveTextContent(STATUS_BADGE[status].description);
  });
});
