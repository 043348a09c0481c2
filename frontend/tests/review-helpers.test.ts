import { describe, expect, it } from "vitest";

import { estimateSentence, fieldsWords, notCoveredWords, redactionWords, usageSummary } from "@/lib/ai";
import { ApiProblem, toApiProblem } from "@/lib/api/problem";
import type { ScoreBreakdownItem } from "@/lib/api/types";
import { breakdownBars, SKIP_WORDS, skipWords } from "@/lib/breakdown";
import { agreementFigures, labelImportErrors, labelRowWords, labelsCsvError } from "@/lib/calibration";
import { describeError } from "@/lib/errors";
import { paths } from "@/lib/paths";
import { cleanFilters } from "@/lib/queries/options";
import { formatOverrideValue, overrideTargets, overrideValueError, overrideValueHint, reasonError, targetOf } from "@/lib/review";
import { filtersFromParams, paramsFromFilters } from "@/lib/task-filters";

import { FREE_USAGE } from "./helpers";

describe("override values", () => {
  it("follow what is overridden: a score 0–100, an AI rating 0–10, an attribute's own number", () => {
    expect(overrideValueError("score", "100")).toBeUndefined();
    expect(overrideValueError("score", "100.5")).toBe("A score is from 0 to 100.");
    expect(overrideValueError("ai", "10")).toBeUndefined();
    expect(overrideValueError("ai", "11")).toBe("A rating is from 0 to 10.");
    expect(overrideValueError("ai", "-1")).toBe("A rating is from 0 to 10.");
    expect(overrideValueError("attribute", "-250000")).toBeUndefined();
    expect(overrideValueError("attribute", "1e13")).toBe("This number is too large.");
    expect(overrideValueError("ai", " ")).toBe("Enter a value.");
    expect(overrideValueError("ai", "seven")).toBe("Enter a number.");
    expect(overrideValueError("score", "Infinity")).toBe("Enter a number.");
  });

  it("say their range and the machine's value in the hint", () => {
    expect(overrideValueHint({ criterion: null, label: "Score", kind: "score", machineValue: 42 })).toBe(
      "A score from 0 to 100. The machine's: 42.0.",
    );
    expect(overrideValueHint({ criterion: "clarity", label: "Clarity", kind: "ai", machineValue: 6 })).toBe(
      "A rating from 0 to 10. The machine's: 6 of 10.",
    );
    expect(overrideValueHint({ criterion: "reach", label: "Reach", kind: "attribute", machineValue: null })).toBe(
      "A number: the attribute's value, as the task would give it. The machine has no value for it.",
    );
  });

  it("need a reason within the API's length", () => {
    expect(reasonError("  ")).toBe("Say why the machine's value is wrong.");
    expect(reasonError("x".repeat(2001))).toBe("Keep the reason to 2,000 characters.");
    expect(reasonError("The AI missed the acceptance criteria.")).toBeUndefined();
  });

  it("name their target from the score's breakdown, the whole score first", () => {
    const breakdown: ScoreBreakdownItem[] = [
      { key: "clarity", label: "Clarity", kind: "ai", weight: 1, value: 6, normalized: 0.6, contribution: 100 },
    ];
    const targets = overrideTargets({ machine_value: 60, breakdown });
    expect(targets.map((target) => [target.criterion, target.kind, target.machineValue])).toEqual([
      [null, "score", 60],
      ["clarity", "ai", 6],
    ]);
    expect(targetOf({ criterion: "clarity", machine_value: 6 }, targets).label).toBe("Clarity");
    expect(targetOf({ criterion: "gone", machine_value: 3 }, targets)).toMatchObject({ label: "gone", machineValue: 3 });
    expect(formatOverrideValue("ai", 7.5)).toBe("7.5 of 10");
    expect(formatOverrideValue("score", 80)).toBe("80.0");
  });
});

