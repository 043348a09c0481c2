"""Stripe events: recorded once (insert-or-ignore on the event id), applied once, in one
transaction that locks the event row and the org's billing row.

Ordering rule (Stripe delivers at least once, in any order): each subscription and invoice keeps
the Stripe `created` of the event applied to it last, and the rank of that event's status. An
event older than that, or of the same second with a lower rank, changes nothing (it is stored
`ignored`, reason "stale"). The org's state is then derived from all its subscriptions (a live
one wins, then the most recently created), so events about different subscriptions commute.
`past_due_since` is the subscription's own `current_period_start` (a renewal that failed), not
the arrival time, so it too is independent of the order. Same-second events of equal rank are
applied in arrival order; `stripe_reconcile` re-fetches the truth."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from taskscore.audit.services import audit_record
from taskscore.billing.models import (
    CheckoutSession,
    Invoice,
    OrgBilling,
    StripeEvent,
    StripeEventStatus,
    Subscription,
    SubscriptionStatus,
)
from taskscore.billing.selectors import plan_for_price, plan_free, plans_in_force_forget
from taskscore.billing.services import LIVE_STATUSES, STRIPE_ACTOR, billing_account_lock
from taskscore.core import metrics

logger = logging.getLogger(__name__)

# Among events of the same second, the later stage of a subscription's life wins.
STATUS_RANK: dict[str, int] = {
    SubscriptionStatus.INCOMPLETE: 1,
    SubscriptionStatus.TRIALING: 2,
    SubscriptionStatus.ACTIVE: 3,
    SubscriptionStatus.PAST_DUE: 4,
    SubscriptionStatus.UNPAID: 5,
    SubscriptionStatus.PAUSED: 5,
    SubscriptionStatus.INCOMPLETE_EXPIRED: 6,
    SubscriptionStatus.CANCELED: 7,
}
INVOICE_RANK: dict[str, int] = {"draft": 1, "open": 2, "uncollectible": 3, "paid": 4, "void": 5}
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
# `invoice.payment_succeeded` is what older API versions (and localstripe) send for a paid one.
INVOICE_EVENTS = frozenset(
    {
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "invoice.voided",
        "invoice.marked_uncollectible",
    }
)


# The types this module acts on: the metrics' `type` label (any other type is "other").
HANDLED_TYPES = SUBSCRIPTION_EVENTS | INVOICE_EVENTS | {"checkout.session.completed"}


def event_type_label(event_type: str) -> str:
    """An event's type as a metric label: from a closed set, whatever Stripe sends."""
    return event_type if event_type in HANDLED_TYPES else "other"


class EventApplyFailed(Exception):
    """Applying a stored event raised; it is marked `failed` and will be applied again."""


class UnknownPrice(Exception):
    """A subscription's price matches no plan: an operator must add it (then reconcile)."""


@dataclass(frozen=True)
class Outcome:
    status: str  # applied or ignored
    reason: str = ""
    org_id: int | None = None


def stripe_event_record(*, event: dict[str, Any]) -> None:
    """Store a verified event durably, once: INSERT ... ON CONFLICT (event_id) DO NOTHING, so
    concurrent duplicate deliveries never race (no check-then-insert)."""
    StripeEvent.objects.bulk_create(
        [
            StripeEvent(
                event_id=event["id"],
                type=event["type"][:100],
                payload=event,
                created=int(event["created"]),
            )
        ],
        ignore_conflicts=True,
    )


