"""Writes to billing: an org's billing account and Stripe customer, Checkout and portal
sessions, usage reservation against the quota, and the metered-usage outbox."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from taskscore.audit.services import Actor, audit_record
from taskscore.billing.catalog import PLAN_CATALOG
from taskscore.billing.errors import (
    AIBudgetExceeded,
    PlanQuotaExceeded,
    StripeRefused,
    StripeUnavailable,
)
from taskscore.billing.gateway import stripe_client_get
from taskscore.billing.models import (
    AIUsage,
    CheckoutSession,
    MeterOutbox,
    OrgBilling,
    Plan,
    StripeEvent,
    SubscriptionStatus,
    UsageRecord,
)
from taskscore.billing.selectors import (
    FREE_PLAN,
    PAID_STATUSES,
    AIAllowance,
    ai_allowance,
    billing_account_of,
    entitlement_of,
    plan_free,
    plan_get,
    plans_in_force_forget,
    trial_days_for,
    trial_used,
    usage_period_start,
)
from taskscore.core.db import fixed_fetch, model_from_row
from taskscore.core.errors import Conflict, FieldError, ProblemType, ValidationFailed
from taskscore.integrations.stripe import PermanentStripeError, RetryableStripeError
from taskscore.orgs.models import Organization
from taskscore.rbac.callers import Caller

logger = logging.getLogger(__name__)

STRIPE_ACTOR = Actor(label="stripe")
LIVE_STATUSES = PAID_STATUSES


def plans_seed() -> list[Plan]:
    """Create or update the catalog's plans, with the Stripe prices from settings."""
    prices = {
        "free": "",
        "pro": settings.STRIPE_PRICE_PRO,
        "business": settings.STRIPE_PRICE_BUSINESS,
    }
    plans = []
    for spec in PLAN_CATALOG:
        fields = {k: v for k, v in spec.items() if k != "code"}
        code = str(spec["code"])
        plan, _ = Plan.objects.update_or_create(
            code=code, defaults={**fields, "stripe_price_id": prices[code]}
        )
        plans.append(plan)
    return plans


def billing_account_get_or_create(*, org_id: int) -> OrgBilling:
    """The org's billing row, created on Free the first time (race-safe: insert-or-ignore)."""
    rows = OrgBilling.objects.select_related("plan", "granted_plan")
    billing = rows.filter(org_id=org_id).first()
    if billing is not None:
        return billing
    OrgBilling.objects.bulk_create(
        [OrgBilling(org_id=org_id, plan=plan_free())], ignore_conflicts=True
    )
    return rows.get(org_id=org_id)


@functools.cache
def _lock_sql() -> str:
    """`billing_account_lock`'s statement as the ORM writes it, built once per process: its ~50
    columns of three tables cost more to compile than the statement costs to run."""
    locked = (
        OrgBilling.objects.select_for_update(of=("self",))
        .select_related("plan", "granted_plan")
        .filter(org_id=0)[:1]  # one row at most (org is unique): no ORDER BY
    )
    sql, params = locked.query.sql_with_params()
    assert params == (0,), params  # the org's id is the statement's only parameter
    return sql


def _billing_locked(org_id: int) -> OrgBilling | None:
    """The row `_lock_sql` returns as the ORM's `select_related` builds it: the billing row with
    its plan and granted plan cached (None where the join found none, its id left as read).
    Refused outside a transaction, as the ORM refuses `select_for_update` (the lock would end at
    once)."""
    if connection.get_autocommit():
        raise TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    row = fixed_fetch(_lock_sql(), [org_id])
    if row is None:
        return None
    billing_end = len(OrgBilling._meta.concrete_fields)
    plan_end = billing_end + len(Plan._meta.concrete_fields)
    billing = model_from_row(OrgBilling, row[:billing_end])
    plan, granted = row[billing_end:plan_end], row[plan_end:]
    for name, values in (("plan", plan), ("granted_plan", granted)):
        joined = None if values[0] is None else model_from_row(Plan, values)
        OrgBilling._meta.get_field(name).set_cached_value(billing, joined)  # type: ignore[union-attr]
    return billing


