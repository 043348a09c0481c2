"""Re-sync billing with Stripe: re-fetch an org's subscriptions, replay events Stripe could not
deliver, and re-apply events that are stuck (`received` after a crash, or `failed`)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from taskscore.billing.events import (
    EventApplyFailed,
    stripe_event_apply,
    stripe_event_record,
    subscription_state_store,
)
from taskscore.billing.gateway import stripe_client_get
from taskscore.billing.models import OrgBilling, StripeEvent, StripeEventStatus, Subscription
from taskscore.billing.services import billing_account_lock
from taskscore.integrations.stripe import StripeClient

logger = logging.getLogger(__name__)

EVENT_RETENTION_SECONDS = 30 * 24 * 3600  # Stripe lists events of the last 30 days


@dataclass
class ReconcileReport:
    orgs: int = 0
    subscriptions: int = 0
    events_seen: int = 0
    events_failed: int = 0


def billing_reconcile_org(*, org_id: int, client: StripeClient | None = None) -> int:
    """Overwrite the org's subscriptions with what Stripe says now; returns how many. The
    fetched state counts as of the fetch time, so an older event arriving later cannot undo it."""
    customer = (
        OrgBilling.objects.filter(org_id=org_id)
        .values_list("stripe_customer_id", flat=True)
        .first()
    )
    if not customer:
        return 0
    client = client or stripe_client_get()
    fetched_at = int(time.time())
    listed = client.subscriptions_for_customer(customer)
    listed_ids = {str(s["id"]) for s in listed}
    known = Subscription.objects.filter(org_id=org_id).exclude(
        stripe_subscription_id__in=listed_ids
    )
    fetched = listed + [client.subscription_retrieve(s.stripe_subscription_id) for s in known]
    with transaction.atomic():
        billing = billing_account_lock(org_id=org_id)
        for subscription in fetched:
            subscription_state_store(billing=billing, obj=subscription, created=fetched_at)
    # Events ignored while the customer was not linked to the org apply now.
    _events_reapply(
        StripeEvent.objects.filter(
            status=StripeEventStatus.IGNORED, reason=f"unknown customer {customer}"
        )
    )
    return len(fetched)


def stripe_events_replay(*, since: int, client: StripeClient | None = None) -> ReconcileReport:
    """Record and apply every event Stripe lists since `since` (already applied ones are
    skipped by the event row's status)."""
    client = client or stripe_client_get()
    report = ReconcileReport()
    for event in client.events_since(since):
        report.events_seen += 1
        stripe_event_record(event=event)
        try:
            stripe_event_apply(event_id=str(event["id"]))
        except EventApplyFailed:
            report.events_failed += 1
    return report


def _events_reapply(events: QuerySet[StripeEvent]) -> tuple[int, int]:
    ids = list(events.order_by("created", "id").values_list("event_id", flat=True))
    failed = 0
    for event_id in ids:
        StripeEvent.objects.filter(event_id=event_id, status=StripeEventStatus.IGNORED).update(
            status=StripeEventStatus.RECEIVED
        )
        try:
            stripe_event_apply(event_id=event_id)
        except EventApplyFailed:
            failed += 1
    return len(ids), failed


def stripe_events_retry(*, older_than_seconds: int | None = None, limit: int = 500) -> int:
    """Apply again the events left `received` (a crash between storing and applying) or
    `failed`, oldest first; returns how many were tried."""
    age = (
        settings.BILLING_EVENT_RETRY_AFTER_SECONDS
        if older_than_seconds is None
        else older_than_seconds
    )
    cutoff = timezone.now() - timedelta(seconds=age)
    ids = list(
        StripeEvent.objects.filter(
            status__in=[StripeEventStatus.RECEIVED, StripeEventStatus.FAILED],
            received_at__lte=cutoff,
        )
        .order_by("created", "id")
        .values_list("event_id", flat=True)[:limit]
    )
    for event_id in ids:
        try:
            stripe_event_apply(event_id=event_id)
        except EventApplyFailed:
            continue
    return len(ids)


def billing_reconcile(
    *, org_ids: list[int] | None = None, replay_days: int = 30
) -> ReconcileReport:
    """Re-fetch the subscriptions of `org_ids` (default: every org with a Stripe customer), then
    replay the events of the last `replay_days` days and retry stuck ones."""
    client = stripe_client_get()
    since = int(time.time()) - min(replay_days * 86400, EVENT_RETENTION_SECONDS)
    report = stripe_events_replay(since=since, client=client)
    targets = org_ids
    if targets is None:
        targets = list(
            OrgBilling.objects.exclude(stripe_customer_id__isnull=True).values_list(
                "org_id", flat=True
            )
        )
    for org_id in targets:
        report.subscriptions += billing_reconcile_org(org_id=org_id, client=client)
        report.orgs += 1
    stripe_events_retry(older_than_seconds=0)
    return report
