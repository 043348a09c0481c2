"""Reads of billing state: plans, an org's entitlement (plan in force, its paid features, quota,
usage), trials and invoices."""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from taskscore.billing.errors import PlanFeatureRequired
from taskscore.billing.features import FEATURE_LABELS, Feature
from taskscore.billing.models import (
    AIUsage,
    CheckoutSession,
    Invoice,
    OrgBilling,
    Plan,
    Subscription,
    SubscriptionStatus,
    UsageCount,
)
from taskscore.core.db import fixed_fetch
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


def plan_features(plan: Plan) -> frozenset[Feature]:
    """The paid features `plan` includes (values no longer in the catalog are left out)."""
    known = {feature.value for feature in Feature}
    return frozenset(Feature(value) for value in plan.entitlements or [] if value in known)


def plan_cheapest_with(*, feature: Feature) -> Plan | None:
    """The lowest active plan that includes `feature` (what an upgrade for it needs)."""
    return next((plan for plan in plans_list() if feature in plan_features(plan)), None)


PlanSource = Literal["free", "subscription", "grant"]


def plan_in_force(billing: OrgBilling, *, free: Plan) -> tuple[Plan, PlanSource]:
    """The plan that applies to the org now, and where it comes from: the subscription's plan
    while the subscription is live (active, trialing, or past_due), else Free; a plan an
    operator granted instead when it is higher."""
    plan: Plan = free
    source: PlanSource = "free"
    if billing.status in PAID_STATUSES:
        plan, source = billing.plan, "subscription"
    granted = billing.granted_plan
    if granted is not None and granted.sort_order > plan.sort_order:
        return granted, "grant"
    return plan, source


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
    """The org's UsageRecords in the period, from the count Postgres keeps with them (one row,
    however many records: `UsageCount`)."""
    # One row at most (unique per org and period); every submission reads it: SQL built once.
    row = fixed_fetch(_usage_count_sql(), [org_id, period_start])
    return 0 if row is None else int(row[0])


@functools.cache
def _usage_count_sql() -> str:
    table = UsageCount._meta.db_table
    return f"SELECT tasks FROM {table} WHERE org_id = %s AND period_start = %s"  # noqa: S608


@dataclass(frozen=True)
class Entitlement:
    plan: Plan  # the plan in force (Free unless a paid subscription or a grant gives more)
    source: PlanSource  # where the plan in force comes from
    subscribed_plan: Plan  # the plan of the subscription, whatever its status
    features: frozenset[Feature]  # the paid features of the plan in force
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
    plan, source = plan_in_force(billing, free=free)
    restriction = ""
    grace_ends_at = None
    if status == SubscriptionStatus.PAST_DUE:
        since = billing.past_due_since or billing.current_period_start or now
        grace_ends_at = since + timedelta(days=settings.BILLING_GRACE_DAYS)
        if now >= grace_ends_at and source == "subscription":
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
        source=source,
        subscribed_plan=billing.plan,
        features=plan_features(plan),
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
    billing = (
        OrgBilling.objects.select_related("plan", "granted_plan").filter(org_id=org_id).first()
    )
    if billing is None:
        billing = OrgBilling(org_id=org_id, plan=free or plan_free())
    return billing


def invoices_recent(*, org_id: int, limit: int = 10) -> list[Invoice]:
    return list(Invoice.objects.filter(org_id=org_id).order_by("-created", "-id")[:limit])


def trial_used(*, org_id: int) -> bool:
    """Whether the org has had its one trial: a subscription of it that trialed, or a completed
    Checkout that started one (its subscription's events may not have arrived yet)."""
    trialed = Subscription.objects.filter(org_id=org_id).filter(
        Q(trial_end__isnull=False) | Q(status=SubscriptionStatus.TRIALING)
    )
    completed_with_trial = CheckoutSession.objects.filter(
        org_id=org_id, trial_days__gt=0, completed_at__isnull=False
    )
    return trialed.exists() or completed_with_trial.exists()


def trial_days_for(plan: Plan, *, used: bool) -> int:
    """The free days a Checkout of `plan` starts with for an org (`used`: it had its trial)."""
    return int(settings.STRIPE_TRIAL_DAYS) if plan.offers_trial and not used else 0


@dataclass(frozen=True)
class BillingOverview:
    entitlement: Entitlement
    granted_plan: Plan | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    trial_end: datetime | None  # while trialing
    grace_days_left: int | None  # while past_due: whole days until submissions stop
    can_checkout: bool  # no live subscription: a paid plan starts through Checkout
    trial_used: bool
    ai: AIAllowance
    invoices: list[Invoice]
    plans: list[Plan]
    upgrades: list[Plan]  # paid plans above the plan in force


