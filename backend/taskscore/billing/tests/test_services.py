"""Usage reservation against the quota, entitlements by subscription status, and the outbox."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from taskscore.billing.errors import PlanQuotaExceeded
from taskscore.billing.models import MeterOutbox, OrgBilling, Plan, UsageRecord
from taskscore.billing.selectors import billing_entitlement
from taskscore.billing.services import (
    billing_account_get_or_create,
    plans_seed,
    usage_reserve,
)
from taskscore.orgs.models import Organization

pytestmark = pytest.mark.django_db


def _set(org: Organization, **fields: object) -> OrgBilling:
    billing = billing_account_get_or_create(org_id=org.pk)
    for name, value in fields.items():
        setattr(billing, name, value)
    billing.save()
    return billing


def _fill(org: Organization, count: int) -> None:
    period = billing_entitlement(org_id=org.pk).period_start
    UsageRecord.objects.bulk_create(
        [UsageRecord(org=org, task_id=uuid.uuid4(), period_start=period) for _ in range(count)]
    )


def test_every_org_starts_on_free_with_the_free_quota(org: Organization) -> None:
    entitlement = billing_entitlement(org_id=org.pk)
    assert (entitlement.plan.code, entitlement.status, entitlement.quota, entitlement.used) == (
        "free", "none", 100, 0
    )  # fmt: skip
    assert entitlement.can_submit
    assert not OrgBilling.objects.exists()  # reading writes nothing


def test_reserve_counts_one_task_once(org: Organization) -> None:
    task_id = uuid.uuid4()
    first = usage_reserve(org_id=org.pk, task_id=task_id)
    again = usage_reserve(org_id=org.pk, task_id=task_id)
    assert first.pk == again.pk
    assert billing_entitlement(org_id=org.pk).used == 1


def test_over_quota_raises_naming_plan_used_and_limit_and_writes_nothing(
    org: Organization,
) -> None:
    _fill(org, 100)
    with pytest.raises(PlanQuotaExceeded) as caught:
        usage_reserve(org_id=org.pk, task_id=uuid.uuid4())
    error = caught.value
    assert (error.status, error.problem, error.plan, error.used, error.limit) == (
        402, "quota-exceeded", "free", 100, 100
    )  # fmt: skip
    assert error.problem_extra() == {"plan": "free", "used": 100, "limit": 100}
    assert error.detail == "The Free plan allows 100 tasks a month; 100 are used."
    assert UsageRecord.objects.count() == 100


def test_active_pro_has_the_pro_quota_over_its_period(org: Organization) -> None:
    now = timezone.now()
    _set(
        org,
        plan=Plan.objects.get(code="pro"),
        status="active",
        current_period_start=now - timedelta(days=3),
        current_period_end=now + timedelta(days=27),
    )
    _fill(org, 150)
    entitlement = billing_entitlement(org_id=org.pk)
    assert (entitlement.plan.code, entitlement.quota, entitlement.used) == ("pro", 5000, 150)
    assert entitlement.period_start == now - timedelta(days=3)
    usage_reserve(org_id=org.pk, task_id=uuid.uuid4())


@override_settings(BILLING_GRACE_DAYS=7)
def test_past_due_keeps_access_for_the_grace_period_then_refuses(org: Organization) -> None:
    now = timezone.now()
    pro = Plan.objects.get(code="pro")
    _set(
        org, plan=pro, status="past_due", past_due_since=now - timedelta(days=6),
        current_period_start=now - timedelta(days=6), current_period_end=now + timedelta(days=24),
    )  # fmt: skip
    assert billing_entitlement(org_id=org.pk).plan.code == "pro"
    usage_reserve(org_id=org.pk, task_id=uuid.uuid4())

    _set(org, past_due_since=now - timedelta(days=8))
    entitlement = billing_entitlement(org_id=org.pk)
    assert not entitlement.can_submit
    with pytest.raises(PlanQuotaExceeded) as caught:
        usage_reserve(org_id=org.pk, task_id=uuid.uuid4())
    assert (caught.value.problem, caught.value.plan) == ("payment-overdue", "pro")
    assert UsageRecord.objects.count() == 1


@pytest.mark.parametrize("status", ["canceled", "unpaid", "incomplete", "incomplete_expired"])
def test_a_subscription_that_is_not_paid_falls_back_to_free(org: Organization, status: str) -> None:
    _set(org, plan=Plan.objects.get(code="pro"), status=status)
    entitlement = billing_entitlement(org_id=org.pk)
    assert (entitlement.plan.code, entitlement.quota) == ("free", 100)


def test_metered_plan_is_unlimited_and_queues_a_meter_event_per_task(org: Organization) -> None:
    now = timezone.now()
    _set(
        org, plan=Plan.objects.get(code="business"), status="active",
        stripe_customer_id="cus_metered",
        current_period_start=now - timedelta(days=1), current_period_end=now + timedelta(days=29),
    )  # fmt: skip
    task_id = uuid.uuid4()
    usage_reserve(org_id=org.pk, task_id=task_id)
    usage_reserve(org_id=org.pk, task_id=task_id)
    assert billing_entitlement(org_id=org.pk).quota is None
    assert list(MeterOutbox.objects.values_list("identifier", "quantity")) == [
        (f"task-{task_id}", 1)
    ]


def test_plans_seed_is_idempotent() -> None:
    plans_seed()
    plans_seed()
    assert list(Plan.objects.values_list("code", "monthly_task_quota", "is_metered")) == [
        ("free", 100, False), ("pro", 5000, False), ("business", None, True)
    ]  # fmt: skip
