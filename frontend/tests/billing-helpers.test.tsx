import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { BillingActionLink } from "@/components/billing/BillingAction";
import { PaidFeatureBadge } from "@/components/billing/PaidFeatureBadge";
import { ImportTasks } from "@/components/tasks/ImportTasks";
import { TaskForm } from "@/components/tasks/TaskForm";
import { ApiProblem, toApiProblem } from "@/lib/api/problem";
import {
  allowanceSummary,
  checkoutReturnOf,
  confirmationDelay,
  formatMoney,
  invoiceStatusWords,
  isWebUrl,
  priceWords,
  STATUS_WORDS,
  stripeErrorWords,
  taskAllowance,
  upgradeLabel,
  type Plan,
} from "@/lib/billing";
import { describeError } from "@/lib/errors";

import { ACTIVE_VERSION, fakeFetch, jsonResponse, makeClient, meWith, renderWithApi } from "./helpers";

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push: vi.fn(), replace: vi.fn() }),
}));

function problem(body: Record<string, unknown>): ApiProblem {
  return toApiProblem({ title: "Refused", status: 402, ...body }, { status: 402, statusText: "" });
}

const QUOTA = problem({
  type: "/problems/quota-exceeded",
  detail: "The Free plan allows 100 tasks a month; 100 are used.",
  plan: "free",
  used: 100,
  limit: 100,
});
const OVERDUE = problem({
  type: "/problems/payment-overdue",
  detail: "The payment for the Pro plan is overdue since 2026-12-01; update the payment method to submit tasks again.",
  plan: "pro",
  used: 3,
  limit: 5000,
});
const FEATURE = problem({ type: "/problems/plan-feature-required", feature: "api_keys", plan: "free", required_plan: "pro" });
const AI_BUDGET = problem({ type: "/problems/ai-budget-exceeded", plan: "free", used: 990, limit: 1000, needed: 200 });

describe("money and prices", () => {
  it("says amounts in minor units as money, dropping decimals from whole amounts", () => {
    expect(formatMoney(2900, "usd")).toBe("$29");
    expect(formatMoney(2, "usd")).toBe("$0.02");
    expect(formatMoney(1250, "usd")).toBe("$12.50");
    expect(formatMoney(2900, "eur")).toBe("€29");
    // A currency without minor units is not divided.
    expect(formatMoney(500, "jpy")).toBe("¥500");
  });

  it("says a plan's price per month or per task", () => {
    expect(priceWords({ amount: 0, currency: "usd", per: "month" })).toBe("$0 a month");
    expect(priceWords({ amount: 2900, currency: "usd", per: "month" })).toBe("$29 a month");
    expect(priceWords({ amount: 2, currency: "usd", per: "task" })).toBe("$0.02 per task");
  });
});

describe("allowances", () => {
  it("says what is used and left, amber past 80% and red when nothing is left", () => {
    expect(allowanceSummary(37, 100, "task")).toEqual({ used: "37 of 100 tasks used", left: "63 left this period", tone: "normal", hasLimit: true });
    expect(allowanceSummary(85, 100, "task").tone).toBe("low");
    expect(allowanceSummary(120, 100, "task")).toMatchObject({ left: "None left this period", tone: "out" });
    expect(allowanceSummary(1, 1000, "AI call").used).toBe("1 of 1,000 AI calls used");
    expect(allowanceSummary(1, null, "task")).toEqual({ used: "1 task used", left: "Unlimited", tone: "normal", hasLimit: false });
  });

  it("says what a metered plan's period costs so far", () => {
    const business = { is_metered: true, price: { amount: 2, currency: "usd", per: "task" as const } } as Plan;
    expect(taskAllowance({ used: 1234, quota: null, plan: business }).left).toBe("Unlimited, billed per task: $24.68 so far");
  });
});

