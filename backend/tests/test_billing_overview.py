"""What the billing page reads (`GET …/billing`), from the database alone: it answers while
Stripe is unreachable, when Checkout and the portal answer a problem and change nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings

from conftest import Actor
from taskscore.billing.models import AIUsage, Invoice
from taskscore.billing.selectors import ai_allowance
from taskscore.orgs.models import Organization
from taskscore.testing.factories import org_plan_grant
from taskscore.testing.fake_stripe import FakeStripeServer, event_payload, subscription_object
from taskscore.testing.processes import free_port
from tests.authz_cases import db_snapshot
from tests.billing_helpers import (
    DAY,
    WEBHOOK_SECRET,
    customer_link,
    deliver,
    invoice_deliver,
    subscribe,
)

pytestmark = pytest.mark.django_db

BILLING = "/api/v2/orgs/acme/billing"


@pytest.fixture(autouse=True)
def _webhooks() -> Iterator[None]:
    with override_settings(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET):
        yield


@pytest.fixture
def stripe_down() -> Iterator[None]:
    """Stripe's address refuses connections (nothing listens there)."""
    with override_settings(
        STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}", STRIPE_MAX_NETWORK_RETRIES=0
    ):
        yield


def _get(actor: Actor) -> dict[str, Any]:
    response = actor.client.get(BILLING)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def test_a_free_org_sees_its_usage_the_upgrades_and_no_paid_features(alice: Actor) -> None:
    body = _get(alice)
    assert (body["plan"]["code"], body["plan_source"], body["status"], body["entitlements"]) == (
        "free", "free", "none", []
    )  # fmt: skip
    assert (body["quota"], body["used"], body["can_checkout"], body["trial_used"]) == (
        100, 0, True, False
    )  # fmt: skip
    assert body["ai"] | {"period_start": None} == {
        "period_start": None, "calls": 0, "limit": 1000, "remaining": 1000
    }  # fmt: skip
    # the upgrades, with their features, prices and Pro's trial
    assert [
        (p["code"], p["price"], p["entitlements"], p["trial_days"]) for p in body["upgrades"]
    ] == [
        ("pro", {"amount": 2900, "currency": "usd", "per": "month"}, ["api_keys"], 14),
        ("business", {"amount": 2, "currency": "usd", "per": "task"},
         ["api_keys", "audit_log", "custom_roles"], 0),
    ]  # fmt: skip
    assert "Custom scoring models" in body["plan"]["features"]


def test_the_page_reads_the_database_only_and_answers_while_stripe_is_unreachable(
    alice: Actor, org: Organization, stripe_down: None
) -> None:
    # given an org on Pro with invoices (from Stripe's invoice events) and AI calls this period
    subscribe(org, plan="pro", status="active")
    invoice_deliver(org, invoice_id="in_1", status="paid", event_type="invoice.paid")
    invoice_deliver(
        org, invoice_id="in_2", status="open", event_type="invoice.payment_failed", amount=2900
    )
    invoice_deliver(org, invoice_id="in_2", status="void", event_type="invoice.voided")
    period = ai_allowance(org_id=org.pk).period_start
    AIUsage.objects.create(org=org, period_start=period, calls=120)
    # when the page is read while Stripe cannot be reached
    body = _get(alice)
    # then it has everything
    assert (body["plan"]["code"], body["status"], body["entitlements"]) == (
        "pro", "active", ["api_keys"]
    )  # fmt: skip
    assert (body["ai"]["calls"], body["ai"]["limit"], body["ai"]["remaining"]) == (
        120, 50000, 49880
    )  # fmt: skip
    assert body["current_period_end"] is not None
    invoices = {i["id"]: i for i in body["invoices"]}
    assert {k: (v["status"], v["amount_due"], v["amount_paid"]) for k, v in invoices.items()} == {
        "in_1": ("paid", 2900, 2900), "in_2": ("void", 2900, 0)
    }  # fmt: skip
    assert invoices["in_1"]["hosted_invoice_url"] == "https://invoice.stripe.test/in_1"
    assert [p["code"] for p in body["upgrades"]] == ["business"]
    assert body["can_checkout"] is False
    assert Invoice.objects.filter(org=org).count() == 2


