"""Customers, subscriptions and invoices in localstripe's store, changed as Stripe's Checkout,
customer portal and renewals change them, each change recorded as the events Stripe sends.

localstripe's own events (from its API: customers, subscriptions made through `/v1/...`) still
flow: its `schedule_webhook` is replaced by `Ledger.localstripe_event`, which queues them for
the stand-in's delivery (ordered, signed per attempt, retried). While the ledger itself works on
the store, localstripe's side effects are muted (their events dropped from the store too) and the
ledger emits Stripe's events in Stripe's order instead.

Kept simple on purpose: no PaymentIntents or Charges (an invoice carries its own status), no
proration when switching plans, one subscription item."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import localstripe.resources as ls  # type: ignore[import-untyped]
from localstripe.errors import UserError  # type: ignore[import-untyped]

from taskscore.testing.stripe_standin.cards import (
    CardEntry,
    known_card,
    later_charge_succeeds,
)
from taskscore.testing.stripe_standin.config import PriceSpec, StandinConfig
from taskscore.testing.stripe_standin.objects import (
    CheckoutSession,
    MeterEvent,
    Snapshot,
    StandinInvoice,
    StandinSubscription,
    add_month,
)

LIVE_STATUSES = ("trialing", "active", "past_due", "incomplete", "unpaid")


def missing(kind: str, object_id: str, param: str) -> UserError:
    """Stripe's answer to a parameter naming an object that does not exist."""
    return UserError(
        400, f"No such {kind}: '{object_id}'", {"code": "resource_missing", "param": param}
    )