def billing_account_lock(*, org_id: int) -> OrgBilling:
    """The org's billing row, with its plans, locked FOR UPDATE until the caller's transaction
    ends. One statement when the row exists and its plans did not change while it waited."""
    billing = _billing_locked(org_id)
    if billing is not None and _plans_joined(billing):
        return billing
    # No row yet, or a concurrent transaction changed its plans while this one waited for the
    # lock: Postgres then re-checks the row's newest version against the plan rows it joined
    # before the wait, so the row comes back without them (the subscribed plan: no row at all;
    # the granted one: NULLs). The lock is ours now, or taken without the join; the plans are
    # read again, from the row as committed.
    billing_account_get_or_create(org_id=org_id)
    list(OrgBilling.objects.select_for_update().filter(org_id=org_id).values_list("pk"))
    return OrgBilling.objects.select_related("plan", "granted_plan").get(org_id=org_id)


def _plans_joined(billing: OrgBilling) -> bool:
    """Whether the plans loaded with `billing` are the ones its row names."""
    granted = billing.granted_plan
    return billing.plan.pk == billing.plan_id and (
        (granted.pk if granted is not None else None) == billing.granted_plan_id
    )


def billing_plan_grant(*, org_id: int, plan_code: str | None, caller: Caller) -> OrgBilling:
    """Give the org a plan without a subscription (an operator's decision: the demo org, a
    partner), or take the grant back with None. The grant applies while no subscription gives
    a higher plan, and is never billed. Audited."""
    plan = None if plan_code is None else plan_get(code=plan_code)
    if plan is not None and plan.code == FREE_PLAN:
        plan = None  # every org has Free
    with transaction.atomic():
        billing = billing_account_lock(org_id=org_id)
        before = billing.granted_plan.code if billing.granted_plan else None
        after = plan.code if plan else None
        if before != after:
            billing.granted_plan = plan
            billing.save(update_fields=["granted_plan", "updated_at"])
            audit_record(
                org_id=org_id, actor=caller.actor, action="billing.plan_granted",
                target_type="org_billing", target_id=org_id,
                before={"granted_plan": before}, after={"granted_plan": after},
            )  # fmt: skip
            transaction.on_commit(lambda: plans_in_force_forget(org_id=org_id))
    return billing_account_get_or_create(org_id=org_id)


# ------------------------------------------------------------------------------ usage, quota


_USAGE_INSERT_SQL = f"""INSERT INTO {UsageRecord._meta.db_table} (org_id, task_id, period_start,
    created_at) VALUES (%s, %s, %s, %s) ON CONFLICT (task_id) DO NOTHING RETURNING id"""  # noqa: S608


def usage_reserve(*, org_id: int, task_id: uuid.UUID) -> UsageRecord:
    """Count one task against the org's quota for the current period, inside the caller's
    transaction (task submission; the lock refuses to run outside one), or raise
    PlanQuotaExceeded and write nothing. No savepoint of its own: a refusal comes before any
    write, and a savepoint would cost two round trips a task.

    The org's billing row stays locked until the caller commits, so concurrent submissions at
    the limit cannot both pass. Calling it again for the same task returns the first record."""
    billing = billing_account_lock(org_id=org_id)
    now = timezone.now()
    # Free is the row's own plan until a subscription changes it (a grant does not): no query.
    free = billing.plan if billing.plan.code == FREE_PLAN else plan_free()
    entitlement = entitlement_of(billing, free=free, now=now)
    if not entitlement.can_submit:
        existing = UsageRecord.objects.filter(task_id=task_id, org_id=org_id).first()
        if existing is not None:
            return existing
        overdue = entitlement.status == SubscriptionStatus.PAST_DUE and (
            entitlement.grace_ends_at is not None and now >= entitlement.grace_ends_at
        )
        raise PlanQuotaExceeded(
            detail=entitlement.restriction,
            problem=ProblemType.PAYMENT_OVERDUE if overdue else ProblemType.QUOTA_EXCEEDED,
            plan=entitlement.plan.code,
            used=entitlement.used,
            limit=entitlement.quota,
        )
    # A task is counted once: a second call for it inserts nothing and returns the first record.
    inserted = fixed_fetch(_USAGE_INSERT_SQL, [org_id, task_id, entitlement.period_start, now])
    if inserted is None:
        return UsageRecord.objects.get(task_id=task_id, org_id=org_id)
    record = UsageRecord(
        id=inserted[0], org_id=org_id, task_id=task_id, period_start=entitlement.period_start,
        created_at=now,
    )  # fmt: skip
    record._state.adding = False
    record._state.db = connection.alias
    # Only a subscription is billed by use: a granted plan's usage is reported to no meter.
    if entitlement.plan.is_metered and entitlement.source == "subscription":
        MeterOutbox.objects.create(org_id=org_id, identifier=f"task-{task_id}", quantity=1)
    return record


