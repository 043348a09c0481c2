"""The app against the offline Stripe stand-in, with no offline branch: Checkout and the portal
started by the app's own services, the stand-in's pages submitted as a browser would, its signed
webhooks delivered to the app served by gunicorn, the org's billing read from the database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from django.test import override_settings

from conftest import test_process_env
from taskscore.audit.services import Actor
from taskscore.billing.models import Invoice, MeterOutbox, OrgBilling, StripeEvent
from taskscore.billing.services import (
    billing_checkout_start,
    billing_portal_start,
    meter_outbox_flush,
    plans_seed,
)
from taskscore.orgs.models import Organization
from taskscore.testing.processes import free_port, start_gunicorn, start_stripe_standin
from taskscore.testing.stripe_standin.driver import StandinBrowser

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SECRET = "whsec_standin_app"
ALICE = Actor(label="alice")


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[str]:
    """The stand-in, its webhook endpoint the app under gunicorn; this process's settings point
    the app's Stripe client at it (STRIPE_API_BASE, as `make run` does)."""
    api_port, standin_port = free_port(), free_port()
    standin_url = f"http://127.0.0.1:{standin_port}"
    env = test_process_env() | {"STRIPE_API_BASE": standin_url, "STRIPE_WEBHOOK_SECRET": SECRET}
    api = start_gunicorn(env, port=api_port, log_dir=tmp_path / "gunicorn")
    stripe_standin = start_stripe_standin(
        port=standin_port, log_dir=tmp_path, webhook_secret=SECRET,
        webhook_url=f"http://127.0.0.1:{api_port}/api/webhooks/stripe",
    )  # fmt: skip
    try:
        with override_settings(STRIPE_API_BASE=standin_url, STRIPE_WEBHOOK_SECRET=SECRET):
            plans_seed()
            yield standin_url
    finally:
        stripe_standin.stop()
        api.stop()


def billing_of(org: Organization) -> OrgBilling:
    return OrgBilling.objects.select_related("plan").get(org=org)


def wait(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def state(org: Organization) -> tuple[str, str]:
    billing = billing_of(org)
    return billing.plan.code, billing.status


def test_upgrade_with_a_trial_then_manage_it_in_the_portal(org, standin):
    browser = StandinBrowser()
    # Given a Free org that starts Checkout from the app (Pro offers a trial)
    url = billing_checkout_start(org_id=org.pk, plan_code="pro", actor=ALICE)
    assert url.startswith(f"{standin}/checkout/cs_test_")
    assert "14-day free trial" in browser.get(url).text

    # When the card is declined, nothing changes
    assert browser.checkout(url, card="4000 0000 0000 0002").outcome == "declined"
    time.sleep(0.5)
    assert state(org) == ("free", "none")
    assert not StripeEvent.objects.exclude(type="customer.created").exists()

    # When a good card is used, the app hears of it before the browser comes back
    result = browser.checkout(url)
    assert result.status == 303
    assert result.location == f"http://127.0.0.1:3000/orgs/{org.slug}/billing?checkout=success"
    wait(lambda: state(org) == ("pro", "trialing"))
    billing = billing_of(org)
    assert billing.trial_end is not None
    assert billing.current_period_end == billing.trial_end

    # The portal: the trial ends and the card pays the first invoice
    portal = billing_portal_start(org_id=org.pk, actor=ALICE)
    assert portal.startswith(f"{standin}/portal/bps_")
    assert browser.portal(portal, "renew").status == 303
    wait(lambda: state(org) == ("pro", "active"))
    wait(lambda: billing_of(org).plan.code == "pro" and _invoices(org) == ["paid"])

    # A failed payment: past due (access continues for the grace days), then paid
    assert browser.portal(portal, "fail").status == 303
    wait(lambda: state(org) == ("pro", "past_due"))
    assert billing_of(org).past_due_since == billing_of(org).current_period_start
    assert browser.portal(portal, "pay", with_="card_on_file").status == 303
    wait(lambda: state(org) == ("pro", "active"))

    # Switch to Business, cancel at the period end, and the period ends
    assert browser.portal(portal, "switch", price="price_taskscore_business").status == 303
    wait(lambda: state(org) == ("business", "active"))
    assert browser.portal(portal, "cancel").status == 303
    wait(lambda: billing_of(org).cancel_at_period_end)
    assert browser.portal(portal, "renew").status == 303
    wait(lambda: state(org) == ("free", "canceled"))

    assert not StripeEvent.objects.filter(status="failed").exists()
    applied = set(StripeEvent.objects.filter(status="applied").values_list("type", flat=True))
    assert applied >= {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
    }


def _invoices(org: Organization) -> list[str]:
    return list(
        Invoice.objects.filter(org=org).order_by("created").values_list("status", flat=True)
    )


def test_no_trial_a_card_that_fails_later_and_metered_usage(org, standin):
    browser = StandinBrowser()
    with override_settings(STRIPE_TRIAL_DAYS=0):
        url = billing_checkout_start(org_id=org.pk, plan_code="business", actor=ALICE)
    assert browser.checkout(url, card="4000 0000 0000 0341").status == 303
    wait(lambda: state(org) == ("business", "active"))

    # Usage of the metered plan reaches the stand-in's meter, once per task
    for n in range(3):
        MeterOutbox.objects.create(org_id=org.pk, identifier=f"task-{org.pk}-{n}", quantity=1)
    assert meter_outbox_flush() == 3
    MeterOutbox.objects.filter(org_id=org.pk).update(sent_at=None)  # a flush that runs twice
    assert meter_outbox_flush() == 3
    customer = billing_of(org).stripe_customer_id
    reported = requests.get(
        f"{standin}/_standin/meter_events", params={"customer": customer}, timeout=5
    ).json()["data"]
    assert len(reported) == 3

    # The next period bills them (3 tasks × 2 cents) and the card fails: past due
    portal = billing_portal_start(org_id=org.pk, actor=ALICE)
    assert "3 tasks" in browser.get(portal).text
    assert browser.portal(portal, "renew").status == 303
    wait(lambda: state(org) == ("business", "past_due"))
    wait(lambda: _invoices(org)[-1:] == ["open"])