describe("words for statuses and actions", () => {
  it("has a label for every subscription status and Stripe's invoice statuses", () => {
    expect(Object.keys(STATUS_WORDS).sort()).toEqual(
      ["active", "canceled", "incomplete", "incomplete_expired", "none", "past_due", "paused", "trialing", "unpaid"].sort(),
    );
    expect(invoiceStatusWords("paid")).toEqual({ label: "Paid", tone: "success" });
    expect(invoiceStatusWords("something_new")).toEqual({ label: "something_new", tone: "neutral" });
  });

  it("offers a trial when this org gets one for the plan, else the upgrade", () => {
    expect(upgradeLabel({ name: "Pro", trial_days: 14 })).toBe("Start a 14-day trial");
    expect(upgradeLabel({ name: "Pro", trial_days: 0 })).toBe("Upgrade to Pro");
  });

  it("reads how Checkout sent the person back, and nothing else", () => {
    expect(checkoutReturnOf("success")).toBe("success");
    expect(checkoutReturnOf("canceled")).toBe("canceled");
    expect(checkoutReturnOf("other")).toBeNull();
    expect(checkoutReturnOf(["success"])).toBeNull();
    expect(checkoutReturnOf(undefined)).toBeNull();
  });

  it("polls Stripe's confirmation with backoff: about seven requests in half a minute", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map(confirmationDelay);
    expect(delays).toEqual([1000, 1600, 2560, 4096, 6554, 10000, 10000]);
    expect(delays.slice(0, 6).reduce((sum, delay) => sum + delay, 0)).toBeLessThan(30_000);
  });

  it("sends the browser only to web pages", () => {
    expect(isWebUrl("https://checkout.stripe.com/c/pay/cs_test_1")).toBe(true);
    expect(isWebUrl("http://127.0.0.1:8420/checkout/cs_test_1")).toBe(true);
    expect(isWebUrl("javascript:alert(1)")).toBe(false);
    expect(isWebUrl("/relative")).toBe(false);
  });

  it("says Stripe's outages as such, and other refusals as everywhere", () => {
    const unavailable = new ApiProblem({ type: "/problems/stripe-unavailable", title: "Stripe unavailable", status: 503 });
    expect(stripeErrorWords(unavailable).title).toBe("Stripe could not be reached");
    const refused = new ApiProblem({ type: "/problems/stripe-refused", title: "Stripe refused", status: 502 });
    expect(stripeErrorWords(refused).title).toBe("Stripe refused the request");
    const conflict = new ApiProblem({ type: "/problems/conflict", title: "Conflict", status: 409, detail: "The org already has a subscription; change it in the portal." });
    expect(stripeErrorWords(conflict)).toEqual({ title: "That clashes with something", message: "The org already has a subscription; change it in the portal." });
  });
});

