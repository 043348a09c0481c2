"""The Stripe objects localstripe lacks (Checkout sessions, portal sessions, billing meter events),
each rendered in Stripe's JSON shape; localstripe's subscription and invoice as the stand-in
extends them; shape helpers."""

from __future__ import annotations

import calendar
import copy
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import localstripe.resources as ls  # type: ignore[import-untyped]

ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """An unguessable id (24 letters and digits, ~143 bits): Checkout and portal URLs carry it
    and are their only credential."""
    return prefix + "".join(secrets.choice(ID_ALPHABET) for _ in range(24))


def add_month(timestamp: int) -> int:
    """The same day and time a month later (the month's last day when it has fewer days)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


class Snapshot:
    """A fixed JSON object that localstripe's `Event` can take as its data (it calls
    `_export()`), so that an event carries the object as it was at that moment."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = copy.deepcopy(data)

    def _export(self, expand: list[str] | None = None) -> dict[str, Any]:
        return copy.deepcopy(self._data)


def price_object(plan: Any) -> dict[str, Any]:
    """A localstripe (legacy) plan in the shape of a Stripe price."""
    return {
        "id": plan.id,
        "object": "price",
        "active": bool(plan.active),
        "billing_scheme": "per_unit",
        "created": plan.created,
        "currency": plan.currency,
        "livemode": False,
        "lookup_key": None,
        "metadata": dict(plan.metadata or {}),
        "nickname": plan.nickname,
        "product": plan.product,
        "recurring": {
            "interval": plan.interval,
            "interval_count": plan.interval_count,
            "meter": None,
            "trial_period_days": None,
            "usage_type": plan.usage_type,
        },
        "tax_behavior": "unspecified",
        "type": "recurring",
        "unit_amount": plan.amount,
        "unit_amount_decimal": str(plan.amount),
    }


@dataclass
class CheckoutSession:
    """A Checkout session in subscription mode for one price."""

    id: str
    url: str
    created: int
    expires_at: int
    price: str
    quantity: int | None  # None for a metered price
    currency: str
    amount_subtotal: int  # due today
    success_url: str
    cancel_url: str | None
    customer: str | None
    customer_email: str | None
    client_reference_id: str | None
    metadata: dict[str, str]
    subscription_metadata: dict[str, str]
    trial_end: int | None  # from subscription_data.trial_period_days or .trial_end
    status: str = "open"  # open, complete, expired
    payment_status: str = "unpaid"  # unpaid, paid, no_payment_required
    subscription: str | None = None
    invoice: str | None = None
    customer_details: dict[str, Any] | None = None
    line_item_id: str = field(default_factory=lambda: new_id("li_"))

    def refresh(self, now: int) -> None:
        """Stripe expires an open session after its `expires_at` (24 hours by default)."""
        if self.status == "open" and now >= self.expires_at:
            self.status = "expired"

    @property
    def amount_total(self) -> int:
        return 0 if self.trial_end is not None else self.amount_subtotal

    def line_items(self, price: dict[str, Any]) -> dict[str, Any]:
        item = {
            "id": self.line_item_id,
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": self.amount_subtotal,
            "amount_tax": 0,
            "amount_total": self.amount_total,
            "currency": self.currency,
            "description": price.get("nickname") or price["id"],
            "price": price,
            "quantity": self.quantity,
        }
        return {
            "object": "list",
            "data": [item],
            "has_more": False,
            "url": f"/v1/checkout/sessions/{self.id}/line_items",
        }

    def to_stripe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": self.amount_subtotal,
            "amount_total": self.amount_total,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "billing_address_collection": None,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "consent": None,
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "customer_creation": None if self.customer_email is None else "always",
            "customer_details": copy.deepcopy(self.customer_details),
            "customer_email": self.customer_email,
            "expires_at": self.expires_at,
            "invoice": self.invoice,
            "livemode": False,
            "locale": None,
            "metadata": dict(self.metadata),
            "mode": "subscription",
            "payment_intent": None,
            "payment_method_collection": "always",
            "payment_method_types": ["card"],
            "payment_status": self.payment_status,
            "setup_intent": None,
            "status": self.status,
            "submit_type": None,
            "subscription": self.subscription,
            "success_url": self.success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted",
            "url": self.url if self.status == "open" else None,
        }


