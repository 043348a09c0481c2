"""Helpers of the tests that put an org in a billing state the way Stripe does: signed events
delivered to `POST /api/webhooks/stripe` (the app's real path), with the SDK's signature."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from django.conf import settings
from django.test import Client

from taskscore.billing.models import OrgBilling
from taskscore.billing.services import billing_account_get_or_create
from taskscore.orgs.models import Organization
from taskscore.testing.fake_stripe import (
    event_payload,
    invoice_object,
    sign_header,
    subscription_object,
)

WEBHOOK_SECRET = "whsec_plan_tests"
DAY = 86_400
_ids = itertools.count(1)


def deliver(event: dict[str, Any]) -> Any:
    """A signed delivery of `event` (needs STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)."""
    raw = json.dumps(event).encode()
    response = Client().generic(
        "POST",
        "/api/webhooks/stripe",
        raw,
        content_type="application/json",
        headers={"Stripe-Signature": sign_header(raw, WEBHOOK_SECRET)},
    )
    assert response.status_code == 200, response.content
    return response


def customer_link(org: Organization) -> str:
    """The org's Stripe customer, as the first Checkout leaves it."""
    billing = billing_account_get_or_create(org_id=org.pk)
    if not billing.stripe_customer_id:
        OrgBilling.objects.filter(pk=billing.pk).update(stripe_customer_id=f"cus_{org.slug}")
        return f"cus_{org.slug}"
    return billing.stripe_customer_id


def price_of(plan: str) -> str:
    return str({"pro": settings.STRIPE_PRICE_PRO, "business": settings.STRIPE_PRICE_BUSINESS}[plan])


def subscribe(
    org: Organization,
    *,
    plan: str,
    status: str,
    subscription_id: str = "",
    period_start: int | None = None,
    trial_end: int | None = None,
    deleted: bool = False,
) -> str:
    """Deliver the event that puts the org's subscription in `status` on `plan` (a deletion
    when `deleted`); returns the subscription's id."""
    now = int(time.time())
    start = now - DAY if period_start is None else period_start
    subscription_id = subscription_id or f"sub_{org.slug}_{next(_ids)}"
    obj = subscription_object(
        subscription_id=subscription_id, customer=customer_link(org), price=price_of(plan),
        status=status, created=start, period_start=start, period_end=start + 30 * DAY,
    )  # fmt: skip
    if trial_end is not None:
        obj |= {"trial_start": start, "trial_end": trial_end}
    kind = "deleted" if deleted else "updated"
    deliver(
        event_payload(
            event_id=f"evt_{subscription_id}_{next(_ids)}",
            type=f"customer.subscription.{kind}",
            created=now,
            obj=obj,
        )
    )
    return subscription_id


def invoice_deliver(
    org: Organization, *, invoice_id: str, status: str, event_type: str, amount: int = 2900
) -> None:
    now = int(time.time())
    obj = invoice_object(
        invoice_id=invoice_id, customer=customer_link(org), subscription="sub_x",
        status=status, created=now - 60, amount=amount,
    )  # fmt: skip
    deliver(
        event_payload(
            event_id=f"evt_{invoice_id}_{next(_ids)}", type=event_type, created=now, obj=obj
        )
    )