describe("a 402 anywhere", () => {
  it("says what was refused and offers the billing page", () => {
    expect(describeError(QUOTA)).toMatchObject({
      title: "Your plan's limit is reached",
      message: "The Free plan allows 100 tasks a month; 100 are used. Upgrade for more, or wait for the next period.",
      action: { label: "Upgrade" },
    });
    expect(describeError(OVERDUE)).toMatchObject({
      title: "A payment is overdue",
      message: "The payment for the Pro plan is overdue since 2026-12-01; update the payment method to submit tasks again.",
      action: { label: "Update the payment method" },
    });
    expect(describeError(FEATURE)).toMatchObject({ title: "API keys need the Pro plan", action: { label: "Upgrade to Pro" } });
    expect(describeError(AI_BUDGET)).toMatchObject({ title: "Not enough AI calls left this month", action: { label: "See plans" } });
    expect(describeError(new ApiProblem({ type: "/problems/not-found", title: "Not found", status: 404 })).action).toBeUndefined();
  });

  it("renders the action as a link to the org's billing page, and nothing for other errors", () => {
    const { rerender } = render(<BillingActionLink org="acme co" error={FEATURE} />);
    expect(screen.getByRole("link", { name: "Upgrade to Pro" })).toHaveAttribute("href", "/orgs/acme%20co/billing");
    rerender(<BillingActionLink org="acme" error={new TypeError("offline")} />);
    expect(screen.queryByRole("link")).not.toBeInTheDocument();
  });

  it("offers the upgrade where a task submission is refused for the quota", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = fakeFetch((request) => {
      if (request.path === "/api/v2/orgs/acme/scoring/active") return jsonResponse(200, ACTIVE_VERSION);
      if (request.method === "POST" && request.path === "/api/v2/orgs/acme/tasks") {
        return jsonResponse(402, { type: "/problems/quota-exceeded", title: "Quota exceeded", status: 402, detail: "The Free plan allows 100 tasks a month; 100 are used.", plan: "free", used: 100, limit: 100 }, "application/problem+json");
      }
      return undefined;
    });
    renderWithApi(<TaskForm org="acme" />, makeClient(fetch));

    await userEvent.type(await screen.findByLabelText("Title"), "Dark mode");
    await userEvent.click(screen.getByRole("button", { name: "Submit task" }));

    expect(await screen.findByText("The Free plan allows 100 tasks a month; 100 are used. Upgrade for more, or wait for the next period.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Upgrade" })).toHaveAttribute("href", "/orgs/acme/billing");
  });

  it("offers the payment where an import is refused for an overdue payment", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = fakeFetch((request) => {
      if (request.path === "/api/v2/orgs/acme/scoring/active") return jsonResponse(200, ACTIVE_VERSION);
      if (request.method === "POST" && request.path === "/api/v2/orgs/acme/tasks/batch") {
        return jsonResponse(402, { type: "/problems/payment-overdue", title: "Payment overdue", status: 402, plan: "pro", used: 1, limit: 5000 }, "application/problem+json");
      }
      return undefined;
    });
    renderWithApi(<ImportTasks org="acme" />, makeClient(fetch));

    const file = new File(["title,reach\nDark mode,400\n"], "tasks.csv", { type: "text/csv" });
    await userEvent.upload(await screen.findByLabelText("CSV file"), file);
    await userEvent.click(await screen.findByRole("button", { name: /^Import/ }));

    expect(await screen.findByText("Nothing was imported")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Update the payment method" })).toHaveAttribute("href", "/orgs/acme/billing");
  });
});

describe("useEntitlements (PaidFeatureBadge)", () => {
  function serve(entitlements: string[], permissions: readonly string[] = ["billing.read"]) {
    return fakeFetch((request) => {
      if (request.path === "/api/v2/me") return jsonResponse(200, meWith(permissions));
      if (request.path === "/api/v2/orgs/acme/billing") {
        return jsonResponse(200, {
          entitlements,
          plans: [
            { code: "free", name: "Free", entitlements: [] },
            { code: "pro", name: "Pro", entitlements: ["api_keys"] },
            { code: "business", name: "Business", entitlements: ["api_keys", "custom_roles", "audit_log"] },
          ],
          plan: { code: "pro", name: "Pro", entitlements: ["api_keys"] },
        });
      }
      return undefined;
    });
  }

  it("marks a feature the org's plan lacks with the plan that adds it", async () => {
    const { fetch } = serve(["api_keys"]);
    renderWithApi(
      <>
        <PaidFeatureBadge org="acme" feature="audit_log" />
        <PaidFeatureBadge org="acme" feature="api_keys" />
      </>,
      makeClient(fetch),
    );

    expect(await screen.findByText("Business")).toBeInTheDocument();
    expect(screen.getByText("(needs the Business plan)", { exact: false })).toHaveClass("sr-only");
    expect(screen.queryByText("Pro")).not.toBeInTheDocument();
  });

  it("asks nothing and marks nothing when the role cannot read billing", async () => {
    const { fetch, sent } = serve([], ["task.read"]);
    renderWithApi(<PaidFeatureBadge org="acme" feature="audit_log" />, makeClient(fetch));

    await waitFor(() => expect(sent.some((request) => request.path === "/api/v2/me")).toBe(true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent.some((request) => request.path.endsWith("/billing"))).toBe(false);
    expect(screen.queryByText("Business")).not.toBeInTheDocument();
  });
});
