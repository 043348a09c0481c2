import { describe, expect, it } from "vitest";

import { createTaskPoller, nextPollDelay, POLL_IDLE_MS, POLL_MAX_MS, POLL_MIN_MS } from "@/lib/tasks";

import { makeTask, scoredTask } from "./helpers";

describe("nextPollDelay", () => {
  it("starts at the minimum and returns to it after a change", () => {
    expect(nextPollDelay(undefined, false)).toBe(POLL_MIN_MS);
    expect(nextPollDelay(5000, true)).toBe(POLL_MIN_MS);
  });

  it("grows while nothing changes, up to the maximum", () => {
    let delay = POLL_MIN_MS;
    const delays: number[] = [];
    for (let step = 0; step < 10; step += 1) {
      delay = nextPollDelay(delay, false);
      delays.push(delay);
    }
    expect(delays[0]).toBe(1600);
    expect(delays.every((value, index) => index === 0 || value >= (delays[index - 1] ?? 0))).toBe(true);
    expect(delays.at(-1)).toBe(POLL_MAX_MS);
  });
});

describe("createTaskPoller", () => {
  it("polls fast while a task is pending, backs off while nothing changes, resets on a change", () => {
    const poll = createTaskPoller();
    const queued = makeTask({ status: "queued" });

    expect(poll([queued])).toBe(POLL_MIN_MS);
    expect(poll([queued])).toBe(1600);
    expect(poll([queued])).toBe(2560);
    expect(poll([{ ...queued, status: "scoring" }])).toBe(POLL_MIN_MS);
  });

  it("polls slowly when nothing is pending, and fast again when a new task arrives", () => {
    const poll = createTaskPoller();
    const done = scoredTask(50);

    expect(poll([done])).toBe(POLL_IDLE_MS);
    expect(poll([makeTask({ status: "queued" }), done])).toBe(POLL_MIN_MS);
  });
});