# ------------------------------------------------------------------------------ AI allowance


@dataclass(frozen=True)
class AIReservation:
    """AI calls reserved against an org's allowance, to be settled once they are made."""

    org_id: int
    period_start: datetime
    calls: int


# The allowance and its period, as `plan_in_force` and `usage_period_start` decide them, worked
# out by Postgres in the statement that reserves (a scoring job pays one statement, not three;
# tests/test_ai_rules.py holds the two to the same answers over every status, plan and grant).
_RESERVE_SQL = f"""
WITH free AS (
    SELECT monthly_ai_calls AS calls_limit, sort_order FROM {Plan._meta.db_table}
    WHERE code = %(free)s
), account AS (
    SELECT b.status = ANY(%(paid)s::text[]) AS paid,
           b.current_period_start AS starts, b.current_period_end AS ends,
           p.monthly_ai_calls AS plan_limit, p.sort_order AS plan_order,
           g.monthly_ai_calls AS grant_limit, g.sort_order AS grant_order
    FROM {OrgBilling._meta.db_table} AS b
    JOIN {Plan._meta.db_table} AS p ON p.id = b.plan_id
    LEFT JOIN {Plan._meta.db_table} AS g ON g.id = b.granted_plan_id
    WHERE b.org_id = %(org)s
), base AS (
    SELECT coalesce(a.paid, false) AS paid, a.starts, a.ends, a.grant_limit, a.grant_order,
           CASE WHEN a.paid THEN a.plan_limit ELSE f.calls_limit END AS calls_limit,
           CASE WHEN a.paid THEN a.plan_order ELSE f.sort_order END AS sort_order
    FROM free AS f LEFT JOIN account AS a ON true
), allowance AS (
    SELECT
        CASE WHEN grant_order > sort_order THEN grant_limit ELSE calls_limit END AS calls_limit,
        CASE WHEN paid AND starts <= %(now)s AND %(now)s < ends THEN starts
             ELSE date_trunc('month', %(now)s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        END AS period_start
    FROM base
)
INSERT INTO {AIUsage._meta.db_table} AS u (org_id, period_start, calls, cost_usd, updated_at)
SELECT %(org)s, period_start, %(calls)s, 0, %(now)s FROM allowance
WHERE calls_limit IS NULL OR %(calls)s <= calls_limit
ON CONFLICT (org_id, period_start) DO UPDATE
SET calls = u.calls + EXCLUDED.calls, updated_at = EXCLUDED.updated_at
WHERE (SELECT calls_limit FROM allowance) IS NULL
   OR u.calls + EXCLUDED.calls <= (SELECT calls_limit FROM allowance)
RETURNING period_start
"""  # noqa: S608 - table names are the models', not input
_PAID = sorted(status.value for status in PAID_STATUSES)