describe("breakdownBars with skipped criteria and people's values", () => {
  it("leaves a skipped criterion out of the weights instead of counting it as 0", () => {
    const bars = breakdownBars([
      { key: "reach", label: "Reach", kind: "attribute", weight: 3, value: 500, normalized: 0.5, contribution: 50 },
      { key: "clarity", label: "Clarity", kind: "ai", weight: 1, value: null, normalized: 0, contribution: 0, skipped: "budget" },
      { key: "scope", label: "Scope", kind: "ai", weight: 1, value: 4, normalized: 0.4, contribution: 10, human_value: 9 },
    ]);
    expect(bars.map((bar) => [bar.key, bar.weightShare, bar.skipped, bar.humanValue])).toEqual([
      ["reach", 0.75, null, null],
      ["clarity", 0, "budget", null],
      ["scope", 0.25, null, 9],
    ]);
  });

  it("says each skip reason in words", () => {
    expect(SKIP_WORDS).toEqual({
      budget: "Skipped: AI budget used up",
      ai_off: "Skipped: AI turned off",
      no_fields: "Skipped: no fields sent to the AI",
      slow: "Skipped: the AI did not answer in time; try the preview again shortly",
    });
    expect(skipWords("rate_limited")).toBe("Skipped: rate limited");
  });
});

describe("the review filter in the URL", () => {
  it("round-trips overridden=true|false and ignores anything else", () => {
    expect(filtersFromParams(new URLSearchParams("overridden=true"))).toEqual({ sort: "-score", overridden: true });
    expect(filtersFromParams(new URLSearchParams("overridden=false&status=scored"))).toEqual({
      sort: "-score",
      status: "scored",
      overridden: false,
    });
    expect(filtersFromParams(new URLSearchParams("overridden=yes"))).toEqual({ sort: "-score" });
    expect(paramsFromFilters({ sort: "-score", overridden: false, q: "dark" }).toString()).toBe("overridden=false&q=dark");
    expect(paramsFromFilters({ sort: "created_at" }).toString()).toBe("sort=created_at");
  });

  it("is part of the list's query (so each filter has its own cache entry)", () => {
    expect(cleanFilters({ overridden: true })).toEqual({ overridden: true });
    expect(cleanFilters({ overridden: false })).toEqual({ overridden: false });
    expect(cleanFilters({ overridden: null })).toEqual({});
  });

  it("has the AI page under the org", () => {
    expect(paths.ai("a b")).toBe("/orgs/a%20b/ai");
  });
});