def stripe_event_apply(*, event_id: str) -> StripeEvent:
    """Apply a stored event unless it was applied (or ignored) already; raises EventApplyFailed
    after marking it `failed` when applying raised (the caller answers 500 so Stripe retries).

    Counted by type and outcome (applied, ignored, duplicate: done before, failed), and an event
    that takes effect now has its lag since Stripe created it observed (core.metrics)."""
    event_type = "other"
    try:
        with transaction.atomic():
            row = StripeEvent.objects.select_for_update().get(event_id=event_id)
            event_type = event_type_label(row.type)
            is_duplicate = row.status in (StripeEventStatus.APPLIED, StripeEventStatus.IGNORED)
            if not is_duplicate:
                outcome = _dispatch(row.type, row.payload["data"]["object"], row.created)
                row.status = outcome.status
                row.reason = outcome.reason[:300]
                row.org_id = outcome.org_id
                row.attempts += 1
                row.last_error = ""
                row.applied_at = timezone.now()
                row.save()
    except Exception as exc:
        logger.exception("applying Stripe event %s failed", event_id)
        StripeEvent.objects.filter(event_id=event_id).exclude(
            status__in=[StripeEventStatus.APPLIED, StripeEventStatus.IGNORED]
        ).update(
            status=StripeEventStatus.FAILED,
            attempts=F("attempts") + 1,
            last_error=f"{type(exc).__name__}: {exc}"[:5000],
        )
        metrics.webhook_event_count(event_type=event_type, outcome="failed")
        raise EventApplyFailed(str(exc)) from exc
    if is_duplicate:
        metrics.webhook_event_count(event_type=event_type, outcome="duplicate")
    else:
        metrics.webhook_event_count(event_type=event_type, outcome=str(row.status))
        metrics.webhook_lag_observe(created=row.created)
    return row


def _dispatch(event_type: str, obj: dict[str, Any], created: int) -> Outcome:
    if event_type in SUBSCRIPTION_EVENTS:
        deleted = event_type == "customer.subscription.deleted"
        return _subscription_event(obj, created, deleted=deleted)
    if event_type in INVOICE_EVENTS:
        return _invoice_event(obj, created, failed=event_type == "invoice.payment_failed")
    if event_type == "checkout.session.completed":
        return _checkout_completed(obj)
    return Outcome(status=StripeEventStatus.IGNORED, reason=f"unhandled type {event_type}")


# --------------------------------------------------------------------------- which org


def _id_of(value: Any) -> str:
    """A Stripe reference: an id string, or an expanded object carrying one."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _account_of(obj: dict[str, Any]) -> OrgBilling | None:
    """The billing row, locked, of the org linked to the object's customer. None: no org is
    (not one of ours, or not linked yet; `stripe_reconcile --org` re-applies such events once it
    is). Only this app links a customer, when it creates one for the org (billing_customer_ensure,
    before any Checkout): an object's `metadata` or `client_reference_id` never names the org, since
    whoever can create objects on the Stripe account, or sign a delivery, can write them."""
    customer = _id_of(obj.get("customer"))
    if not customer:
        return None
    org_id = (
        OrgBilling.objects.filter(stripe_customer_id=customer)
        .values_list("org_id", flat=True)
        .first()
    )
    if org_id is None:
        return None
    billing = billing_account_lock(org_id=org_id)
    # (read again under the lock: the row is the truth once locked)
    return billing if billing.stripe_customer_id == customer else None


def _unknown(obj: dict[str, Any]) -> Outcome:
    customer = _id_of(obj.get("customer")) or "none"
    return Outcome(status=StripeEventStatus.IGNORED, reason=f"unknown customer {customer}")


# --------------------------------------------------------------------------- subscriptions


def _ts(value: Any) -> datetime | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def _first_item(obj: dict[str, Any]) -> dict[str, Any]:
    items = (obj.get("items") or {}).get("data") or []
    return items[0] if items and isinstance(items[0], dict) else {}


def _price_id(obj: dict[str, Any]) -> str:
    item = _first_item(obj)
    # Current API versions carry `price`; localstripe (older shapes) only `plan`.
    return _id_of(item.get("price")) or _id_of(item.get("plan")) or _id_of(obj.get("plan"))


def _period(obj: dict[str, Any], key: str) -> datetime | None:
    # Newer API versions moved the period onto the items.
    return _ts(obj.get(key)) or _ts(_first_item(obj).get(key))


def subscription_state_store(
    *, billing: OrgBilling, obj: dict[str, Any], created: int, deleted: bool = False
) -> bool:
    """Store a subscription's state from an event (or a re-fetch) of Stripe time `created`
    unless newer state is stored already; then re-derive the org's state. The caller holds the
    org's billing row lock. False: stale, nothing changed."""
    status = SubscriptionStatus.CANCELED if deleted else str(obj.get("status") or "")
    if status not in STATUS_RANK:
        raise ValueError(f"unknown subscription status {status!r}")
    rank = STATUS_RANK[status]
    sub_id = str(obj["id"])
    current = Subscription.objects.select_for_update().filter(stripe_subscription_id=sub_id).first()
    if current is not None and (created, rank) < (current.state_created, current.state_rank):
        return False
    price_id = _price_id(obj)
    plan = plan_for_price(price_id=price_id)
    if plan is None:
        raise UnknownPrice(f"no plan has the Stripe price {price_id!r}")
    values = {
        "org_id": billing.org_id,
        "stripe_customer_id": _id_of(obj.get("customer")),
        "price_id": price_id,
        "plan": plan,
        "status": status,
        "current_period_start": _period(obj, "current_period_start"),
        "current_period_end": _period(obj, "current_period_end"),
        "cancel_at_period_end": bool(obj.get("cancel_at_period_end")),
        "trial_start": _trial(obj, current, "trial_start"),
        "trial_end": _trial(obj, current, "trial_end"),
        "created": _ts(obj.get("created")) or _ts(created),
        "state_created": created,
        "state_rank": rank,
    }
    if current is None:
        Subscription.objects.create(stripe_subscription_id=sub_id, **values)
    else:
        Subscription.objects.filter(pk=current.pk).update(**values)
    billing_state_derive(billing=billing)
    return True


