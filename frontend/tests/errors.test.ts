import { describe, expect, it } from "vitest";

import { AllauthError } from "@/lib/api/allauth";
import { ApiProblem, parseRetryAfter, toApiProblem } from "@/lib/api/problem";
import { describeError } from "@/lib/errors";

function problem(status: number, extra: Partial<ConstructorParameters<typeof ApiProblem>[0]> = {}) {
  return new ApiProblem({ type: "/problems/x", title: "T", status, ...extra });
}

describe("describeError", () => {
  it("names the permission a 403 lacks in words", () => {
    const description = describeError(problem(403, { type: "/problems/permission-denied", permission: "task.create" }));
    expect(description.message).toBe("Your role does not let you submit tasks. Ask an owner or admin of this organization.");
    expect(description.isRetryable).toBe(false);
  });

  it("says how long to wait after a 429", () => {
    const description = describeError(problem(429, { retryAfterSeconds: 12 }));
    expect(description).toMatchObject({ title: "Too many requests", message: "Please wait 12 seconds and try again.", isRetryable: true, retryAfterSeconds: 12 });
  });

  it("offers a retry for server errors and network failures, not for 4xx", () => {
    expect(describeError(problem(503)).isRetryable).toBe(true);
    expect(describeError(new TypeError("Failed to fetch"))).toMatchObject({ title: "Could not reach Taskscore", isRetryable: true });
    expect(describeError(problem(404)).isRetryable).toBe(false);
    expect(describeError(problem(409, { detail: "Publish it first." })).message).toBe("Publish it first.");
  });

  it("passes allauth's own messages on", () => {
    expect(describeError(new AllauthError(400, ["Wrong password."])).message).toBe("Wrong password.");
  });
});

describe("Retry-After", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("30")).toBe(30);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:01:00 GMT", Date.parse("2026-01-01T00:00:00Z"))).toBe(60);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });

  it("is carried by the problem built from a response", () => {
    const headers = new Headers({ "Retry-After": "7" });
    const built = toApiProblem({ type: "/problems/rate-limited", title: "Too many", status: 429 }, { status: 429, statusText: "", headers });
    expect(built.retryAfterSeconds).toBe(7);
    expect(built.code).toBe("rate-limited");
  });
});
