"""The subscription lifecycle against a real localstripe server on loopback, its signed
webhooks delivered over HTTP to the app served by gunicorn."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe
from django.test import override_settings

from conftest import test_process_env
from taskscore.audit.services import Actor
from taskscore.billing.models import OrgBilling, StripeEvent
from taskscore.billing.reconcile import billing_reconcile
from taskscore.billing.services import billing_customer_ensure, plans_seed
from taskscore.orgs.models import Organization
from taskscore.testing.processes import Process, free_port, spawn, start_gunicorn

SECRET = "whsec_localstripe_test"
PRO = "price_ls_pro"
# The store is kept in memory only: localstripe otherwise writes a shared /tmp/localstripe.pickle.
LAUNCH = (
    "import sys, aiohttp.web\n"
    "from localstripe import resources, server\n"
    "resources.store.dump_to_disk = lambda *a, **k: None\n"
    "aiohttp.web.run_app(server.app, host='127.0.0.1', port=int(sys.argv[1]))\n"
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def localstripe(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process: Process = spawn(
        "localstripe", [sys.executable, "-c", LAUNCH, str(port)],
        env=dict(os.environ), log_dir=tmp_path,
    )  # fmt: skip
    process.wait_for_port(port, timeout=20)
    yield f"http://127.0.0.1:{port}"
    process.stop()


@pytest.fixture
def app_url(localstripe: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = test_process_env() | {
        "STRIPE_API_BASE": localstripe,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_PRICE_PRO": PRO,
    }
    server = start_gunicorn(env, port=port, log_dir=tmp_path / "gunicorn")
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _wait(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_subscribe_then_cancel_through_real_signed_webhooks(
    org: Organization, localstripe: str, app_url: str
) -> None:
    with override_settings(STRIPE_API_BASE=localstripe, STRIPE_PRICE_PRO=PRO):
        plans_seed()
        sdk = stripe.StripeClient("sk_test_local", base_addresses={"api": localstripe})
        sdk.v1.plans.create(
            params={"id": PRO, "amount": 2900, "currency": "usd", "interval": "month",
                    "product": {"name": "Pro"}},
        )  # fmt: skip
        import requests

        requests.post(
            f"{localstripe}/_config/webhooks/taskscore",
            data={"url": f"{app_url}/api/webhooks/stripe", "secret": SECRET},
            timeout=5,
        ).raise_for_status()

        customer = billing_customer_ensure(org_id=org.pk, actor=Actor(label="alice"))
        card = sdk.v1.payment_methods.create(
            params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12,
                    "exp_year": 2040, "cvc": "123"}},
        )  # fmt: skip
        sdk.v1.payment_methods.attach(card.id, params={"customer": customer})
        sdk.v1.customers.update(
            customer, params={"invoice_settings": {"default_payment_method": card.id}}
        )
        subscription = sdk.v1.subscriptions.create(
            params={"customer": customer, "items": [{"plan": PRO}]}
        )
        assert subscription.status == "active"

        def billing() -> OrgBilling:
            return OrgBilling.objects.select_related("plan").get(org=org)

        _wait(lambda: billing().status == "active")
        assert (billing().plan.code, billing().stripe_subscription_id) == ("pro", subscription.id)
        _wait(lambda: StripeEvent.objects.filter(type="invoice.payment_succeeded").exists())

        sdk.v1.subscriptions.cancel(subscription.id)
        _wait(lambda: billing().status == "canceled")
        assert billing().plan.code == "free"
        assert not StripeEvent.objects.filter(status="failed").exists()

        # Lose the local state; reconcile re-fetches it and replays localstripe's events.
        StripeEvent.objects.all().delete()
        OrgBilling.objects.filter(org=org).update(status="active")
        report = billing_reconcile(org_ids=[org.pk])
        assert report.subscriptions == 1
        assert report.events_seen >= 2
        assert billing().status == "canceled"
        assert StripeEvent.objects.filter(type="customer.subscription.created").exists()