def _trial(obj: dict[str, Any], current: Subscription | None, key: str) -> datetime | None:
    """The trial's start or end as the object says; an object without the key (older API
    shapes, localstripe) keeps the one known so far, so the org's trial is never forgotten."""
    if key in obj:
        return _ts(obj[key])
    value: datetime | None = getattr(current, key) if current is not None else None
    return value


_DERIVED = (
    "plan_id",
    "stripe_subscription_id",
    "status",
    "current_period_start",
    "current_period_end",
    "cancel_at_period_end",
    "past_due_since",
    "trial_end",
)


def billing_state_derive(*, billing: OrgBilling) -> None:
    """Set the org's state from its subscriptions: a live one (active, trialing, past_due) wins,
    the most recently created first; else the most recent one; canceled or none is Free."""
    subscriptions = list(Subscription.objects.filter(org_id=billing.org_id))
    live = [s for s in subscriptions if s.status in LIVE_STATUSES]
    pool = live or subscriptions
    governing = max(pool, key=lambda s: (s.created, s.stripe_subscription_id), default=None)
    before = {name: getattr(billing, name) for name in _DERIVED}
    if governing is None:
        billing.plan = plan_free()
        billing.stripe_subscription_id = ""
        billing.status = SubscriptionStatus.NONE
        billing.current_period_start = billing.current_period_end = None
        billing.cancel_at_period_end = False
        billing.trial_end = None
    else:
        ended = governing.status in (
            SubscriptionStatus.CANCELED,
            SubscriptionStatus.INCOMPLETE_EXPIRED,
        )
        billing.plan = plan_free() if ended else governing.plan
        billing.stripe_subscription_id = governing.stripe_subscription_id
        billing.status = governing.status
        billing.current_period_start = governing.current_period_start
        billing.current_period_end = governing.current_period_end
        billing.cancel_at_period_end = governing.cancel_at_period_end
        billing.trial_end = governing.trial_end
    billing.past_due_since = (
        billing.current_period_start if billing.status == SubscriptionStatus.PAST_DUE else None
    )
    after = {name: getattr(billing, name) for name in _DERIVED}
    if after == before:
        return
    billing.save()
    org_id = billing.org_id
    transaction.on_commit(lambda: plans_in_force_forget(org_id=org_id))
    if (before["plan_id"], before["status"]) != (after["plan_id"], after["status"]):
        audit_record(
            org_id=billing.org_id, actor=STRIPE_ACTOR, action="billing.subscription_changed",
            target_type="org_billing", target_id=billing.org_id,
            before=_audit_view(before), after=_audit_view(after),
        )  # fmt: skip


