import { describe, expect, it } from "vitest";

import { formatDateTime, formatDelta, formatPercent, formatScore, formatUsd } from "@/lib/format";
import { linkify } from "@/lib/outbox";
import { loginPath, safeNextPath } from "@/lib/paths";

describe("safeNextPath", () => {
  it("keeps paths on this site and refuses everything else", () => {
    expect(safeNextPath("/orgs/acme/tasks?q=x")).toBe("/orgs/acme/tasks?q=x");
    expect(safeNextPath("//evil.example/")).toBe("/");
    expect(safeNextPath("/\\evil.example")).toBe("/");
    expect(safeNextPath("https://evil.example/")).toBe("/");
    expect(safeNextPath(undefined, "/onboarding")).toBe("/onboarding");
  });

  it("builds the login path with the way back", () => {
    expect(loginPath("/orgs/acme/tasks")).toBe("/login?next=%2Forgs%2Facme%2Ftasks");
    expect(loginPath("/")).toBe("/login");
  });
});

describe("formatting", () => {
  it("shows scores, changes, shares and costs", () => {
    expect(formatScore(72.54)).toBe("72.5");
    expect(formatDelta(3.21)).toBe("+3.2");
    expect(formatDelta(-1)).toBe("−1.0");
    expect(formatDelta(0.01)).toBe("0.0");
    expect(formatPercent(0.425)).toBe("43%");
    expect(formatUsd(0.000042)).toBe("$0.000042");
  });

  it("formats a date in a given time zone, and keeps a value it cannot read", () => {
    expect(formatDateTime("2026-01-02T03:04:05Z", "UTC")).toBe("Jan 2, 2026, 3:04 AM UTC");
    expect(formatDateTime("not a date")).toBe("not a date");
  });
});

describe("linkify", () => {
  it("splits a mail body into text and links, leaving trailing punctuation out", () => {
    expect(linkify("Open http://127.0.0.1:3000/account/verify-email/abc. Thanks")).toEqual([
      { kind: "text", text: "Open " },
      { kind: "link", href: "http://127.0.0.1:3000/account/verify-email/abc" },
      { kind: "text", text: ". Thanks" },
    ]);
  });
});