def ai_calls_reserve(*, org_id: int, calls: int) -> AIReservation | None:
    """Reserve `calls` AI calls in the org's current period, or None when its plan's monthly
    allowance cannot cover them all (nothing is reserved then).

    One statement: it finds the plan in force and the period (as `plan_in_force` and
    `usage_period_start`), then inserts or conditionally updates the org's usage row; on a
    conflict Postgres locks the row and re-checks the condition on its newest version, so
    concurrent reservations at the limit cannot both pass. Commits on its own (autocommit)
    unless the caller holds a transaction."""
    if calls <= 0:
        period_start = usage_period_start(billing_account_of(org_id=org_id))
        return AIReservation(org_id=org_id, period_start=period_start, calls=0)
    row = fixed_fetch(
        _RESERVE_SQL,
        {"org": org_id, "calls": calls, "now": timezone.now(), "free": FREE_PLAN,
         "paid": _PAID},
    )  # fmt: skip
    if row is None:
        return None
    return AIReservation(org_id=org_id, period_start=row[0], calls=calls)


def ai_calls_settle(*, reservation: AIReservation, used: int, cost_usd: Decimal) -> None:
    """Give back the reserved calls that were not made (cache hits, failures) and add the cost
    of the ones that were."""
    unused = max(0, reservation.calls - used)
    if unused == 0 and not cost_usd:
        return
    # A fixed statement (core.db.fixed_fetch): with a priced provider every call made settles
    # its cost here, and the ORM's update cost a job ~2M CPU instructions more (4.65M → 2.60M a
    # job, `make bench-instructions` with AI_PRICE_* set).
    fixed_fetch(
        _SETTLE_SQL,
        {"unused": unused, "cost": cost_usd, "now": timezone.now(), "org": reservation.org_id,
         "period": reservation.period_start},
    )  # fmt: skip


_SETTLE_SQL = f"""
UPDATE {AIUsage._meta.db_table}
SET calls = GREATEST(calls - %(unused)s::integer, 0), cost_usd = cost_usd + %(cost)s::numeric,
    updated_at = %(now)s
WHERE org_id = %(org)s AND period_start = %(period)s
RETURNING 1
"""  # noqa: S608 - the table name is the model's, not input


def ai_calls_require(*, org_id: int, calls: int) -> AIAllowance:
    """The org's allowance if it covers `calls` more AI calls this period; else AIBudgetExceeded
    (a preview or a re-score of many tasks is refused before it starts)."""
    allowance = ai_allowance(org_id=org_id)
    if not allowance.covers(calls):
        raise AIBudgetExceeded(
            detail=f"This needs up to {calls} AI calls; the {allowance.plan.name} plan allows "
            f"{allowance.limit} a month and {allowance.calls} are used "
            f"({allowance.remaining} left). Raise the plan or wait for the next period.",
            plan=allowance.plan.code,
            used=allowance.calls,
            limit=allowance.limit,
            needed=calls,
        )
    return allowance


