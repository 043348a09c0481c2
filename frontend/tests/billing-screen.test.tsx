import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { BillingScreen } from "@/components/billing/BillingScreen";
import { stripeNavigation, type Billing, type CheckoutReturn, type Plan } from "@/lib/billing";

import { fakeFetch, jsonResponse, makeClient, meWith, problemResponse, renderWithApi } from "./helpers";

const FREE: Plan = {
  code: "free",
  name: "Free",
  monthly_task_quota: 100,
  monthly_ai_calls: 1000,
  is_metered: false,
  price: { amount: 0, currency: "usd", per: "month" },
  features: ["100 tasks a month", "Formula and AI scoring", "Custom scoring models", "1,000 AI calls a month"],
  entitlements: [],
  trial_days: 0,
};
const PRO: Plan = {
  code: "pro",
  name: "Pro",
  monthly_task_quota: 5000,
  monthly_ai_calls: 50000,
  is_metered: false,
  price: { amount: 2900, currency: "usd", per: "month" },
  features: ["5,000 tasks a month", "API keys", "50,000 AI calls a month"],
  entitlements: ["api_keys"],
  trial_days: 14,
};
const BUSINESS: Plan = {
  code: "business",
  name: "Business",
  monthly_task_quota: null,
  monthly_ai_calls: null,
  is_metered: true,
  price: { amount: 2, currency: "usd", per: "task" },
  features: ["Unlimited tasks, billed per task", "Custom roles", "Audit log", "Unlimited AI calls"],
  entitlements: ["api_keys", "custom_roles", "audit_log"],
  trial_days: 0,
};

/** `GET …/billing` of a Free org with no subscription, 37 tasks and 12 AI calls into the month. */
function freeBilling(overrides: Partial<Billing> = {}): Billing {
  return {
    plan: FREE,
    plan_source: "free",
    subscribed_plan: FREE,
    granted_plan: null,
    entitlements: [],
    status: "none",
    current_period_end: null,
    cancel_at_period_end: false,
    trial_end: null,
    trial_used: false,
    grace_ends_at: null,
    grace_days_left: null,
    quota: 100,
    used: 37,
    period_start: "2026-12-01T00:00:00Z",
    can_submit: true,
    restriction: "",
    ai: { period_start: "2026-12-01T00:00:00Z", calls: 12, limit: 1000, remaining: 988 },
    can_checkout: true,
    upgrades: [PRO, BUSINESS],
    invoices: [],
    plans: [FREE, PRO, BUSINESS],
    ...overrides,
  };
}

/** The same org on a Pro trial that Checkout started. */
function trialBilling(overrides: Partial<Billing> = {}): Billing {
  return freeBilling({
    plan: { ...PRO, trial_days: 0 },
    plan_source: "subscription",
    subscribed_plan: { ...PRO, trial_days: 0 },
    entitlements: ["api_keys"],
    status: "trialing",
    current_period_end: "2026-12-15T10:00:00Z",
    trial_end: "2026-12-15T10:00:00Z",
    trial_used: true,
    quota: 5000,
    ai: { period_start: "2026-12-01T10:00:00Z", calls: 12, limit: 50000, remaining: 49988 },
    can_checkout: false,
    upgrades: [BUSINESS],
    plans: [FREE, { ...PRO, trial_days: 0 }, BUSINESS],
    ...overrides,
  });
}

const OWNER = ["billing.manage", "billing.read", "task.read"];
const VIEWER = ["billing.read", "members.read", "task.read"];

function serve(
  billing: () => Billing | Response,
  {
    permissions = OWNER,
    onCheckout = () => jsonResponse(200, { url: "https://checkout.stripe.test/c/cs_test_1" }),
    onPortal = () => jsonResponse(200, { url: "https://billing.stripe.test/p/bps_1" }),
  }: { permissions?: readonly string[]; onCheckout?: (body: unknown) => Response; onPortal?: () => Response } = {},
) {
  return fakeFetch((request) => {
    if (request.path === "/api/v2/me") return jsonResponse(200, meWith(permissions));
    if (request.path === "/api/v2/orgs/acme/billing" && request.method === "GET") {
      const answer = billing();
      return answer instanceof Response ? answer : jsonResponse(200, answer);
    }
    if (request.path === "/api/v2/orgs/acme/billing/checkout" && request.method === "POST") return onCheckout(request.body);
    if (request.path === "/api/v2/orgs/acme/billing/portal" && request.method === "POST") return onPortal();
    return undefined;
  });
}

