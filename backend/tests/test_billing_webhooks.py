"""POST /api/webhooks/stripe: signatures, storage once, application once and in order."""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings

from taskscore.audit.models import AuditEvent
from taskscore.billing.models import Invoice, OrgBilling, StripeEvent, Subscription
from taskscore.billing.services import billing_account_get_or_create, plans_seed
from taskscore.orgs.models import Organization
from taskscore.testing.fake_stripe import (
    event_payload,
    sign_header,
    subscription_lifecycle,
    subscription_object,
)

SECRET = "whsec_test_secret"
URL = "/api/webhooks/stripe"
PRO, BUSINESS = "price_test_pro", "price_test_business"


@pytest.fixture(autouse=True)
def _stripe_settings() -> Any:
    with override_settings(
        STRIPE_WEBHOOK_SECRET=SECRET, STRIPE_PRICE_PRO=PRO, STRIPE_PRICE_BUSINESS=BUSINESS
    ):
        yield


@pytest.fixture
def plans(db: None) -> None:
    plans_seed()  # transaction=True tests flush the seeded rows


@pytest.fixture
def customer(org: Organization, plans: None) -> str:
    billing = billing_account_get_or_create(org_id=org.pk)
    billing.stripe_customer_id = "cus_acme"
    billing.save()
    return "cus_acme"


def deliver(
    event: dict[str, Any],
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    body: bytes | None = None,
    client: Client | None = None,
) -> Any:
    raw = body if body is not None else json.dumps(event).encode()
    header = sign_header(raw, secret, timestamp=timestamp)
    return (client or Client()).generic(
        "POST", URL, raw, content_type="application/json", headers={"Stripe-Signature": header}
    )


def lifecycle(org: Organization) -> list[dict[str, Any]]:
    return subscription_lifecycle(
        org_id=org.pk, customer="cus_acme", prefix="acme", start=1_800_000_000,
        pro_price=PRO, business_price=BUSINESS,
    )  # fmt: skip


def snapshot(org: Organization) -> dict[str, Any]:
    """The billing state, without bookkeeping (timestamps of our own, audit rows)."""
    billing = OrgBilling.objects.get(org=org)
    return {
        "billing": (
            billing.plan.code, billing.status, billing.stripe_customer_id,
            billing.stripe_subscription_id, billing.current_period_start,
            billing.current_period_end, billing.cancel_at_period_end, billing.past_due_since,
        ),
        "subscriptions": sorted(
            Subscription.objects.filter(org=org).values_list(
                "stripe_subscription_id", "status", "plan__code", "cancel_at_period_end",
                "current_period_start", "current_period_end", "state_created",
            )
        ),
        "invoices": sorted(
            Invoice.objects.filter(org=org).values_list(
                "stripe_invoice_id", "status", "amount_paid", "state_created"
            )
        ),
        "events": sorted(StripeEvent.objects.values_list("event_id", "org_id")),
    }  # fmt: skip


def reset_billing(org: Organization) -> None:
    StripeEvent.objects.all().delete()
    Subscription.objects.all().delete()
    Invoice.objects.all().delete()
    OrgBilling.objects.filter(org=org).update(
        plan=OrgBilling.objects.get(org=org).plan.__class__.objects.get(code="free"),
        status="none", stripe_subscription_id="", current_period_start=None,
        current_period_end=None, cancel_at_period_end=False, past_due_since=None,
    )  # fmt: skip