def previous_attributes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The top-level fields an update changed, with their old values (an event's
    `data.previous_attributes`)."""
    return {key: value for key, value in before.items() if after.get(key) != value}


class Ledger:
    """The stand-in's billing operations. Each public operation changes the store, then emits
    its events; `events_take()` hands them to delivery in the order emitted."""

    def __init__(self, config: StandinConfig, *, on_events: Callable[[], None]) -> None:
        self.config = config
        self._on_events = on_events
        self._pending: list[Any] = []
        self._muted = 0
        self.meter_events: dict[str, MeterEvent] = {}

    # ----------------------------------------------------------------------------- events

    def localstripe_event(self, event: Any) -> None:
        """Stands in for localstripe's `schedule_webhook`."""
        if self._muted:
            ls.store.pop(f"event:{event.id}", None)
            return
        self._queue(event)

    def _emit(
        self, type: str, data: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> None:
        event = ls.Event(type, Snapshot(data))
        if previous:
            event.data["previous_attributes"] = previous
        self._queue(event)

    def _queue(self, event: Any) -> None:
        event.api_version = self.config.api_version
        event.request = {"id": None, "idempotency_key": None}
        self._pending.append(event)
        self._on_events()

    def events_take(self) -> list[Any]:
        events, self._pending = self._pending, []
        return events

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        self._muted += 1
        try:
            yield
        finally:
            self._muted -= 1

    # ----------------------------------------------------------------------------- prices

    def prices_ensure(self) -> None:
        """Create the configured prices (localstripe's legacy plans) unless they exist."""
        with self._quiet():
            for spec in self.config.prices:
                if ls.store.get(f"plan:{spec.id}") is None:
                    ls.Plan(
                        id=spec.id, amount=spec.unit_amount, currency=spec.currency,
                        interval=spec.interval, nickname=spec.name,
                        product={"name": spec.name},
                        usage_type="metered" if spec.metered else "licensed",
                    )  # fmt: skip

    def price_get(self, price_id: str, *, param: str = "price") -> Any:
        plan = ls.store.get(f"plan:{price_id}")
        if plan is None:
            raise missing("price", price_id, param)
        return plan

    def price_spec(self, price_id: str) -> PriceSpec | None:
        return next((spec for spec in self.config.prices if spec.id == price_id), None)

    # ----------------------------------------------------------------------------- reads

    def customer_get(self, customer_id: str, *, param: str = "customer") -> Any:
        customer = ls.store.get(f"customer:{customer_id}")
        if customer is None:
            raise missing("customer", customer_id, param)
        return customer

    def subscription_of(self, customer_id: str) -> Any | None:
        """The subscription a customer's portal shows: the newest live one, else the newest."""
        subscriptions = [
            value
            for key, value in ls.store.items()
            if key.startswith("subscription:") and value.customer == customer_id
        ]
        live = [s for s in subscriptions if s.status in LIVE_STATUSES]
        return max(live or subscriptions, key=lambda s: (s.created, s.id), default=None)

    def invoices_of(self, customer_id: str, *, limit: int = 12) -> list[Any]:
        invoices = [
            value
            for key, value in ls.store.items()
            if key.startswith("invoice:") and value.customer == customer_id
        ]
        return sorted(invoices, key=lambda i: (i.created, i.id), reverse=True)[:limit]

    def invoice_get(self, invoice_id: str) -> Any | None:
        return ls.store.get(f"invoice:{invoice_id}")

    def open_invoice(self, subscription: Any) -> Any | None:
        invoices = self.invoices_of(subscription.customer, limit=100)
        return next(
            (i for i in invoices if i.subscription == subscription.id and i.status == "open"),
            None,
        )

    def card_on_file(self, customer: Any) -> Any | None:
        pm_id = (customer.invoice_settings or {}).get("default_payment_method")
        return ls.store.get(f"payment_method:{pm_id}") if pm_id else None

    def usage(self, customer_id: str, start: int, end: int) -> int:
        """Metered units reported for the customer with `start <= timestamp < end`."""
        return sum(
            event.value
            for event in self.meter_events.values()
            if event.customer == customer_id
            and event.event_name == self.config.meter_event_name
            and start <= event.timestamp < end
        )

    # ----------------------------------------------------------------------------- checkout

    def checkout_complete(
        self, session: CheckoutSession, card: CardEntry, *, email: str, now: int
    ) -> None:
        """An accepted card completes the session: the customer (made now when the session had
        none), the card as its default, the subscription (trialing, or active with its first
        invoice paid), then Stripe's events."""
        invoice_events: list[tuple[str, dict[str, Any]]] = []
        with self._quiet():
            is_new_customer = session.customer is None
            if session.customer is None:
                customer = ls.Customer(email=email or None, name=card.name or None)
            else:
                customer = self.customer_get(session.customer)
            payment_method = self._card_attach(customer, card)
            subscription = StandinSubscription(
                customer=customer.id, price=session.price, metadata=session.subscription_metadata,
                payment_method=payment_method.id, now=now, trial_end=session.trial_end,
            )  # fmt: skip
            invoice = None
            if session.trial_end is None:
                invoice, invoice_events = self._invoice_create(
                    subscription, reason="subscription_create", amount=session.amount_subtotal
                )
                invoice_events += self._charge(invoice, succeeds=True)  # accepted at checkout
                subscription.status = "active"
            else:
                subscription.status = "trialing"
            session.status = "complete"
            session.payment_status = "no_payment_required" if not session.amount_total else "paid"
            session.customer = customer.id
            session.subscription = subscription.id
            session.invoice = invoice.id if invoice is not None else None
            session.customer_details = {
                "address": None, "email": email or customer.email, "name": card.name or None,
                "phone": None, "tax_exempt": "none", "tax_ids": [],
            }  # fmt: skip
        if is_new_customer:
            self._emit("customer.created", customer._export())
        self._emit("checkout.session.completed", session.to_stripe())
        self._emit("customer.subscription.created", subscription._export())
        for type, data in invoice_events:
            self._emit(type, data)

    # ----------------------------------------------------------------------------- portal

    def plan_switch(self, subscription: Any, price_id: str) -> None:
        self.price_get(price_id)
        if subscription.plan.id == price_id:
            return
        before = subscription._export()
        with self._quiet():
            subscription._item_set(price_id)
        after = subscription._export()
        previous = {"items": before["items"], "plan": before["plan"]}
        self._emit("customer.subscription.updated", after, previous)

    def cancel_at_period_end_set(self, subscription: Any, *, cancel: bool) -> None:
        if bool(subscription.cancel_at_period_end) == cancel:
            return
        before = subscription._export()
        subscription.cancel_at_period_end = cancel
        subscription.cancel_at = subscription.current_period_end if cancel else None
        subscription.canceled_at = int(time.time()) if cancel else None
        subscription.cancellation_details = {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested" if cancel else None,
        }
        after = subscription._export()
        self._emit("customer.subscription.updated", after, previous_attributes(before, after))

    def renew(self, subscription: Any, *, fail: bool = False) -> None:
        """The current period (or trial) ends now. A subscription set to cancel ends; otherwise
        the next period starts and its invoice is charged: the card on file decides, or `fail`
        makes the payment fail (the subscription goes `past_due`)."""
        now = int(time.time())
        if subscription.cancel_at_period_end:
            subscription.status = "canceled"
            subscription.ended_at = now
            self._emit("customer.subscription.deleted", subscription._export())
            return
        before = subscription._export()
        with self._quiet():
            start, _ = subscription._period
            was_trialing = subscription.status == "trialing"
            subscription._period = (now, add_month(now))
            if was_trialing:
                subscription.status = "active"
            advanced = subscription._export()
            amount = self._period_amount(subscription, start, now, was_trialing=was_trialing)
            invoice, invoice_events = self._invoice_create(
                subscription, reason="subscription_cycle", amount=amount
            )
            succeeds = not fail and self._charge_succeeds(subscription, invoice)
            invoice_events += self._charge(invoice, succeeds=succeeds)
            failed = None
            if invoice.status != "paid":
                subscription.status = "past_due"
                failed = subscription._export()
        self._emit("customer.subscription.updated", advanced, previous_attributes(before, advanced))
        for type, data in invoice_events:
            self._emit(type, data)
        if failed is not None:
            self._emit("customer.subscription.updated", failed, {"status": advanced["status"]})

    def payment_fail(self, subscription: Any) -> None:
        """A failed payment: the open invoice's retry fails, or (none open) the renewal's."""
        invoice = self.open_invoice(subscription)
        if invoice is None:
            self.renew(subscription, fail=True)
            return
        before = subscription._export()
        with self._quiet():
            invoice_events = self._charge(invoice, succeeds=False)
            subscription.status = "past_due"
        for type, data in invoice_events:
            self._emit(type, data)
        after = subscription._export()
        if after["status"] != before["status"]:
            self._emit("customer.subscription.updated", after, {"status": before["status"]})

    def invoice_pay(self, invoice: Any, *, card: CardEntry | None) -> bool:
        """Charge an open invoice (a new card becomes the default first); a subscription that
        was past due becomes active when it is paid. False when the payment failed."""
        subscription = ls.store.get(f"subscription:{invoice.subscription}")
        with self._quiet():
            if card is not None:
                customer = self.customer_get(invoice.customer)
                payment_method = self._card_attach(customer, card)
                if subscription is not None:
                    subscription.default_payment_method = payment_method.id
            invoice_events = self._charge(
                invoice, succeeds=self._charge_succeeds(subscription, invoice)
            )
            recovered = None
            is_paid = invoice.status == "paid" and subscription is not None
            if is_paid and subscription.status in ("past_due", "unpaid", "incomplete"):
                before_status = subscription.status
                subscription.status = "active"
                recovered = (subscription._export(), {"status": before_status})
        for type, data in invoice_events:
            self._emit(type, data)
        if recovered is not None:
            self._emit("customer.subscription.updated", *recovered)
        return bool(invoice.status == "paid")

    # ----------------------------------------------------------------------------- metering

    def meter_event_record(
        self, *, event_name: str, customer: str, value: int, identifier: str, timestamp: int
    ) -> MeterEvent:
        """Record usage once per identifier (Stripe enforces its uniqueness; a repeat is the
        same event)."""
        existing = self.meter_events.get(identifier)
        if existing is not None:
            return existing
        event = MeterEvent(
            identifier=identifier, event_name=event_name, customer=customer, value=value,
            timestamp=timestamp, created=int(time.time()),
        )  # fmt: skip
        self.meter_events[identifier] = event
        return event

    # ----------------------------------------------------------------------------- helpers

    def _card_attach(self, customer: Any, card: CardEntry) -> Any:
        """The card as a payment method, attached as the customer's default. The form already
        decided whether it is declined (localstripe's own decline list is not consulted)."""
        payment_method = ls.PaymentMethod(
            type="card",
            card={"number": card.number, "exp_month": card.exp_month,
                  "exp_year": card.exp_year, "cvc": card.cvc},
            billing_details={"name": card.name or None, "email": customer.email},
        )  # fmt: skip
        known = known_card(card.number)
        payment_method.card["brand"] = known.brand.lower() if known else "unknown"
        payment_method.customer = customer.id
        customer.invoice_settings["default_payment_method"] = payment_method.id
        return payment_method

    def _period_amount(self, subscription: Any, start: int, end: int, *, was_trialing: bool) -> int:
        """A licensed price bills the new period in advance; a metered one the usage of the
        period that ended (free during a trial)."""
        plan = subscription.plan
        if plan.usage_type != "metered":
            return int(plan.amount) * int(subscription.quantity or 1)
        if was_trialing:
            return 0
        return int(plan.amount) * self.usage(subscription.customer, start, end + 1)

    def _invoice_create(
        self, subscription: Any, *, reason: str, amount: int
    ) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
        """A finalized invoice of one line for the subscription's current period, with the
        events of its creation and finalization."""
        plan = subscription.plan
        start, end = subscription._period
        spec = self.price_spec(plan.id)
        if plan.usage_type == "metered" and plan.amount:
            units = amount // int(plan.amount)
            label = spec.unit_label if spec else "unit"
            description = f"{units} {label}{'s' if units != 1 else ''} × {plan.name}"
        else:
            description = f"1 × {plan.name}"
        ls.InvoiceItem(
            customer=subscription.customer, subscription=subscription.id, plan=plan.id,
            amount=amount, currency=plan.currency, period_start=start, period_end=end,
            description=description,
        )  # fmt: skip
        count = sum(1 for key in ls.store if key.startswith("invoice:"))
        invoice = StandinInvoice(
            customer=subscription.customer, subscription=subscription.id, billing_reason=reason,
            number=f"{subscription.customer[-8:].upper()}-{count + 1:04d}",
        )  # fmt: skip
        invoice.hosted_invoice_url = f"{self.config.base_url}/invoice/{invoice.id}"
        created = invoice._export()
        invoice._draft = False
        invoice._standin_status = "open"
        invoice.status_transitions["finalized_at"] = int(time.time())
        return invoice, [("invoice.created", created), ("invoice.finalized", invoice._export())]

    def _charge_succeeds(self, subscription: Any | None, invoice: Any) -> bool:
        if invoice.amount_due <= 0:
            return True  # nothing to charge
        customer = self.customer_get(invoice.customer)
        pm_id = getattr(subscription, "default_payment_method", None) or (
            customer.invoice_settings or {}
        ).get("default_payment_method")
        payment_method = ls.store.get(f"payment_method:{pm_id}") if pm_id else None
        if payment_method is None or payment_method.type != "card":
            return False
        return later_charge_succeeds(payment_method._card_number)

    def _charge(self, invoice: Any, *, succeeds: bool) -> list[tuple[str, dict[str, Any]]]:
        """Attempt the invoice's payment: paid, or still open with one more failed attempt."""
        if invoice.amount_due > 0 or not succeeds:
            invoice.attempted = True
            invoice.attempt_count += 1
        if succeeds:
            invoice._standin_status = "paid"
            invoice.status_transitions["paid_at"] = int(time.time())
            paid = invoice._export()
            return [("invoice.paid", paid), ("invoice.payment_succeeded", paid)]
        return [("invoice.payment_failed", invoice._export())]
