"""The billing endpoints: who may read and manage, Checkout and portal through the Stripe
client against a fake Stripe at the HTTP boundary, and quota under concurrency."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings

from conftest import Actor
from taskscore.billing.errors import PlanQuotaExceeded
from taskscore.billing.models import OrgBilling, UsageRecord
from taskscore.billing.selectors import billing_entitlement
from taskscore.billing.services import billing_account_get_or_create, plans_seed, usage_reserve
from taskscore.orgs.models import Organization
from taskscore.testing.fake_stripe import FakeStripeServer
from tests.authz_cases import db_snapshot


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripeServer]:
    with (
        FakeStripeServer() as server,
        override_settings(
            STRIPE_API_BASE=server.url, STRIPE_MAX_NETWORK_RETRIES=0, STRIPE_TIMEOUT_SECONDS=5.0
        ),
    ):
        plans_seed()
        yield server


def _post(client: Client, url: str, body: Any = None, **headers: str) -> Any:
    return client.post(
        url, json.dumps(body or {}), content_type="application/json", headers=headers
    )


# ------------------------------------------------------------------------- permissions


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"), [("alice", 200), ("bob", 200), ("carol", 200), ("mallory", 404)]
)
def test_billing_read_is_for_every_role_of_the_org(
    request: pytest.FixtureRequest, who: str, status: int
) -> None:
    actor: Actor = request.getfixturevalue(who)
    request.getfixturevalue("org")
    response = actor.client.get("/api/v2/orgs/acme/billing")
    assert response.status_code == status, response.content
    if status == 200:
        body = response.json()
        assert (body["plan"]["code"], body["status"], body["quota"], body["used"]) == (
            "free", "none", 100, 0
        )  # fmt: skip
        assert body["can_submit"] is True
        assert [p["code"] for p in body["plans"]] == ["free", "pro", "business"]


@pytest.mark.django_db
def test_billing_read_needs_credentials(org: Organization) -> None:
    assert Client().get("/api/v2/orgs/acme/billing").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["bob", "carol", "mallory"])
@pytest.mark.parametrize("action", ["checkout", "portal"])
def test_only_owners_manage_billing_and_a_denial_calls_no_stripe(
    request: pytest.FixtureRequest, fake_stripe: FakeStripeServer, who: str, action: str
) -> None:
    actor: Actor = request.getfixturevalue(who)
    request.getfixturevalue("org")
    response = _post(actor.client, f"/api/v2/orgs/acme/billing/{action}", {"plan": "pro"})
    assert response.status_code == (404 if who == "mallory" else 403)
    assert fake_stripe.requests == []
    assert not OrgBilling.objects.exclude(stripe_customer_id=None).exists()


# ------------------------------------------------------------------------- checkout, portal


@pytest.mark.django_db
def test_checkout_creates_the_customer_once_and_a_double_click_gets_one_session(
    alice: Actor, fake_stripe: FakeStripeServer, org: Organization
) -> None:
    first = _post(alice.client, "/api/v2/orgs/acme/billing/checkout", {"plan": "pro"})
    second = _post(alice.client, "/api/v2/orgs/acme/billing/checkout", {"plan": "pro"})
    assert first.status_code == 200, first.content
    assert first.json()["url"].startswith("https://checkout.stripe.test/")
    # the second click sends the same Idempotency-Key, so Stripe answers with the same session
    assert second.json()["url"] == first.json()["url"]
    paths = [r.path for r in fake_stripe.requests]
    assert paths == ["/v1/customers", "/v1/checkout/sessions", "/v1/checkout/sessions"]
    customer_call, session_call = fake_stripe.requests[0], fake_stripe.requests[1]
    assert (
        session_call.headers["idempotency-key"]
        == fake_stripe.requests[2].headers["idempotency-key"]
    )
    assert customer_call.headers["idempotency-key"] == f"taskscore-org-{org.pk}-customer"
    assert all(r.headers.get("idempotency-key") for r in fake_stripe.requests)
    assert all(r.headers["stripe-version"] == "2026-10-28.endive" for r in fake_stripe.requests)
    assert session_call.params["mode"] == "subscription"
    assert session_call.params["line_items[0][price]"] == "price_taskscore_pro"
    assert session_call.params["client_reference_id"] == str(org.pk)
    billing = OrgBilling.objects.get(org=org)
    assert billing.stripe_customer_id is not None
    assert billing.stripe_customer_id.startswith("cus_")


@pytest.mark.django_db
def test_a_client_idempotency_key_returns_the_same_session(
    alice: Actor, fake_stripe: FakeStripeServer
) -> None:
    urls = {
        _post(
            alice.client, "/api/v2/orgs/acme/billing/checkout", {"plan": "pro"},
            **{"Idempotency-Key": "click-1"},
        ).json()["url"]
        for _ in range(2)
    }  # fmt: skip
    assert len(urls) == 1


@pytest.mark.django_db
def test_checkout_of_the_free_plan_or_an_unknown_plan_is_refused(
    alice: Actor, fake_stripe: FakeStripeServer
) -> None:
    free = _post(alice.client, "/api/v2/orgs/acme/billing/checkout", {"plan": "free"})
    unknown = _post(alice.client, "/api/v2/orgs/acme/billing/checkout", {"plan": "gold"})
    assert (free.status_code, unknown.status_code) == (422, 404)
    assert fake_stripe.requests == []


@pytest.mark.django_db
def test_checkout_with_a_live_subscription_is_a_conflict(
    alice: Actor, fake_stripe: FakeStripeServer, org: Organization
) -> None:
    billing = billing_account_get_or_create(org_id=org.pk)
    billing.status = "active"
    billing.save()
    response = _post(alice.client, "/api/v2/orgs/acme/billing/checkout", {"plan": "pro"})
    assert response.status_code == 409


@pytest.mark.django_db
def test_portal_returns_a_url_for_the_same_customer(
    alice: Actor, fake_stripe: FakeStripeServer
) -> None:
    _post(alice.client, "/api/v2/orgs/acme/billing/checkout", {"plan": "pro"})
    response = _post(alice.client, "/api/v2/orgs/acme/billing/portal")
    assert response.status_code == 200
    assert response.json()["url"].startswith("https://billing.stripe.test/")
    portal = fake_stripe.requests[-1]
    assert portal.path == "/v1/billing_portal/sessions"
    assert portal.params["customer"] == OrgBilling.objects.get().stripe_customer_id
    assert portal.params["return_url"].endswith("/orgs/acme/billing")


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "expected"), [(503, 503), (400, 502)])
def test_stripe_failures_are_problem_json_and_change_nothing(
    alice: Actor, fake_stripe: FakeStripeServer, status: int, expected: int
) -> None:
    before = db_snapshot()
    fake_stripe.fail_next(status)
    response = _post(alice.client, "/api/v2/orgs/acme/billing/checkout", {"plan": "pro"})
    assert response.status_code == expected
    assert response["content-type"] == "application/problem+json"
    # not even the org's billing row is created: nothing changed
    assert db_snapshot() == before
    assert not OrgBilling.objects.exists()


@pytest.mark.django_db
def test_the_meter_outbox_is_sent_once_with_its_identifier(
    fake_stripe: FakeStripeServer, org: Organization
) -> None:
    from taskscore.billing.services import meter_outbox_flush

    billing = billing_account_get_or_create(org_id=org.pk)
    billing.plan = billing.plan.__class__.objects.get(code="business")
    billing.status, billing.stripe_customer_id = "active", "cus_meter"
    billing.save()
    task_id = uuid.uuid4()
    usage_reserve(org_id=org.pk, task_id=task_id)
    fake_stripe.fail_next(503)
    assert meter_outbox_flush() == 0
    assert meter_outbox_flush() == 1
    assert meter_outbox_flush() == 0
    sent = [r for r in fake_stripe.requests if r.path == "/v1/billing/meter_events"]
    assert [r.params["identifier"] for r in sent] == [f"task-{task_id}"] * 2
    assert sent[-1].params["payload[stripe_customer_id]"] == "cus_meter"


# ------------------------------------------------------------------------- quota under load


@pytest.mark.django_db(transaction=True)
def test_at_the_limit_concurrent_reservations_pass_exactly_the_remaining_number(
    org: Organization,
) -> None:
    plans_seed()
    period = billing_entitlement(org_id=org.pk).period_start
    UsageRecord.objects.bulk_create(
        [UsageRecord(org=org, task_id=uuid.uuid4(), period_start=period) for _ in range(97)]
    )
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def submit() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                usage_reserve(org_id=org.pk, task_id=uuid.uuid4())
                outcomes.append("ok")
        except PlanQuotaExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 9
    assert UsageRecord.objects.filter(org=org).count() == 100