@dataclass
class PortalSession:
    id: str
    url: str
    created: int
    customer: str
    return_url: str | None

    def to_stripe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "billing_portal.session",
            "configuration": "bpc_standin",
            "created": self.created,
            "customer": self.customer,
            "flow": None,
            "livemode": False,
            "locale": None,
            "on_behalf_of": None,
            "return_url": self.return_url,
            "url": self.url,
        }


@dataclass(frozen=True)
class MeterEvent:
    identifier: str
    event_name: str
    customer: str
    value: int
    timestamp: int
    created: int

    def to_stripe(self) -> dict[str, Any]:
        return {
            "object": "billing.meter_event",
            "created": self.created,
            "event_name": self.event_name,
            "identifier": self.identifier,
            "livemode": False,
            "payload": {"stripe_customer_id": self.customer, "value": str(self.value)},
            "timestamp": self.timestamp,
        }


# ------------------------------------------------------------------- localstripe's, extended


class StandinSubscription(ls.Subscription):
    """A subscription localstripe lists, retrieves, updates and cancels like its own, plus what
    the stand-in needs: a trial (status `trialing`, the period is the trial), a period that
    renewals move, and each item's `price` and period as current API versions carry them.

    Every method is private: localstripe exports every public attribute of an object."""

    def __init__(
        self,
        *,
        customer: str,
        price: str,
        metadata: dict[str, str],
        payment_method: str,
        now: int,
        trial_end: int | None,
    ) -> None:
        ls.StripeObject.__init__(self)  # an id, `created`, and a place in the store
        plan = ls.Plan._api_retrieve(price)
        self.customer = customer
        self.metadata = dict(metadata)
        self.tax_percent = None
        self.default_tax_rates = None
        self.application_fee_percent = None
        self.billing_cycle_anchor = trial_end or now
        self.cancel_at = None
        self.cancel_at_period_end = False
        self.canceled_at = None
        self.cancellation_details = {"comment": None, "feedback": None, "reason": None}
        self.collection_method = "charge_automatically"
        self.currency = plan.currency
        self.default_payment_method = payment_method
        self.discount = None
        self.ended_at = None
        self.latest_invoice = None
        self.pause_collection = None
        self.quantity = 1
        self.start_date = now
        self.status = "incomplete"
        self.trial_end = trial_end
        self.trial_start = None if trial_end is None else now
        self.trial_period_days = None
        self.trial_from_plan = False
        self._enable_incomplete_payments = True
        self._period = (now, trial_end if trial_end is not None else add_month(now))
        self.items = ls.List(f"/v1/subscription_items?subscription={self.id}")
        self._item_set(price)

    def _item_set(self, price: str) -> None:
        item = ls.SubscriptionItem(subscription=self.id, plan=price, quantity=1, tax_rates=[])
        self.items._list = [item]

    @property
    def current_period_start(self) -> int:
        return self._period[0]

    @property
    def current_period_end(self) -> int:
        return self._period[1]

    def _export(self, expand: list[str] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = super()._export(expand=expand)
        for exported in data["items"]["data"]:
            plan = ls.Plan._api_retrieve(exported["plan"]["id"])
            exported["price"] = price_object(plan)
            exported["current_period_start"], exported["current_period_end"] = self._period
            exported["subscription"] = self.id
            if plan.usage_type == "metered":
                exported.pop("quantity", None)  # metered items have none
        return data


class StandinInvoice(ls.Invoice):
    """An invoice whose status the ledger sets (draft → open → paid), with a number and a
    hosted page. Its lines are the customer's pending invoice items, as localstripe does."""

    def __init__(
        self, *, customer: str, subscription: str, billing_reason: str, number: str
    ) -> None:
        self._standin_status = "draft"  # before localstripe's constructor reads `status`
        super().__init__(customer=customer, subscription=subscription)
        self.attempt_count = 0
        self.attempted = False
        self.auto_advance = True
        self.billing_reason = billing_reason
        self.hosted_invoice_url: str | None = None
        self.number = number

    @property
    def status(self) -> str:
        return self._standin_status

    @property
    def paid(self) -> bool:
        return self._standin_status == "paid"
