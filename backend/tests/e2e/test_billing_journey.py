"""An owner's billing journey in the browser, against the offline Stripe stand-in as `make run`
starts it (the app has no offline branch: it talks to the stand-in as it talks to Stripe): a Free
org's use of a paid feature offers the upgrade; the billing page shows the Free plan and its
meters; Upgrade on Pro opens the stand-in's Checkout with its trial, the test card pays, and back
on the billing page the plan is Pro, trialing, with its end date and quota once the signed webhook
arrived; Manage opens the stand-in's portal, a failed payment is simulated, and back on the billing
page the past-due banner says how many grace days are left."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Response, expect

from taskscore.accounts.services import user_create
from taskscore.billing.models import Invoice, OrgBilling, StripeEvent
from taskscore.scoring.services import org_open

from .conftest import Shoot, tab_to

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OWNER = "bea@billing.test"
PASSWORD = "a-long-billing-password"
# The stand-in waits for its webhooks before it sends the browser back, so the page usually shows
# the new state at once; the page polls for up to half a minute when it does not.
CONFIRMED_TIMEOUT = 35_000


def record_refusals(page: Page) -> list[tuple[int, str, str]]:
    """The 4xx answers `page` receives, as (status, method, path)."""
    refusals: list[tuple[int, str, str]] = []

    def on_response(response: Response) -> None:
        if 400 <= response.status < 500:
            refusals.append(
                (
                    response.status,
                    response.request.method,
                    re.sub(r"^https?://[^/]+", "", response.url),
                )
            )

    page.on("response", on_response)
    return refusals


def test_an_owner_upgrades_through_checkout_and_meets_a_failed_payment(
    web_app: str, stripe_standin: str, page: Page, shoot: Shoot, console_errors: list[str]
) -> None:
    refusals = record_refusals(page)
    owner = user_create(email=OWNER, password=PASSWORD, is_email_verified=True)
    org = org_open(name="Billing Org", owner=owner)  # no subscription: the Free plan
    page.goto(f"{web_app}/login")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/orgs/billing-org/tasks$"))
    nav = page.get_by_role("navigation", name="Main")

    # A Free org's use of a paid feature: the audit log needs Business, and offers the upgrade.
    nav.get_by_role("link", name="Audit log").click()
    upgrade = page.get_by_test_id("upgrade-link")
    expect(upgrade).to_have_text("Upgrade to Business")
    expect(page.get_by_text("The audit log needs the Business plan")).to_be_visible()
    shoot("free-org-audit-log-upgrade")

    # The upgrade action leads to the billing page: the Free plan, its meters, the plans.
    upgrade.click()
    expect(page).to_have_url(re.compile(r"/orgs/billing-org/billing$"))
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
    expect(page.get_by_test_id("billing-plan")).to_have_text("Free")
    expect(page.get_by_test_id("billing-plan-source")).to_have_text(
        "No subscription: the Free plan."
    )
    tasks = page.get_by_role("meter", name="Tasks")
    expect(tasks).to_have_attribute("aria-valuemax", "100")
    expect(tasks).to_have_attribute("aria-valuetext", "0 of 100 tasks used; 100 left this period")
    expect(page.get_by_role("meter", name="AI calls")).to_have_attribute("aria-valuemax", "1000")
    expect(page.get_by_text("No invoices yet")).to_be_visible()
    expect(page.get_by_role("button", name="Manage billing")).to_have_count(0)
    pro = page.locator('[data-testid="plan-card"][data-plan="pro"]')
    expect(pro).to_contain_text("$29 a month")
    expect(pro).to_contain_text("Starts with a 14-day free trial.")
    shoot("billing-free")

    # Upgrade on Pro, by keyboard: the stand-in's Checkout, marked as a test, with the trial.
    start_trial = pro.get_by_role("button", name="Start a 14-day trial")
    tab_to(page, start_trial)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"^{re.escape(stripe_standin)}/checkout/cs_test_"))
    expect(page.get_by_text("Test mode").first).to_be_visible()
    expect(page.get_by_text("14-day free trial")).to_be_visible()
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry date").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Bea Billing")
    shoot("standin-checkout")
    page.get_by_role("button", name="Start trial").click()

    # Back on the billing page: Pro, trialing, its end date and quota, once the webhook is in.
    expect(page).to_have_url(re.compile(r"/orgs/billing-org/billing"))
    expect(page.get_by_text("Your Pro trial has started")).to_be_visible(timeout=CONFIRMED_TIMEOUT)
    # The return address is said once: a reload shows the page as it is.
    expect(page).to_have_url(re.compile(r"/orgs/billing-org/billing$"))
    expect(page.get_by_test_id("billing-plan")).to_have_text("Pro")
    expect(page.get_by_test_id("billing-status")).to_have_attribute("data-status", "trialing")
    expect(page.get_by_test_id("billing-status")).to_have_text("Trial")
    billing = OrgBilling.objects.get(org=org)
    assert (billing.plan.code, billing.status) == ("pro", "trialing")
    assert billing.trial_end is not None
    ends = f"{billing.trial_end:%b} {billing.trial_end.day}, {billing.trial_end:%Y}"
    expect(page.get_by_test_id("billing-trial-end")).to_contain_text(
        re.compile(rf"The free trial ends on {ends}, .+; then \$29 a month\.")
    )
    expect(page.get_by_role("meter", name="Tasks")).to_have_attribute("aria-valuemax", "5000")
    expect(page.get_by_role("meter", name="AI calls")).to_have_attribute("aria-valuemax", "50000")
    expect(page.get_by_test_id("billing-features").locator('[data-included="true"]')).to_have_text(
        ["✓API keys: included"]
    )
    expect(page.locator('[data-testid="plan-card"][data-plan="pro"]')).to_contain_text(
        "Current plan"
    )
    shoot("billing-pro-trial")

    # Manage opens the stand-in's portal; a failed payment ends the trial and leaves it past due.
    page.get_by_role("button", name="Manage billing").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(stripe_standin)}/portal/bps_"))
    expect(page.get_by_role("heading", name="Manage your subscription")).to_be_visible()
    shoot("standin-portal")
    page.get_by_role("button", name="Simulate a failed payment").click()
    expect(page.get_by_text("The latest payment failed.")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"Return to Taskscore")).click()

    # Back on the billing page: the past-due banner with the grace days left, the open invoice.
    expect(page).to_have_url(re.compile(r"/orgs/billing-org/billing$"))
    banner = page.get_by_test_id("billing-banner")
    expect(banner).to_have_attribute("data-kind", "past_due", timeout=CONFIRMED_TIMEOUT)
    expect(
        page.get_by_text("The latest payment failed: 7 days left to update your card")
    ).to_be_visible()
    expect(banner).to_contain_text("Stripe could not charge the card for the Pro plan.")
    expect(page.get_by_test_id("billing-status")).to_have_text("Payment overdue")
    expect(page.get_by_role("button", name="Update your card")).to_be_visible()
    invoice_row = page.get_by_test_id("invoice-row").filter(has_text="$29")
    expect(invoice_row.first).to_have_attribute("data-status", "open")
    expect(invoice_row.first.get_by_role("link")).to_have_attribute(
        "href", re.compile(rf"^{re.escape(stripe_standin)}/")
    )
    shoot("billing-past-due")
    billing.refresh_from_db()
    assert (billing.plan.code, billing.status) == ("pro", "past_due")
    assert Invoice.objects.filter(org=org, status="open").exists()
    assert not StripeEvent.objects.filter(status="failed").exists()

    # The only refusal was the audit log's (a Free org), which the browser logs as a failed request.
    assert refusals == [(402, "GET", "/api/v2/orgs/billing-org/audit-events?limit=50")]
    assert [e for e in console_errors if "status of 402" not in e] == []
    assert len(console_errors) == 1