def _audit_view(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "plan_id": state["plan_id"],
        "status": state["status"],
        "stripe_subscription_id": state["stripe_subscription_id"],
    }


def _subscription_event(obj: dict[str, Any], created: int, *, deleted: bool) -> Outcome:
    billing = _account_of(obj)
    if billing is None:
        return _unknown(obj)
    org_id = billing.org_id
    if not subscription_state_store(billing=billing, obj=obj, created=created, deleted=deleted):
        return Outcome(status=StripeEventStatus.IGNORED, reason="stale", org_id=org_id)
    return Outcome(status=StripeEventStatus.APPLIED, org_id=org_id)


# --------------------------------------------------------------------------- invoices


def _invoice_event(obj: dict[str, Any], created: int, *, failed: bool) -> Outcome:
    billing = _account_of(obj)
    if billing is None:
        return _unknown(obj)
    org_id = billing.org_id
    status = str(obj.get("status") or "open")
    rank = INVOICE_RANK.get(status, 0)
    invoice_id = str(obj["id"])
    current = Invoice.objects.select_for_update().filter(stripe_invoice_id=invoice_id).first()
    if current is not None and (created, rank) < (current.state_created, current.state_rank):
        return Outcome(status=StripeEventStatus.IGNORED, reason="stale", org_id=org_id)
    values = {
        "org_id": org_id,
        "stripe_subscription_id": _id_of(obj.get("subscription")),
        "number": str(obj.get("number") or ""),
        "status": status,
        "currency": str(obj.get("currency") or ""),
        "amount_due": int(obj.get("amount_due") or 0),
        "amount_paid": int(obj.get("amount_paid") or 0),
        "hosted_invoice_url": str(obj.get("hosted_invoice_url") or ""),
        "created": _ts(obj.get("created")) or _ts(created),
        "state_created": created,
        "state_rank": rank,
    }
    if current is None:
        Invoice.objects.create(stripe_invoice_id=invoice_id, **values)
    else:
        Invoice.objects.filter(pk=current.pk).update(**values)
    if failed:  # each failed attempt to collect it
        audit_record(
            org_id=org_id, actor=STRIPE_ACTOR, action="billing.payment_failed",
            target_type="invoice", target_id=invoice_id,
            after={"amount_due": values["amount_due"], "currency": values["currency"]},
        )  # fmt: skip
    return Outcome(status=StripeEventStatus.APPLIED, org_id=org_id)


# --------------------------------------------------------------------------- checkout


def _checkout_completed(obj: dict[str, Any]) -> Outcome:
    """Marks completed a Checkout session this app created, as recorded for its org, when the
    event carries that org's customer (the one the app created and passed to the session): its
    trial is then used; the subscription's own events (or a reconcile) carry its plan and status.

    Anything else links nothing and changes nothing, and is stored `ignored` with the reason: a
    session this app has no record of, whatever its `metadata` or `client_reference_id` says, or
    a recorded one whose customer is not its org's. Either answers 200, like any event that is
    not ours: a redelivery would meet the same records."""
    session_id = str(obj.get("id") or "")
    session = CheckoutSession.objects.filter(stripe_session_id=session_id).first()
    if session is None:
        return Outcome(
            status=StripeEventStatus.IGNORED, reason=f"unknown checkout session {session_id}"
        )
    customer = _id_of(obj.get("customer"))
    billing = billing_account_lock(org_id=session.org_id)
    if not customer or billing.stripe_customer_id != customer:
        return Outcome(
            status=StripeEventStatus.IGNORED,
            reason=f"checkout session {session_id} is not of customer {customer or 'none'}",
        )
    # (a conditional update, after the org's lock: the lock order stays event -> org -> rest)
    CheckoutSession.objects.filter(pk=session.pk, completed_at__isnull=True).update(
        completed_at=timezone.now(), stripe_subscription_id=_id_of(obj.get("subscription"))
    )
    return Outcome(status=StripeEventStatus.APPLIED, org_id=session.org_id)