# ------------------------------------------------------------------------- verification


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case", ["wrong-secret", "tampered", "stale", "unsigned", "garbage-header", "malformed-json"]
)
def test_a_delivery_that_is_not_genuine_is_a_400_and_stores_nothing(
    customer: str, org: Organization, case: str
) -> None:
    event = lifecycle(org)[2]
    raw = json.dumps(event).encode()
    client = Client()
    if case == "wrong-secret":
        response = deliver(event, secret="whsec_someone_else")
    elif case == "tampered":
        header = sign_header(raw, SECRET)
        forged = raw.replace(b'"active"', b'"trialing"')
        response = client.generic("POST", URL, forged, headers={"Stripe-Signature": header})
    elif case == "stale":
        response = deliver(event, timestamp=int(time.time()) - 301)
    elif case == "unsigned":
        response = client.generic("POST", URL, raw, content_type="application/json")
    elif case == "garbage-header":
        response = client.generic("POST", URL, raw, headers={"Stripe-Signature": "t=1,v1=abc"})
    else:
        response = deliver(event, body=b'{"id": "evt_1", "type": ')
    assert response.status_code == 400
    assert response["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/invalid-webhook"
    assert not StripeEvent.objects.exists()
    assert OrgBilling.objects.get(org=org).status == "none"


@pytest.mark.django_db
def test_a_signed_body_that_is_json_but_not_an_event_is_a_400(customer: str) -> None:
    response = deliver({}, body=b"[1, 2]")
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_get_is_not_allowed(customer: str) -> None:
    assert Client().get(URL).status_code == 405


# ------------------------------------------------------------------------- application


@pytest.mark.django_db
def test_the_lifecycle_in_order_ends_on_business_and_audits_changes(
    customer: str, org: Organization
) -> None:
    for event in lifecycle(org):
        response = deliver(event)
        assert response.status_code == 200, response.content
    billing = OrgBilling.objects.get(org=org)
    assert (billing.plan.code, billing.status, billing.cancel_at_period_end) == (
        "business", "active", True
    )  # fmt: skip
    assert billing.stripe_subscription_id == "sub_acme_2"
    assert dict(Invoice.objects.values_list("stripe_invoice_id", "status")) == {
        "in_acme_1": "paid", "in_acme_2": "paid", "in_acme_3": "paid"
    }  # fmt: skip
    statuses = dict(StripeEvent.objects.values_list("type", "status"))
    assert statuses["customer.tax_id.created"] == "ignored"
    changes = AuditEvent.objects.filter(org=org, action="billing.subscription_changed")
    transitions = [(a.before or {}, a.after or {}) for a in changes.order_by("id")]
    assert [(before["status"], after["status"]) for before, after in transitions] == [
        ("none", "incomplete"), ("incomplete", "active"), ("active", "past_due"),
        ("past_due", "active"), ("active", "canceled"), ("canceled", "active"),
    ]  # fmt: skip
    assert {a.actor_label for a in changes} == {"stripe"}


@pytest.mark.django_db
def test_past_due_since_is_the_failed_renewal(customer: str, org: Organization) -> None:
    events = lifecycle(org)
    for event in events[:7]:
        deliver(event)
    billing = OrgBilling.objects.get(org=org)
    assert billing.status == "past_due"
    assert billing.past_due_since is not None
    assert int(billing.past_due_since.timestamp()) == 1_800_000_100


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_shuffled_repeated_deliveries_end_in_the_in_order_state(
    customer: str, org: Organization, seed: int
) -> None:
    events = lifecycle(org)
    for event in events:
        deliver(event)
    expected = snapshot(org)
    reset_billing(org)

    rng = random.Random(seed)
    deliveries = [e for e in events for _ in range(rng.randint(2, 3))]
    rng.shuffle(deliveries)
    for event in deliveries:
        assert deliver(event).status_code == 200
    assert snapshot(org) == expected
    assert StripeEvent.objects.filter(attempts__gt=1).count() == 0


@pytest.mark.django_db
def test_an_older_event_never_overwrites_newer_state(customer: str, org: Organization) -> None:
    events = lifecycle(org)
    deliver(events[8])  # active after the renewal (renewal + 3)
    response = deliver(events[6])  # past_due at the renewal: older
    assert response.json() == {"id": events[6]["id"], "status": "ignored", "reason": "stale"}
    assert OrgBilling.objects.get(org=org).status == "active"


@pytest.mark.django_db
def test_a_duplicate_is_acknowledged_and_not_applied_again(
    customer: str, org: Organization
) -> None:
    event = lifecycle(org)[2]
    assert deliver(event).json()["status"] == "applied"
    assert deliver(event).json()["status"] == "applied"
    row = StripeEvent.objects.get()
    assert row.attempts == 1
    assert AuditEvent.objects.filter(action="billing.subscription_changed").count() == 1


@pytest.mark.django_db
def test_an_unknown_customer_is_stored_ignored_with_the_reason(plans: None) -> None:
    obj = subscription_object(
        subscription_id="sub_x", customer="cus_nobody", price=PRO, status="active",
        created=1_800_000_000, period_start=1_800_000_000, period_end=1_802_592_000,
    )  # fmt: skip
    event = event_payload(
        event_id="evt_x", type="customer.subscription.updated", created=1_800_000_001, obj=obj
    )
    response = deliver(event)
    assert response.status_code == 200
    row = StripeEvent.objects.get()
    assert (row.status, row.reason, row.org_id) == (
        "ignored", "unknown customer cus_nobody", None
    )  # fmt: skip
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_an_unknown_customer_with_our_org_in_the_metadata_is_not_linked(
    plans: None, org: Organization
) -> None:
    # (the metadata never names the org: tests/test_security.py, finding 2)
    event = lifecycle(org)[2]  # its subscription carries metadata.org_id
    event["data"]["object"]["customer"] = "cus_new"
    assert deliver(event).json() == {
        "id": event["id"], "status": "ignored", "reason": "unknown customer cus_new"
    }  # fmt: skip
    assert not OrgBilling.objects.filter(org=org).exclude(stripe_customer_id=None).exists()
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_an_unknown_price_fails_with_500_and_is_applied_once_the_plan_exists(
    customer: str, org: Organization
) -> None:
    event = lifecycle(org)[2]
    event["data"]["object"]["items"]["data"][0]["price"]["id"] = "price_new"
    response = deliver(event)
    assert response.status_code == 500
    row = StripeEvent.objects.get()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "price_new" in row.last_error

    from taskscore.billing.models import Plan

    Plan.objects.filter(code="pro").update(stripe_price_id="price_new")
    assert deliver(event).status_code == 200  # Stripe's retry
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("applied", 2, "")
    assert OrgBilling.objects.get(org=org).plan.code == "pro"


@pytest.mark.django_db
def test_the_retry_job_applies_events_left_received(customer: str, org: Organization) -> None:
    from taskscore.billing.events import stripe_event_record
    from taskscore.billing.reconcile import stripe_events_retry

    event = lifecycle(org)[2]
    stripe_event_record(event=event)  # a crash right after storing
    assert stripe_events_retry(older_than_seconds=0) == 1
    assert StripeEvent.objects.get().status == "applied"
    assert OrgBilling.objects.get(org=org).status == "active"


@pytest.mark.django_db
def test_webhooks_are_refused_with_500_when_no_secret_is_configured(customer: str) -> None:
    with override_settings(STRIPE_WEBHOOK_SECRET=""):
        response = deliver({"id": "evt_1"})
    assert response.status_code == 500
    assert not StripeEvent.objects.exists()


# ------------------------------------------------------------------------- concurrency


def _in_threads(jobs: list[Any]) -> list[Any]:
    results: list[Any] = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = jobs[i]()
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion on results
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_pairs_apply_each_event_once(customer: str, org: Organization) -> None:
    events = lifecycle(org)
    for event in events:
        deliver(event)
    expected = snapshot(org)
    reset_billing(org)
    AuditEvent.objects.all().delete()

    rng = random.Random(7)
    order = events[:]
    rng.shuffle(order)
    for start in range(0, len(order), 4):
        batch = order[start : start + 4]
        jobs = [lambda e=e: deliver(e).status_code for e in batch for _ in range(2)]
        assert _in_threads(jobs) == [200] * len(jobs)
    assert snapshot(org) == expected
    assert set(StripeEvent.objects.values_list("attempts", flat=True)) == {1}
