"""Reads of billing state: plans, an org's entitlement (plan, quota, usage) and its invoices."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from taskscore.billing.models import (
    AIUsage,
    Invoice,
    OrgBilling,
    Plan,
    SubscriptionStatus,
    UsageRecord,
)
from taskscore.core.errors import NotFound

FREE_PLAN = "free"

# Statuses under which the subscribed plan applies (past_due only within the grace period).
PAID_STATUSES = frozenset(
    {SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE}
)


def plan_get(*, code: str) -> Plan:
    plan = Plan.objects.filter(code=code, is_active=True).first()
    if plan is None:
        raise NotFound(detail=f"No such plan: {code!r}.")
    return plan


def plan_free() -> Plan:
    return Plan.objects.get(code=FREE_PLAN)


def plan_for_price(*, price_id: str) -> Plan | None:
    if not price_id:
        return None
    return Plan.objects.filter(stripe_price_id=price_id).first()


def plans_list() -> list[Plan]:
    return list(Plan.objects.filter(is_active=True))


def _month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def usage_period_start(billing: OrgBilling, *, now: datetime | None = None) -> datetime:
    """The start of the period usage counts against: the subscription's current period while it
    is paid and not over, otherwise the calendar month (UTC)."""
    now = now or timezone.now()
    if (
        billing.status in PAID_STATUSES
        and billing.current_period_start is not None
        and billing.current_period_end is not None
        and billing.current_period_start <= now < billing.current_period_end
    ):
        return billing.current_period_start
    return _month_start(now)


def usage_count(*, org_id: int, period_start: datetime) -> int:
    return UsageRecord.objects.filter(org_id=org_id, period_start=period_start).count()


@dataclass(frozen=True)
class Entitlement:
    plan: Plan  # the plan in force (Free unless a paid subscription grants more)
    subscribed_plan: Plan  # the plan of the subscription, whatever its status
    status: str
    quota: int | None  # None: unlimited
    used: int
    period_start: datetime
    can_submit: bool
    restriction: str  # why submissions are refused, or ""
    grace_ends_at: datetime | None


def entitlement_of(billing: OrgBilling, *, free: Plan, now: datetime | None = None) -> Entitlement:
    """What `billing` (already loaded, possibly locked) entitles its org to right now."""
    now = now or timezone.now()
    status = billing.status
    plan = billing.plan if status in PAID_STATUSES else free
    restriction = ""
    grace_ends_at = None
    if status == SubscriptionStatus.PAST_DUE:
        since = billing.past_due_since or billing.current_period_start or now
        grace_ends_at = since + timedelta(days=settings.BILLING_GRACE_DAYS)
        if now >= grace_ends_at:
            restriction = (
                f"The payment for the {billing.plan.name} plan is overdue since "
                f"{since:%Y-%m-%d}; update the payment method to submit tasks again."
            )
    period_start = usage_period_start(billing, now=now)
    used = usage_count(org_id=billing.org_id, period_start=period_start)
    quota = plan.monthly_task_quota
    if not restriction and quota is not None and used >= quota:
        restriction = f"The {plan.name} plan allows {quota} tasks a month; {used} are used."
    return Entitlement(
        plan=plan,
        subscribed_plan=billing.plan,
        status=status,
        quota=quota,
        used=used,
        period_start=period_start,
        can_submit=not restriction,
        restriction=restriction,
        grace_ends_at=grace_ends_at,
    )


def billing_entitlement(*, org_id: int) -> Entitlement:
    """The org's plan in force, quota, usage this period, and whether it may submit a task."""
    free = plan_free()
    billing = billing_account_of(org_id=org_id, free=free)
    return entitlement_of(billing, free=free)


def billing_account_of(*, org_id: int, free: Plan | None = None) -> OrgBilling:
    """The org's billing row; an unsaved Free one when none was created yet (reads never write)."""
    billing = OrgBilling.objects.select_related("plan").filter(org_id=org_id).first()
    if billing is None:
        billing = OrgBilling(org_id=org_id, plan=free or plan_free())
    return billing


def invoices_recent(*, org_id: int, limit: int = 10) -> list[Invoice]:
    return list(Invoice.objects.filter(org_id=org_id).order_by("-created", "-id")[:limit])


@dataclass(frozen=True)
class BillingOverview:
    entitlement: Entitlement
    current_period_end: datetime | None
    cancel_at_period_end: bool
    invoices: list[Invoice]
    plans: list[Plan]


def billing_overview(*, org_id: int) -> BillingOverview:
    """Everything the billing page shows."""
    free = plan_free()
    billing = billing_account_of(org_id=org_id, free=free)
    return BillingOverview(
        entitlement=entitlement_of(billing, free=free),
        current_period_end=billing.current_period_end,
        cancel_at_period_end=billing.cancel_at_period_end,
        invoices=invoices_recent(org_id=org_id),
        plans=plans_list(),
    )


_RATE_LIMITS_TTL_SECONDS = 60.0
_rate_limits: dict[int, tuple[float, tuple[int, int]]] = {}


def plan_rate_limits(*, org_id: int) -> tuple[int, int]:
    """(per caller, per org) API requests a minute under the org's current plan.

    Kept in process memory for a minute: a plan change reaches the limits within that time, and
    the request path pays no query."""
    now = time.monotonic()
    cached = _rate_limits.get(org_id)
    if cached is not None and now - cached[0] < _RATE_LIMITS_TTL_SECONDS:
        return cached[1]
    plan = billing_entitlement(org_id=org_id).plan
    limits = (plan.api_requests_per_caller_per_minute, plan.api_requests_per_minute)
    if len(_rate_limits) > 10_000:
        _rate_limits.clear()
    _rate_limits[org_id] = (now, limits)
    return limits


def plan_rate_limits_forget() -> None:
    """Drop the in-process copy (tests; after changing a plan's limits)."""
    _rate_limits.clear()


@dataclass(frozen=True)
class AIAllowance:
    """An org's AI calls this period against its plan's monthly allowance."""

    plan: Plan
    period_start: datetime
    calls: int
    cost_usd: float
    limit: int | None  # None: unlimited

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.calls)

    def covers(self, calls: int) -> bool:
        return self.limit is None or self.calls + calls <= self.limit


def ai_allowance_of(billing: OrgBilling, *, free: Plan, now: datetime | None = None) -> AIAllowance:
    plan = billing.plan if billing.status in PAID_STATUSES else free
    period_start = usage_period_start(billing, now=now)
    usage = AIUsage.objects.filter(org_id=billing.org_id, period_start=period_start).first()
    return AIAllowance(
        plan=plan,
        period_start=period_start,
        calls=usage.calls if usage else 0,
        cost_usd=float(usage.cost_usd) if usage else 0.0,
        limit=plan.monthly_ai_calls,
    )


def ai_allowance(*, org_id: int) -> AIAllowance:
    """The org's AI calls used this period and its plan's allowance."""
    free = plan_free()
    return ai_allowance_of(billing_account_of(org_id=org_id, free=free), free=free)
