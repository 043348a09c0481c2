import { describe, expect, it } from "vitest";

import { ApiProblem, toApiProblem } from "@/lib/api/problem";

describe("toApiProblem", () => {
  it("parses RFC 9457 problem JSON with field errors", () => {
    const problem = toApiProblem(
      {
        type: "https://taskscore.example/problems/validation",
        title: "Validation failed",
        status: 422,
        detail: "2 fields are invalid.",
        errors: [
          { field: "title", message: "Title must not be empty." },
          { field: "attributes.effort", message: "Must be between 0 and 10." },
        ],
      },
      { status: 422, statusText: "Unprocessable Content" },
    );

    expect(problem).toBeInstanceOf(ApiProblem);
    expect(problem.type).toBe("https://taskscore.example/problems/validation");
    expect(problem.title).toBe("Validation failed");
    expect(problem.status).toBe(422);
    expect(problem.detail).toBe("2 fields are invalid.");
    expect(problem.message).toBe("2 fields are invalid.");
    expect(problem.fieldErrors).toEqual({
      title: "Title must not be empty.",
      "attributes.effort": "Must be between 0 and 10.",
    });
  });

  it("joins several messages for the same field", () => {
    const problem = toApiProblem(
      {
        type: "about:blank",
        title: "Validation failed",
        status: 422,
        errors: [
          { field: "title", message: "Too long." },
          { field: "title", message: "Contains a forbidden word." },
        ],
      },
      { status: 422, statusText: "" },
    );

    expect(problem.fieldErrors).toEqual({ title: "Too long. Contains a forbidden word." });
  });

  it("accepts a problem without detail or errors", () => {
    const problem = toApiProblem({ type: "about:blank", title: "Not authenticated", status: 401 }, { status: 401, statusText: "" });

    expect(problem.isUnauthenticated).toBe(true);
    expect(problem.detail).toBeUndefined();
    expect(problem.errors).toEqual([]);
    expect(problem.fieldErrors).toEqual({});
    expect(problem.message).toBe("Not authenticated");
  });

  it("falls back to the HTTP status when the body is not a problem", () => {
    const problem = toApiProblem("<html>Bad Gateway</html>", { status: 502, statusText: "Bad Gateway" });

    expect(problem.status).toBe(502);
    expect(problem.title).toBe("Bad Gateway");
    expect(problem.type).toBe("about:blank");
    expect(problem.errors).toEqual([]);
  });

  it("ignores malformed field errors instead of trusting them", () => {
    const problem = toApiProblem(
      { type: "about:blank", title: "Validation failed", status: 422, errors: [{ field: 3 }] },
      { status: 422, statusText: "Unprocessable Content" },
    );

    expect(problem.status).toBe(422);
    expect(problem.title).toBe("Unprocessable Content");
    expect(problem.fieldErrors).toEqual({});
  });
});