def meter_outbox_flush(*, limit: int = 500) -> int:
    """Report pending metered usage to Stripe; returns how many rows were sent. Safe to run
    concurrently: a row sent twice carries the same identifier, which Stripe dedupes."""
    pending = list(
        MeterOutbox.objects.filter(sent_at__isnull=True).order_by("created_at", "id")[:limit]
    )
    if not pending:
        return 0
    customers = dict(
        OrgBilling.objects.filter(org_id__in={row.org_id for row in pending}).values_list(
            "org_id", "stripe_customer_id"
        )
    )
    client = stripe_client_get()
    sent = 0
    for row in pending:
        customer = customers.get(row.org_id)
        if not customer:
            continue  # reported once the org has a Stripe customer
        try:
            client.meter_event_create(
                event_name=settings.STRIPE_METER_EVENT_NAME,
                customer=customer,
                value=row.quantity,
                identifier=row.identifier,
                timestamp=int(row.created_at.timestamp()),
            )
        except (RetryableStripeError, PermanentStripeError) as exc:
            MeterOutbox.objects.filter(pk=row.pk).update(
                attempts=F("attempts") + 1, last_error=str(exc)[:2000]
            )
            if isinstance(exc, RetryableStripeError):
                break  # Stripe is unreachable; the next run retries from here
            continue
        MeterOutbox.objects.filter(pk=row.pk, sent_at__isnull=True).update(
            sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
        sent += 1
    return sent


# ------------------------------------------------------------------- Checkout and the portal


@contextmanager
def _stripe_errors() -> Iterator[None]:
    try:
        yield
    # The answer is in our words; Stripe's own text (ids, parameters, hosts) is logged only.
    except RetryableStripeError as exc:
        logger.warning("Stripe did not answer: %s", exc)
        raise StripeUnavailable(detail="Stripe did not answer; try again shortly.") from exc
    except PermanentStripeError as exc:
        logger.error("Stripe refused a request: %s", exc)
        raise StripeRefused(detail="Stripe refused the request; it has been logged.") from exc


def billing_customer_ensure(*, org_id: int, actor: Actor) -> str:
    """The org's Stripe customer id, creating the customer once. The only place an org is linked
    to a customer: webhooks find the org by its customer and never link one (events.py).

    The call to Stripe happens outside any lock (task submissions and webhooks lock the same
    row and must not wait on Stripe); concurrent callers send the same Idempotency-Key (from the
    org id), so Stripe answers them all with one customer, saved once under the lock."""
    billing = billing_account_of(org_id=org_id)  # writes nothing until Stripe has answered
    if billing.stripe_customer_id:
        return billing.stripe_customer_id
    org = Organization.objects.get(pk=org_id)
    with _stripe_errors():
        customer = stripe_client_get().customer_create(
            name=org.name,
            metadata={"org_id": str(org.pk), "org_slug": org.slug},
            idempotency_key=f"taskscore-org-{org.pk}-customer",
        )
    with transaction.atomic():
        billing = billing_account_lock(org_id=org_id)
        if billing.stripe_customer_id:
            return billing.stripe_customer_id
        billing.stripe_customer_id = str(customer["id"])
        billing.save(update_fields=["stripe_customer_id", "updated_at"])
        audit_record(
            org_id=org_id, actor=actor, action="billing.customer_created",
            target_type="org_billing", target_id=org_id,
            after={"stripe_customer_id": billing.stripe_customer_id},
        )  # fmt: skip
        return billing.stripe_customer_id


def _return_url(org_id: int) -> str:
    slug = Organization.objects.values_list("slug", flat=True).get(pk=org_id)
    return str(settings.BILLING_RETURN_URL).format(org=slug)


def billing_checkout_start(
    *, org_id: int, plan_code: str, actor: Actor, idempotency_key: str = ""
) -> str:
    """The URL of a Stripe Checkout session (subscription mode) for `plan_code`, with the plan's
    free trial when it offers one and the org has not had its trial. The session is recorded for
    the org, so that its completion is tied to this org (never to an event's metadata alone).

    When Stripe fails nothing is written, unless the customer was created before the failure
    (it is kept: the next attempt reuses it)."""
    plan = plan_get(code=plan_code)
    if plan.code == FREE_PLAN or not plan.stripe_price_id:
        raise ValidationFailed(
            detail="This plan needs no checkout.",
            errors=[FieldError("plan", "Choose a paid plan.")],
        )
    if billing_account_of(org_id=org_id).status in LIVE_STATUSES:
        raise Conflict(detail="The org already has a subscription; change it in the portal.")
    trial_days = trial_days_for(plan, used=trial_used(org_id=org_id))
    customer = billing_customer_ensure(org_id=org_id, actor=actor)
    return_url = _return_url(org_id)
    separator = "&" if "?" in return_url else "?"
    action = f"checkout-{plan.code}" + (f"-trial{trial_days}" if trial_days else "")
    with _stripe_errors():
        session = stripe_client_get().checkout_session_create(
            customer=customer,
            price=plan.stripe_price_id,
            is_metered=plan.is_metered,
            success_url=f"{return_url}{separator}checkout=success",
            cancel_url=f"{return_url}{separator}checkout=canceled",
            client_reference_id=str(org_id),
            metadata={"org_id": str(org_id), "plan": plan.code},
            trial_period_days=trial_days,
            idempotency_key=_write_key(org_id, action, idempotency_key),
        )
    # A replayed session (same Idempotency-Key) is recorded once.
    CheckoutSession.objects.bulk_create(
        [
            CheckoutSession(
                org_id=org_id,
                stripe_session_id=str(session["id"]),
                plan=plan,
                trial_days=trial_days,
            )
        ],
        ignore_conflicts=True,
    )
    return str(session["url"])


def billing_portal_start(*, org_id: int, actor: Actor, idempotency_key: str = "") -> str:
    """The URL of a Stripe customer-portal session for the org."""
    customer = billing_customer_ensure(org_id=org_id, actor=actor)
    with _stripe_errors():
        session = stripe_client_get().portal_session_create(
            customer=customer,
            return_url=_return_url(org_id),
            idempotency_key=_write_key(org_id, "portal", idempotency_key),
        )
    return str(session["url"])


def _write_key(org_id: int, action: str, client_key: str) -> str:
    """The client's Idempotency-Key scoped to the org and action. Without one, checkout uses a
    key per org, action and UTC day: a double click (or two admins at once) gets the same
    Checkout session from Stripe instead of two, which could become two subscriptions. Portal
    sessions are harmless to repeat and get a fresh key (still safe for the SDK's retries)."""
    if not client_key:
        is_checkout = action.startswith("checkout")
        client_key = timezone.now().strftime("%Y%m%d") if is_checkout else uuid.uuid4().hex
    return f"taskscore-org-{org_id}-{action}-{client_key}"[:255]


# ------------------------------------------------------------------- closing the account

# Stripe statuses of a subscription that can still charge (or become able to).
_ENDED_STATUSES = frozenset({SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED})


def billing_stripe_close(*, org_id: int) -> list[str]:
    """Stop everything that could still charge the org at Stripe, before the org is deleted: its
    customer's open Checkout sessions are expired (none can be completed afterwards) and every
    subscription not ended yet is canceled now. Returns the canceled subscriptions' ids.

    Idempotent (each write has a key from the object's id; an object already ended is skipped),
    so a job may call it again after any failure. Raises StripeUnavailable (try again later) or
    StripeRefused; an org that never had a customer makes no call."""
    billing = OrgBilling.objects.filter(org_id=org_id).only("stripe_customer_id").first()
    customer = billing.stripe_customer_id if billing is not None else None
    if not customer:
        return []
    client = stripe_client_get()
    canceled: list[str] = []
    with _stripe_errors():
        for session in client.checkout_sessions_open(customer):
            session_id = str(session["id"])
            try:
                client.checkout_session_expire(
                    session_id, idempotency_key=f"taskscore-org-{org_id}-close-{session_id}"
                )
            except PermanentStripeError:
                logger.info("checkout session %s could not be expired (completed or expired)",
                            session_id)  # fmt: skip
        for subscription in client.subscriptions_for_customer(customer):
            if subscription.get("status") in _ENDED_STATUSES:
                continue
            subscription_id = str(subscription["id"])
            client.subscription_cancel(
                subscription_id, idempotency_key=f"taskscore-org-{org_id}-close-{subscription_id}"
            )
            canceled.append(subscription_id)
    return canceled


def stripe_events_forget(*, customer: str) -> int:
    """Delete the stored Stripe events about `customer` (the customer's own, and its objects':
    subscriptions, invoices, sessions), e.g. a deleted org's; returns how many. One scan of the
    events' JSON: for rare operations only."""
    if not customer:
        return 0
    deleted, _ = StripeEvent.objects.filter(
        Q(payload__data__object__id=customer) | Q(payload__data__object__customer=customer)
    ).delete()
    return deleted