function renderScreen(fetch: ReturnType<typeof serve>["fetch"], checkoutReturn: CheckoutReturn | null = null) {
  return renderWithApi(<BillingScreen org="acme" checkoutReturn={checkoutReturn} />, makeClient(fetch));
}

function planCard(code: string): HTMLElement {
  const card = screen.getAllByTestId("plan-card").find((element) => element.dataset.plan === code);
  if (!card) throw new Error(`no card for ${code}`);
  return card;
}

let go: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  document.cookie = "csrftoken=t";
  go = vi.spyOn(stripeNavigation, "go").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("BillingScreen on the Free plan", () => {
  it("shows the plan, where it comes from, the meters against the quota and allowance, and no invoices yet", async () => {
    const { fetch } = serve(() => freeBilling());
    renderScreen(fetch);

    expect(await screen.findByTestId("billing-plan")).toHaveTextContent("Free");
    expect(screen.getByTestId("billing-plan-source")).toHaveTextContent("No subscription: the Free plan.");
    expect(screen.queryByTestId("billing-status")).not.toBeInTheDocument();
    const tasks = screen.getByRole("meter", { name: "Tasks" });
    expect(tasks).toHaveAttribute("aria-valuenow", "37");
    expect(tasks).toHaveAttribute("aria-valuemax", "100");
    expect(tasks).toHaveAttribute("aria-valuetext", "37 of 100 tasks used; 63 left this period");
    expect(screen.getByRole("meter", { name: "AI calls" })).toHaveAttribute("aria-valuetext", "12 of 1,000 AI calls used; 988 left this period");
    const features = within(screen.getByTestId("billing-features")).getAllByRole("listitem").map((item) => item.textContent);
    expect(features).toEqual([
      "–API keys: not included — with Pro",
      "–Custom roles: not included — with Business",
      "–The audit log: not included — with Business",
    ]);
    expect(screen.getByText("No invoices yet")).toBeInTheDocument();
    // Nothing to manage without a subscription.
    expect(screen.queryByRole("button", { name: "Manage billing" })).not.toBeInTheDocument();
  });

  it("offers Pro's trial and Business's upgrade, with prices and features, and marks the current plan", async () => {
    const { fetch } = serve(() => freeBilling());
    renderScreen(fetch);

    await screen.findByTestId("billing-plan");
    const free = planCard("free");
    expect(free).toHaveAttribute("aria-current", "true");
    expect(within(free).getByText("Current plan")).toBeInTheDocument();
    expect(within(free).queryByRole("button")).not.toBeInTheDocument();
    expect(within(planCard("pro")).getByText("$29 a month")).toBeInTheDocument();
    expect(within(planCard("pro")).getByText("Starts with a 14-day free trial.")).toBeInTheDocument();
    expect(within(planCard("pro")).getByRole("button", { name: "Start a 14-day trial" })).toBeEnabled();
    expect(within(planCard("business")).getByText("$0.02 per task")).toBeInTheDocument();
    expect(within(planCard("business")).getByText("Audit log")).toBeInTheDocument();
    expect(within(planCard("business")).getByRole("button", { name: "Upgrade to Business" })).toBeEnabled();
  });

  it("starts Checkout once with an Idempotency-Key and sends the browser to Stripe", async () => {
    const bodies: unknown[] = [];
    const { fetch, sent } = serve(() => freeBilling(), {
      onCheckout: (body) => {
        bodies.push(body);
        return jsonResponse(200, { url: "https://checkout.stripe.test/c/cs_test_1" });
      },
    });
    renderScreen(fetch);

    const trial = await screen.findByRole("button", { name: "Start a 14-day trial" });
    await userEvent.dblClick(trial);

    await waitFor(() => expect(go).toHaveBeenCalledWith("https://checkout.stripe.test/c/cs_test_1"));
    expect(go).toHaveBeenCalledTimes(1);
    expect(bodies).toEqual([{ plan: "pro" }]);
    const post = sent.find((request) => request.method === "POST");
    expect(post?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{32,36}$/);
    // While the browser leaves, every button waits.
    expect(within(planCard("pro")).getByRole("button", { name: "Start a 14-day trial" })).toBeDisabled();
    expect(within(planCard("business")).getByRole("button", { name: "Upgrade to Business" })).toBeDisabled();
  });

  it("says so in words when Stripe is down, and nothing changes", async () => {
    const { fetch } = serve(() => freeBilling(), {
      onCheckout: () => problemResponse(503, { title: "Stripe unavailable", type: "/problems/stripe-unavailable", detail: "Stripe timed out." }),
    });
    renderScreen(fetch);

    await userEvent.click(await screen.findByRole("button", { name: "Upgrade to Business" }));

    expect(await screen.findByText("Stripe could not be reached")).toBeInTheDocument();
    expect(screen.getByTestId("checkout-error")).toHaveTextContent(
      "Our payment provider did not answer. Nothing was charged and nothing changed: try again in a few minutes.",
    );
    expect(go).not.toHaveBeenCalled();
    expect(screen.getByTestId("billing-plan")).toHaveTextContent("Free");
    expect(within(planCard("business")).getByRole("button", { name: "Upgrade to Business" })).toBeEnabled();
  });

  it("says when Stripe refused, and reuses the key when the person tries again", async () => {
    let calls = 0;
    const { fetch, sent } = serve(() => freeBilling(), {
      onCheckout: () => {
        calls += 1;
        return calls === 1
          ? problemResponse(502, { title: "Stripe refused", type: "/problems/stripe-refused" })
          : jsonResponse(200, { url: "https://checkout.stripe.test/c/cs_test_2" });
      },
    });
    renderScreen(fetch);

    const upgrade = await screen.findByRole("button", { name: "Upgrade to Business" });
    await userEvent.click(upgrade);
    expect(await screen.findByText("Stripe refused the request")).toBeInTheDocument();
    await userEvent.click(upgrade);

    await waitFor(() => expect(go).toHaveBeenCalledWith("https://checkout.stripe.test/c/cs_test_2"));
    const keys = sent.filter((request) => request.method === "POST").map((request) => request.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
  });

  it("does not leave for an address that is not a web page", async () => {
    const { fetch } = serve(() => freeBilling(), { onCheckout: () => jsonResponse(200, { url: "javascript:alert(1)" }) });
    renderScreen(fetch);

    await userEvent.click(await screen.findByRole("button", { name: "Upgrade to Business" }));
    expect(await screen.findByText("Stripe's page could not be opened")).toBeInTheDocument();
    expect(go).not.toHaveBeenCalled();
  });

  it("lists the invoices with amount, status and a link to Stripe's page", async () => {
    const { fetch } = serve(() =>
      freeBilling({
        invoices: [
          {
            id: "in_2",
            number: "TS-0002",
            status: "open",
            currency: "usd",
            amount_due: 2900,
            amount_paid: 0,
            hosted_invoice_url: "https://invoice.stripe.test/i/in_2",
            created: "2026-12-15T10:00:00Z",
          },
          {
            id: "in_1",
            number: "TS-0001",
            status: "paid",
            currency: "usd",
            amount_due: 1250,
            amount_paid: 1250,
            hosted_invoice_url: "",
            created: "2026-11-15T10:00:00Z",
          },
        ],
      }),
    );
    renderScreen(fetch);

    const rows = await screen.findAllByTestId("invoice-row");
    expect(rows.map((row) => within(row).getAllByRole("cell").slice(1, 4).map((cell) => cell.textContent))).toEqual([
      ["TS-0002", "$29", "Open"],
      ["TS-0001", "$12.50", "Paid"],
    ]);
    const link = within(rows[0] as HTMLElement).getByRole("link", { name: "Invoice TS-0002 (opens Stripe's page in a new tab)" });
    expect(link).toHaveAttribute("href", "https://invoice.stripe.test/i/in_2");
    expect(link).toHaveAttribute("target", "_blank");
    expect(within(rows[1] as HTMLElement).queryByRole("link")).not.toBeInTheDocument();
  });

  it("explains a refused submission with the way out when the quota is used up", async () => {
    const { fetch } = serve(() =>
      freeBilling({ used: 100, can_submit: false, restriction: "The Free plan allows 100 tasks a month; 100 are used." }),
    );
    renderScreen(fetch);

    expect(await screen.findByTestId("task-usage-left")).toHaveTextContent("None left this period");
    const refusal = screen.getByRole("alert");
    expect(refusal).toHaveTextContent("New tasks are refused");
    expect(refusal).toHaveTextContent("The Free plan allows 100 tasks a month; 100 are used.");
    expect(within(refusal).getByRole("link", { name: "See the plans" })).toHaveAttribute("href", "#plans-heading");
  });
});

describe("BillingScreen for a role that may only read billing", () => {
  it("shows the plan and usage but no Upgrade or Manage, and says who can", async () => {
    const { fetch, sent } = serve(() => trialBilling(), { permissions: VIEWER });
    renderScreen(fetch);

    expect(await screen.findByTestId("billing-plan")).toHaveTextContent("Pro");
    await screen.findByText(/Changing the plan needs the permission to change billing: ask an owner/);
    expect(screen.queryByRole("button", { name: /Upgrade|trial|Manage|portal/ })).not.toBeInTheDocument();
    expect(sent.some((request) => request.method === "POST")).toBe(false);
  });

  it("asks for nothing and says so without billing.read", async () => {
    const { fetch, sent } = serve(() => freeBilling(), { permissions: ["task.read"] });
    renderScreen(fetch);

    expect(await screen.findByText("Not available to your role")).toBeInTheDocument();
    expect(sent.some((request) => request.path.endsWith("/billing"))).toBe(false);
  });
});

describe("BillingScreen with a subscription", () => {
  it("shows a trial with its end date, and Manage opens Stripe's portal", async () => {
    const { fetch, sent } = serve(() => trialBilling());
    renderScreen(fetch);

    expect(await screen.findByTestId("billing-plan")).toHaveTextContent("Pro");
    expect(screen.getByTestId("billing-status")).toHaveTextContent("Trial");
    expect(screen.getByTestId("billing-plan-source")).toHaveTextContent("Through this organization's subscription, billed by Stripe.");
    expect(screen.getByTestId("billing-trial-end")).toHaveTextContent(/^The free trial ends on Dec 15, 2026, .+; then \$29 a month\.$/);
    expect(screen.getByRole("meter", { name: "Tasks" })).toHaveAttribute("aria-valuemax", "5000");
    // A live subscription changes in the portal, not through a second Checkout.
    expect(within(planCard("business")).getByRole("button", { name: "Upgrade to Business in the portal" })).toBeInTheDocument();
    expect(within(planCard("free")).getByRole("button", { name: "Cancel in the portal" })).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Manage billing" }));
    await waitFor(() => expect(go).toHaveBeenCalledWith("https://billing.stripe.test/p/bps_1"));
    expect(sent.filter((request) => request.method === "POST").map((request) => request.path)).toEqual(["/api/v2/orgs/acme/billing/portal"]);
  });

  it("warns of a failed payment with the grace days left, and Update your card opens the portal", async () => {
    const { fetch } = serve(() =>
      trialBilling({ status: "past_due", trial_end: null, grace_days_left: 3, grace_ends_at: "2026-12-18T10:00:00Z" }),
    );
    renderScreen(fetch);

    const banner = await screen.findByTestId("billing-banner");
    expect(banner).toHaveAttribute("data-kind", "past_due");
    expect(screen.getByText("The latest payment failed: 3 days left to update your card")).toBeInTheDocument();
    expect(banner).toHaveTextContent(/Stripe could not charge the card for the Pro plan\. The plan stays in force until Dec 18, 2026/);
    expect(screen.getByTestId("billing-status")).toHaveTextContent("Payment overdue");
    expect(screen.getByTestId("billing-period-end")).toHaveTextContent(/^The current period ends on Dec 15, 2026/);

    await userEvent.click(screen.getByRole("button", { name: "Update your card" }));
    await waitFor(() => expect(go).toHaveBeenCalledWith("https://billing.stripe.test/p/bps_1"));
  });

  it("says when the grace period is over and submissions stop", async () => {
    const { fetch } = serve(() =>
      trialBilling({
        status: "past_due",
        trial_end: null,
        grace_days_left: 0,
        can_submit: false,
        restriction: "The payment for the Pro plan is overdue since 2026-12-01; update the payment method to submit tasks again.",
      }),
    );
    renderScreen(fetch);

    expect(await screen.findByText("A payment is overdue: new tasks are refused")).toBeInTheDocument();
    expect(screen.getAllByRole("button", { name: "Update your card" })).toHaveLength(2);
  });

  it("says when a canceled subscription ends, with the way to keep it", async () => {
    const { fetch } = serve(() =>
      trialBilling({ status: "active", trial_end: null, cancel_at_period_end: true, current_period_end: "2027-01-01T10:00:00Z" }),
    );
    renderScreen(fetch);

    expect(await screen.findByText("The Pro plan ends at the end of this period")).toBeInTheDocument();
    expect(screen.getByTestId("billing-banner")).toHaveTextContent(/does not renew after Jan 1, 2027.+Then the organization moves to the Free plan/);
    expect(screen.getByTestId("billing-period-end")).toHaveTextContent(/^Ends on Jan 1, 2027/);
    expect(screen.getByRole("button", { name: "Keep the subscription" })).toBeInTheDocument();
  });

  it("says when the subscription has ended", async () => {
    const { fetch } = serve(() => freeBilling({ status: "canceled", subscribed_plan: PRO, trial_used: true }));
    renderScreen(fetch);

    expect(await screen.findByText("The subscription has ended")).toBeInTheDocument();
    expect(screen.getByTestId("billing-banner")).toHaveTextContent("The Pro subscription was canceled; the organization is on the Free plan.");
    expect(screen.getByTestId("billing-status")).toHaveTextContent("Canceled");
  });

  it("says a granted plan is not billed, and a metered plan what the period costs so far", async () => {
    const { fetch } = serve(() =>
      freeBilling({
        plan: BUSINESS,
        plan_source: "grant",
        granted_plan: BUSINESS,
        entitlements: ["api_keys", "audit_log", "custom_roles"],
        quota: null,
        used: 12,
        ai: { period_start: "2026-12-01T00:00:00Z", calls: 40, limit: null, remaining: null },
        upgrades: [],
      }),
    );
    renderScreen(fetch);

    expect(await screen.findByTestId("billing-plan-source")).toHaveTextContent("Given to this organization by Taskscore: it is not billed.");
    expect(screen.getByTestId("task-usage-left")).toHaveTextContent("Unlimited, billed per task: $0.24 so far");
    expect(screen.getByTestId("task-usage-used")).toHaveTextContent("12 tasks used");
    expect(screen.getByTestId("ai-calls-usage-left")).toHaveTextContent("Unlimited");
    expect(screen.queryByRole("meter")).not.toBeInTheDocument();
    expect(within(screen.getByTestId("billing-features")).getAllByRole("listitem").every((item) => item.dataset.included === "true")).toBe(true);
    expect(screen.queryByRole("button", { name: /Upgrade|trial/ })).not.toBeInTheDocument();
  });
});

describe("BillingScreen back from Checkout", () => {
  it("says it is confirming the payment, polls until the webhook changed the plan, then says what started", async () => {
    let calls = 0;
    const { fetch, sent } = serve(() => {
      calls += 1;
      return calls < 3 ? freeBilling() : trialBilling();
    });
    window.history.replaceState(null, "", "/orgs/acme/billing?checkout=success");
    renderScreen(fetch, "success");

    expect(await screen.findByText("Confirming your payment…")).toBeInTheDocument();
    expect(screen.getByTestId("billing-plan")).toHaveTextContent("Free");
    expect(await screen.findByText("Your Pro trial has started", {}, { timeout: 5000 })).toBeInTheDocument();
    expect(screen.getByTestId("checkout-confirmed")).toHaveTextContent("Everything in Pro is yours until the trial ends; then $29 a month.");
    expect(screen.getByTestId("billing-plan")).toHaveTextContent("Pro");
    expect(screen.queryByText("Confirming your payment…")).not.toBeInTheDocument();
    expect(window.location.search).toBe("");
    const gets = sent.filter((request) => request.path === "/api/v2/orgs/acme/billing").length;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(sent.filter((request) => request.path === "/api/v2/orgs/acme/billing").length).toBe(gets);
  }, 10_000);

  it("stops after half a minute and says the payment is not confirmed yet, with a way to look again", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let isConfirmed = false;
    const { fetch, sent } = serve(() => (isConfirmed ? trialBilling({ status: "active", trial_end: null }) : freeBilling()));
    renderScreen(fetch, "success");

    expect(await screen.findByText("Confirming your payment…")).toBeInTheDocument();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(31_000);
    });
    expect(await screen.findByText("The payment is not confirmed yet")).toBeInTheDocument();
    const polls = sent.filter((request) => request.path === "/api/v2/orgs/acme/billing").length;
    expect(polls).toBeGreaterThan(3);
    expect(polls).toBeLessThan(12);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(30_000);
    });
    expect(sent.filter((request) => request.path === "/api/v2/orgs/acme/billing").length).toBe(polls);

    isConfirmed = true;
    vi.useRealTimers();
    await userEvent.click(screen.getByRole("button", { name: "Check again" }));
    expect(await screen.findByText("You are on the Pro plan")).toBeInTheDocument();
  });

  it("says a canceled Checkout changed nothing", async () => {
    const { fetch } = serve(() => freeBilling());
    renderScreen(fetch, "canceled");

    expect(await screen.findByText("Checkout was canceled")).toBeInTheDocument();
    expect(screen.getByText("Nothing was charged and the plan did not change.")).toBeInTheDocument();
  });
});

describe("BillingScreen when the billing cannot be loaded", () => {
  it("explains and tries again", async () => {
    let calls = 0;
    const { fetch } = serve(() => {
      calls += 1;
      return calls === 1 ? problemResponse(500, { title: "Oops" }) : freeBilling();
    });
    renderScreen(fetch);

    expect(await screen.findByText("The billing could not be loaded")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByTestId("billing-plan")).toHaveTextContent("Free");
  });
});
