import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { TaskList } from "@/components/TaskList";
import { prependTask } from "@/lib/queries";
import { POLL_INTERVAL_MS, taskListPollInterval } from "@/lib/tasks";

import { fakeFetch, jsonResponse, makeClient, makeTask, renderWithApi, scoredTask } from "./helpers";

describe("taskListPollInterval", () => {
  it("polls every second while a task is queued or scoring", () => {
    expect(taskListPollInterval([{ status: "scored" }, { status: "queued" }])).toBe(POLL_INTERVAL_MS);
    expect(taskListPollInterval([{ status: "scoring" }])).toBe(1000);
  });

  it("stops polling once every task is scored or failed", () => {
    expect(taskListPollInterval([{ status: "scored" }, { status: "failed" }])).toBe(false);
    expect(taskListPollInterval([])).toBe(false);
    expect(taskListPollInterval(undefined)).toBe(false);
  });
});

describe("prependTask", () => {
  it("puts a new task first without duplicating it", () => {
    const older = makeTask();
    const created = makeTask();
    const data = { pages: [{ items: [older], next_cursor: null }], pageParams: [null] };

    const once = prependTask(data, created);
    const twice = prependTask(once, created);

    expect(twice?.pages[0]?.items.map((task) => task.id)).toEqual([created.id, older.id]);
  });
});

describe("TaskList", () => {
  it("refetches while a task is pending and shows its score without a reload, then stops", async () => {
    const queued = makeTask({ title: "Pending work", status: "queued" });
    const pages = [
      { items: [queued], next_cursor: null },
      { items: [{ ...queued, status: "scoring" as const }], next_cursor: null },
      { items: [scoredTask(64.25, { id: queued.id, title: queued.title })], next_cursor: null },
    ];
    let calls = 0;
    const { fetch } = fakeFetch(() => {
      const page = pages[Math.min(calls, pages.length - 1)];
      calls += 1;
      return jsonResponse(200, page);
    });

    renderWithApi(<TaskList org="acme" />, makeClient(fetch));

    expect(await screen.findByTestId("task-row")).toHaveAttribute("data-status", "queued");
    await waitFor(() => expect(screen.getByTestId("task-score")).toHaveTextContent("64.3"), { timeout: 4000 });
    expect(screen.getByTestId("task-row")).toHaveAttribute("data-status", "scored");

    const callsWhenScored = calls;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(calls).toBe(callsWhenScored);
  }, 10_000);
});