describe("AI usage and estimates in words", () => {
  it("summarizes a limited allowance, and warns when it runs low or out", () => {
    expect(usageSummary(FREE_USAGE)).toEqual({
      share: 0.012,
      used: "12 of 1,000 AI calls used",
      left: "988 left this month",
      plan: "Free plan",
      tone: "normal",
    });
    expect(usageSummary({ ...FREE_USAGE, calls: 850, remaining: 150 }).tone).toBe("low");
    expect(usageSummary({ ...FREE_USAGE, calls: 1000, remaining: 0 })).toMatchObject({ left: "None left this month", tone: "out", share: 1 });
  });

  it("says Unlimited on a plan without a limit", () => {
    expect(usageSummary({ ...FREE_USAGE, plan: "business", calls: 1, limit: null, remaining: null })).toEqual({
      share: null,
      used: "1 AI call used",
      left: "Unlimited",
      plan: "Business plan",
      tone: "normal",
    });
  });

  it("says what a request would cost before it is made", () => {
    expect(estimateSentence("Re-score", { tasks: 12, ai_calls: 12, covered: true, usage: FREE_USAGE })).toBe(
      "Re-score 12 tasks: up to 12 AI calls; 988 left this month.",
    );
    expect(estimateSentence("Preview", { tasks: 1, ai_calls: 0, covered: true, usage: { ...FREE_USAGE, limit: null, remaining: null, plan: "business" } })).toBe(
      "Preview 1 task: no AI calls; AI calls are unlimited on the Business plan.",
    );
    expect(notCoveredWords({ tasks: 200, ai_calls: 1200, covered: false, usage: FREE_USAGE })).toBe(
      "This needs up to 1,200 AI calls, and 988 of the Free plan's 1,000 a month are left. Nothing is spent: try it on fewer tasks, wait for the next period, or move to a larger plan.",
    );
  });

  it("says redaction kinds and fields in plain words", () => {
    expect(redactionWords("email")).toBe("Email addresses");
    expect(redactionWords("query")).toMatch(/^The part of a link after \? or #/);
    expect(redactionWords("iban")).toBe("iban");
    expect(fieldsWords(["title", "description"])).toBe("title and description");
    expect(fieldsWords([])).toBe("nothing");
  });

  it("turns a 402 ai-budget-exceeded into what the request needs and what is left", () => {
    const problem = toApiProblem(
      { type: "/problems/ai-budget-exceeded", title: "AI budget exceeded", status: 402, detail: "x", plan: "free", used: 990, limit: 1000, needed: 200 },
      { status: 402, statusText: "" },
    );
    expect(problem.needed).toBe(200);
    expect(describeError(problem)).toEqual({
      title: "Not enough AI calls left this month",
      message:
        "This needs up to 200 AI calls, and 10 of the Free plan's 1,000 AI calls a month are left. Try it on fewer tasks, wait for the next period, or move to a larger plan.",
      isRetryable: false,
      action: { label: "See plans" },
    });
    const bare = new ApiProblem({ type: "/problems/ai-budget-exceeded", title: "AI budget exceeded", status: 402, detail: "Raise the plan." });
    expect(describeError(bare).message).toBe("Raise the plan.");
    expect(describeError(new ApiProblem({ type: "/problems/quota-exceeded", title: "Quota", status: 402 })).title).toBe(
      "Your plan's limit is reached",
    );
  });
});

describe("calibration", () => {
  it("lists a refused import's bad rows by row number and column, file problems apart", () => {
    const { rows, other } = labelImportErrors([
      { field: "rows.3.rating", message: "Give a rating from 0 to 10." },
      { field: "rows.1.task_id", message: "'x' is not a task id." },
      { field: "csv", message: "Found the header a,b." },
    ]);
    expect(rows.map(labelRowWords)).toEqual([
      "Row 1 (line 2), task_id: 'x' is not a task id.",
      "Row 3 (line 4), rating: Give a rating from 0 to 10.",
    ]);
    expect(other).toEqual(["Found the header a,b."]);
  });

  it("checks the text before sending it", () => {
    expect(labelsCsvError("")).toBe("Choose a file or paste the ratings.");
    expect(labelsCsvError("id,rating\n1,2")).toBe("The first line must be the header task_id,criterion,rating.");
    expect(labelsCsvError("\uFEFFtask_id, criterion, rating\nabc,clarity,7\n")).toBeUndefined();
  });

  it("reads the agreement figures, and says when there are too few labels", () => {
    const figures = agreementFigures({ labels: 12, spearman: 0.84, mae: 1.25, bias: 0.8, pairwise_accuracy: 0.9, pairs: 20 });
    expect(figures.map((figure) => [figure.name, figure.value])).toEqual([
      ["Labels", "12"],
      ["Spearman ρ", "0.84"],
      ["Mean absolute error", "1.25"],
      ["Bias", "+0.8"],
      ["Pairwise accuracy", "90%"],
    ]);
    expect(figures[1]?.reading).toBe("Strong agreement on which tasks rate higher.");
    expect(figures[3]?.reading).toBe("The AI rates 0.8 points higher than people.");
    expect(figures[4]?.reading).toBe("Of 20 pairs people rate 4 or more apart, the AI orders 90% the same way.");
    const few = agreementFigures({ labels: 1, spearman: null, mae: null, bias: null, pairwise_accuracy: null, pairs: 0 });
    expect(few.slice(1).map((figure) => figure.value)).toEqual(["—", "—", "—", "—"]);
    expect(few[1]?.reading).toBe("Needs at least 2 labels.");
  });
});
