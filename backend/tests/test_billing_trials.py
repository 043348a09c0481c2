"""Trials: Checkout of Pro starts with STRIPE_TRIAL_DAYS free days, once per org; `trialing`
grants the plan; the billing summary says when the trial ends. And a Checkout session this app
created ties its completion to its own org."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from conftest import Actor
from taskscore.billing.models import CheckoutSession, OrgBilling
from taskscore.billing.selectors import trial_used
from taskscore.orgs.models import Organization
from taskscore.testing.factories import OrganizationFactory
from taskscore.testing.fake_stripe import FakeStripeServer, event_payload
from tests.billing_helpers import DAY, WEBHOOK_SECRET, customer_link, deliver, subscribe

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v2/orgs/acme/billing/checkout"


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripeServer]:
    with (
        FakeStripeServer() as server,
        override_settings(
            STRIPE_API_BASE=server.url,
            STRIPE_MAX_NETWORK_RETRIES=0,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        ),
    ):
        yield server


def _checkout(actor: Actor, plan: str, key: str = "") -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return actor.client.post(
        CHECKOUT, json.dumps({"plan": plan}), content_type="application/json", headers=headers
    )


def _session_params(fake: FakeStripeServer) -> dict[str, str]:
    [request] = [r for r in fake.requests if r.path == "/v1/checkout/sessions"][-1:]
    return request.params


def _completed(session_id: str, *, customer: str, org_ref: str) -> dict[str, Any]:
    obj = {
        "id": session_id, "object": "checkout.session", "mode": "subscription",
        "customer": customer, "subscription": f"sub_of_{session_id}",
        "client_reference_id": org_ref, "metadata": {"org_id": org_ref, "plan": "pro"},
    }  # fmt: skip
    return event_payload(
        event_id=f"evt_{session_id}", type="checkout.session.completed",
        created=int(time.time()), obj=obj,
    )  # fmt: skip


def test_the_first_checkout_of_pro_starts_a_trial_of_the_configured_days(
    alice: Actor, org: Organization, stripe_fake: FakeStripeServer
) -> None:
    # when alice starts Checkout of Pro
    response = _checkout(alice, "pro")
    # then Stripe is asked for a subscription that starts with 14 free days
    assert response.status_code == 200, response.content
    params = _session_params(stripe_fake)
    assert params["subscription_data[trial_period_days]"] == "14"
    assert (params["client_reference_id"], params["subscription_data[metadata][plan]"]) == (
        str(org.pk), "pro"
    )  # fmt: skip
    # and the session is recorded for acme, with its trial
    session = CheckoutSession.objects.get()
    assert (session.org_id, session.plan.code, session.trial_days, session.completed_at) == (
        org.pk, "pro", 14, None
    )  # fmt: skip


@pytest.mark.parametrize(("setting", "plan"), [(14, "business"), (0, "pro")])
def test_no_trial_for_a_plan_without_one_or_when_trials_are_off(
    alice: Actor, stripe_fake: FakeStripeServer, setting: int, plan: str
) -> None:
    with override_settings(STRIPE_TRIAL_DAYS=setting):
        assert _checkout(alice, plan).status_code == 200
    assert not any(k.startswith("subscription_data[trial") for k in _session_params(stripe_fake))
    assert CheckoutSession.objects.get().trial_days == 0


def test_trialing_grants_the_plan_and_the_summary_says_when_the_trial_ends(
    alice: Actor, org: Organization, stripe_fake: FakeStripeServer
) -> None:
    # given the trial subscription Checkout started
    trial_end = int(time.time()) + 14 * DAY
    subscribe(org, plan="pro", status="trialing", trial_end=trial_end)
    # when alice reads the billing summary
    body = alice.client.get("/api/v2/orgs/acme/billing").json()
    # then the org is on Pro, with its features, until the trial's end
    assert (body["plan"]["code"], body["plan_source"], body["status"]) == (
        "pro", "subscription", "trialing"
    )  # fmt: skip
    assert body["entitlements"] == ["api_keys"]
    assert body["trial_end"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(trial_end))
    assert (body["trial_used"], body["quota"], body["can_checkout"]) == (True, 5000, False)
    # and no plan offers it another trial
    assert [(p["code"], p["trial_days"]) for p in body["plans"]] == [
        ("free", 0), ("pro", 0), ("business", 0)
    ]  # fmt: skip
    assert [p["code"] for p in body["upgrades"]] == ["business"]


def test_after_the_trial_a_second_checkout_has_no_trial(
    alice: Actor, org: Organization, stripe_fake: FakeStripeServer
) -> None:
    # given a trial that ended with the subscription canceled
    trial_end = int(time.time()) + DAY
    trial = subscribe(org, plan="pro", status="trialing", trial_end=trial_end)
    subscribe(
        org, plan="pro", status="canceled", subscription_id=trial, deleted=True,
        trial_end=trial_end,
    )  # fmt: skip
    summary = alice.client.get("/api/v2/orgs/acme/billing").json()
    assert (summary["plan"]["code"], summary["trial_end"], summary["trial_used"]) == (
        "free", None, True
    )  # fmt: skip
    # when alice starts Checkout of Pro again
    assert _checkout(alice, "pro").status_code == 200
    # then it has no trial
    assert "subscription_data[trial_period_days]" not in _session_params(stripe_fake)
    assert CheckoutSession.objects.get().trial_days == 0


def test_a_completed_trial_checkout_uses_the_trial_before_the_subscription_arrives(
    alice: Actor, org: Organization, stripe_fake: FakeStripeServer
) -> None:
    # given a trial Checkout alice completed, its subscription's events not arrived yet
    assert _checkout(alice, "pro", key="first").status_code == 200
    session = CheckoutSession.objects.get()
    customer = OrgBilling.objects.get(org=org).stripe_customer_id
    assert customer is not None
    deliver(_completed(session.stripe_session_id, customer=customer, org_ref=str(org.pk)))
    session.refresh_from_db()
    assert session.completed_at is not None
    assert session.stripe_subscription_id == f"sub_of_{session.stripe_session_id}"
    # when she starts another Checkout
    assert _checkout(alice, "pro", key="second").status_code == 200
    # then it has no trial
    assert "subscription_data[trial_period_days]" not in _session_params(stripe_fake)


def test_a_recorded_session_names_its_org_whatever_the_event_metadata_says(
    alice: Actor, org: Organization, stripe_fake: FakeStripeServer
) -> None:
    # given a session alice's Checkout created for acme, and another org with no customer
    other = OrganizationFactory.create(name="Globex", slug="globex")
    assert _checkout(alice, "pro").status_code == 200
    session = CheckoutSession.objects.get()
    acme_customer = OrgBilling.objects.get(org=org).stripe_customer_id
    assert acme_customer is not None
    # when its completion arrives with metadata naming the other org
    completed = _completed(session.stripe_session_id, customer="cus_else", org_ref=str(other.pk))
    response = deliver(completed)
    # then nothing is linked to the other org: the session belongs to acme, whose customer
    # the event does not carry, so it is ignored
    assert response.json()["status"] == "ignored"
    assert not OrgBilling.objects.filter(org=other).exclude(stripe_customer_id=None).exists()
    assert OrgBilling.objects.get(org=org).stripe_customer_id == acme_customer
    assert CheckoutSession.objects.get().completed_at is None


def test_a_trialing_subscription_is_stored_with_its_trial(org: Organization) -> None:
    with override_settings(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET):
        customer_link(org)
        end = int(time.time()) + 3 * DAY
        subscribe(org, plan="pro", status="trialing", trial_end=end)
    billing = OrgBilling.objects.get(org=org)
    assert (billing.status, billing.plan.code) == ("trialing", "pro")
    assert billing.trial_end is not None
    assert int(billing.trial_end.timestamp()) == end


def test_an_event_without_the_trial_fields_keeps_the_trial_known(org: Organization) -> None:
    # (older API shapes, and localstripe's, leave the fields out)
    with override_settings(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET):
        end = int(time.time()) + DAY
        trial = subscribe(org, plan="pro", status="trialing", trial_end=end)
        subscribe(org, plan="pro", status="canceled", subscription_id=trial, deleted=True)
    billing = OrgBilling.objects.get(org=org)
    assert (billing.status, billing.plan.code) == ("canceled", "free")
    assert billing.trial_end is not None
    assert int(billing.trial_end.timestamp()) == end
    assert trial_used(org_id=org.pk)