@pytest.mark.parametrize(("action", "body"), [("checkout", {"plan": "pro"}), ("portal", {})])
def test_checkout_and_portal_while_stripe_is_unreachable_change_nothing(
    alice: Actor, stripe_down: None, action: str, body: dict[str, str]
) -> None:
    before = db_snapshot()
    response = alice.client.post(
        f"{BILLING}/{action}", json.dumps(body), content_type="application/json"
    )
    assert (response.status_code, response.json()["type"]) == (503, "/problems/stripe-unavailable")
    assert db_snapshot() == before


def test_a_past_due_org_is_told_its_grace_days_left(alice: Actor, org: Organization) -> None:
    # given the renewal two days and a bit ago failed (the grace is 7 days)
    subscribe(org, plan="pro", status="past_due", period_start=int(time.time()) - 2 * DAY - 60)
    body = _get(alice)
    assert (body["status"], body["plan"]["code"], body["grace_days_left"], body["can_submit"]) == (
        "past_due", "pro", 5, True
    )  # fmt: skip
    assert body["entitlements"] == ["api_keys"]


def test_past_the_grace_the_page_says_submissions_stopped(alice: Actor, org: Organization) -> None:
    start = int(time.time()) - 9 * DAY
    subscribe(org, plan="pro", status="past_due", period_start=start)
    body = _get(alice)
    assert (body["grace_days_left"], body["can_submit"], body["grace_ends_at"]) == (
        0, False, _iso(start + 7 * DAY)
    )  # fmt: skip
    assert "overdue" in body["restriction"]


def test_cancel_at_period_end_and_the_period_end_are_shown(alice: Actor, org: Organization) -> None:
    start = int(time.time()) - DAY
    sub = subscribe(org, plan="business", status="active", period_start=start)
    # (the same subscription set to cancel at the period's end, a later event)
    obj = subscription_object(
        subscription_id=sub, customer=customer_link(org), price="price_taskscore_business",
        status="active", created=start, period_start=start, period_end=start + 30 * DAY,
        cancel_at_period_end=True,
    )  # fmt: skip
    deliver(event_payload(event_id="evt_cancel_later", type="customer.subscription.updated",
                          created=int(time.time()) + 1, obj=obj))  # fmt: skip
    body = _get(alice)
    assert (body["plan"]["code"], body["cancel_at_period_end"], body["current_period_end"]) == (
        "business", True, _iso(start + 30 * DAY)
    )  # fmt: skip
    assert (body["quota"], body["upgrades"]) == (None, [])


def test_a_granted_plan_is_in_force_and_checkout_stays_open(
    alice: Actor, org: Organization
) -> None:
    org_plan_grant(org, "pro")
    body = _get(alice)
    assert (body["plan"]["code"], body["plan_source"], body["granted_plan"]["code"]) == (
        "pro", "grant", "pro"
    )  # fmt: skip
    assert (body["status"], body["can_checkout"], body["entitlements"]) == (
        "none", True, ["api_keys"]
    )  # fmt: skip
    assert [p["code"] for p in body["upgrades"]] == ["business"]


def test_reading_the_billing_page_writes_nothing(alice: Actor) -> None:
    before = db_snapshot()
    assert Client().get(BILLING).status_code == 401
    _get(alice)
    assert db_snapshot() == before


def test_checkout_of_business_and_the_portal_answer_stripes_urls(
    alice: Actor,
) -> None:
    with FakeStripeServer() as fake, override_settings(STRIPE_API_BASE=fake.url):
        checkout = alice.client.post(
            f"{BILLING}/checkout", json.dumps({"plan": "business"}), content_type="application/json"
        )
        portal = alice.client.post(f"{BILLING}/portal", "{}", content_type="application/json")
    assert checkout.json()["url"].startswith("https://checkout.stripe.test/")
    assert portal.json()["url"].startswith("https://billing.stripe.test/")