def billing_overview(*, org_id: int) -> BillingOverview:
    """Everything the billing page shows, from the database alone (Stripe may be down)."""
    free = plan_free()
    billing = billing_account_of(org_id=org_id, free=free)
    now = timezone.now()
    entitlement = entitlement_of(billing, free=free, now=now)
    grace_days_left = None
    if entitlement.grace_ends_at is not None:
        seconds = (entitlement.grace_ends_at - now).total_seconds()
        grace_days_left = max(0, math.ceil(seconds / 86400))
    plans = plans_list()
    return BillingOverview(
        entitlement=entitlement,
        granted_plan=billing.granted_plan,
        current_period_end=billing.current_period_end,
        cancel_at_period_end=billing.cancel_at_period_end,
        trial_end=billing.trial_end if billing.status == SubscriptionStatus.TRIALING else None,
        grace_days_left=grace_days_left,
        can_checkout=billing.status not in PAID_STATUSES,
        trial_used=trial_used(org_id=org_id),
        ai=ai_allowance_of(billing, free=free, now=now),
        invoices=invoices_recent(org_id=org_id),
        plans=plans,
        upgrades=[
            plan
            for plan in plans
            if plan.sort_order > entitlement.plan.sort_order and plan.stripe_price_id
        ],
    )


# ------------------------------------------------------------- the plan in force, per process


@dataclass(frozen=True)
class PlanInForce:
    """What the request path needs of an org's plan in force (kept in process memory)."""

    code: str
    name: str
    features: frozenset[Feature]
    requests_per_caller_per_minute: int
    requests_per_minute: int


_PLAN_IN_FORCE_TTL_SECONDS = 60.0
_plans_in_force: dict[int, tuple[float, PlanInForce]] = {}


def _plan_in_force_load(org_id: int) -> PlanInForce:
    free = plan_free()
    plan, _ = plan_in_force(billing_account_of(org_id=org_id, free=free), free=free)
    loaded = PlanInForce(
        code=plan.code,
        name=plan.name,
        features=plan_features(plan),
        requests_per_caller_per_minute=plan.api_requests_per_caller_per_minute,
        requests_per_minute=plan.api_requests_per_minute,
    )
    if len(_plans_in_force) > 10_000:
        _plans_in_force.clear()
    _plans_in_force[org_id] = (time.monotonic(), loaded)
    return loaded


def plan_in_force_cached(*, org_id: int) -> PlanInForce:
    """The org's plan in force, kept in process memory for a minute: the request path pays no
    query, and a plan change reaches every process within that time (at once in the process
    that applied it: `plans_in_force_forget`)."""
    cached = _plans_in_force.get(org_id)
    if cached is not None and time.monotonic() - cached[0] < _PLAN_IN_FORCE_TTL_SECONDS:
        return cached[1]
    return _plan_in_force_load(org_id)


def plans_in_force_forget(*, org_id: int | None = None) -> None:
    """Drop this process's copy of an org's plan in force (every org's with no id)."""
    if org_id is None:
        _plans_in_force.clear()
    else:
        _plans_in_force.pop(org_id, None)


def plan_rate_limits(*, org_id: int) -> tuple[int, int]:
    """(per caller, per org) API requests a minute under the org's current plan."""
    plan = plan_in_force_cached(org_id=org_id)
    return plan.requests_per_caller_per_minute, plan.requests_per_minute


def org_feature_require(*, org_id: int, feature: Feature, detail: str = "") -> None:
    """Nothing if the org's plan in force includes `feature`; else PlanFeatureRequired (402)
    naming the feature, the plan in force and the cheapest plan that includes it.

    A copy from process memory may only allow: a refusal is first confirmed from Postgres, so
    an upgrade counts on the very next request (a downgrade within a minute)."""
    if feature in plan_in_force_cached(org_id=org_id).features:
        return
    current = _plan_in_force_load(org_id)
    if feature in current.features:
        return
    required = plan_cheapest_with(feature=feature)
    label = FEATURE_LABELS[feature]
    if not detail:
        detail = f'The {current.name} plan does not include "{label}"' + (
            f"; upgrade to {required.name} to use it." if required else "."
        )
    raise PlanFeatureRequired(
        detail=detail,
        feature=feature.value,
        plan=current.code,
        required_plan=required.code if required else None,
    )


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
    plan, _ = plan_in_force(billing, free=free)
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
