import { describe, expect, it } from "vitest";

import type { Criterion } from "@/lib/api/types";
import { criteriaFieldOf, keyFromLabel, toCriteria, toDraft, validateNumber, weightShares } from "@/lib/criteria-form";

const CRITERIA: Criterion[] = [
  { kind: "attribute", key: "effort", label: "Effort", weight: 2, attribute: "effort", min: 0, max: 10, invert: true },
  { kind: "ai", key: "clarity", label: "Clarity", weight: 1, rubric: "Is it clear?", high_anchor: "Yes.", low_anchor: "No." },
];

describe("criteria drafts", () => {
  it("round-trip to the API's criteria unchanged", () => {
    expect(toCriteria(CRITERIA.map(toDraft))).toEqual(CRITERIA);
  });

  it("give each weight's share of the total, ignoring weights that are not positive numbers", () => {
    expect(weightShares([{ weight: "3" }, { weight: "1" }])).toEqual([0.75, 0.25]);
    expect(weightShares([{ weight: "2" }, { weight: "abc" }, { weight: "-1" }])).toEqual([1, 0, 0]);
    expect(weightShares([{ weight: "" }])).toEqual([0]);
  });
});

describe("keyFromLabel", () => {
  it("makes a valid, unused key from a label", () => {
    expect(keyFromLabel("Time to value", new Set())).toBe("time_to_value");
    expect(keyFromLabel("Time to value", new Set(["time_to_value"]))).toBe("time_to_value_2");
    expect(keyFromLabel("9 lives", new Set())).toBe("c_9_lives");
    expect(keyFromLabel("!!!", new Set())).toBe("c");
  });
});

describe("criteriaFieldOf", () => {
  it("names the editor's field for both of the API's path styles", () => {
    expect(criteriaFieldOf("criteria.1.weight")).toBe("criteria.1.weight");
    expect(criteriaFieldOf("criteria.1.attribute.weight")).toBe("criteria.1.weight");
    expect(criteriaFieldOf("body.criteria.0.ai.rubric")).toBe("criteria.0.rubric");
    expect(criteriaFieldOf("notes")).toBe("notes");
  });
});

describe("validateNumber", () => {
  it("accepts numbers and explains what is wrong otherwise", () => {
    expect(validateNumber("2.5")).toBe(true);
    expect(validateNumber("")).toBe("Enter a number.");
    expect(validateNumber("x")).toBe("Enter a number.");
    expect(validateNumber("0", { positive: true })).toBe("Use a number above 0.");
    expect(validateNumber("1001", { max: 1000 })).toBe("Use at most 1000.");
  });
});
