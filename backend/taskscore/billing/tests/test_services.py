"""Usage reservation against the quota, entitlements by subscription status, and the outbox."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from taskscore.audit.models import AuditEvent
from taskscore.billing.errors import PlanFeatureRequired, PlanQuotaExceeded
from taskscore.billing.features import Feature
from taskscore.billing.models import MeterOutbox, OrgBilling, Plan, UsageRecord
from taskscore.billing.selectors import (
    billing_entitlement,
    org_feature_require,
    plan_in_force_cached,
    plans_in_force_forget,
)
from taskscore.billing.services import (
    billing_account_get_or_create,
    billing_account_lock,
    billing_plan_grant,
    plans_seed,
    usage_reserve,
)
from taskscore.orgs.models import Organization
from taskscore.rbac.callers import OPERATOR

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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "change",
    [{"plan": "pro", "status": "active"}, {"granted_plan": "business"},
     {"plan": "pro", "status": "active", "granted_plan": "business"}],
    ids=["subscribed plan", "granted plan", "both"],
)  # fmt: skip
def test_the_lock_returns_the_plans_a_change_committed_while_it_waited(
    org: Organization, change: dict[str, str]
) -> None:
    """The lock reads the row with its plans in one statement; when another transaction changes
    the plans while it waits, Postgres re-checks the new row against the plans joined before the
    wait. What the lock returns is the row as committed, with the plans it names."""
    billing_account_get_or_create(org_id=org.pk)
    plans = {plan.code: plan for plan in Plan.objects.all()}
    locked: list[OrgBilling] = []

    def lock() -> None:
        try:
            with transaction.atomic():
                locked.append(billing_account_lock(org_id=org.pk))
        finally:
            connection.close()

    waiter = threading.Thread(target=lock)
    # given a transaction that changes the org's plans and holds the row
    with transaction.atomic():
        OrgBilling.objects.filter(org_id=org.pk).update(
            **{field: plans[code] if field != "status" else code for field, code in change.items()}
        )
        # when another asks for the lock meanwhile, and waits for it
        waiter.start()
        deadline = time.monotonic() + 10
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.01)
            else:
                pytest.fail("the lock did not wait")
    waiter.join(timeout=10)
    # then it has the row with the plans the change committed
    (billing,) = locked
    assert billing.plan.code == change.get("plan", "free")
    granted = billing.granted_plan
    assert (granted.code if granted else None) == change.get("granted_plan")
    assert billing.status == change.get("status", "none")


# ------------------------------------------------------------------------------ grants, features


def test_a_granted_plan_applies_unbilled_and_a_higher_subscription_wins(
    org: Organization,
) -> None:
    # given an operator's grant of Business
    billing_plan_grant(org_id=org.pk, plan_code="business", caller=OPERATOR)
    entitlement = billing_entitlement(org_id=org.pk)
    assert (entitlement.plan.code, entitlement.source, entitlement.quota) == (
        "business", "grant", None
    )  # fmt: skip
    assert entitlement.features == {Feature.API_KEYS, Feature.CUSTOM_ROLES, Feature.AUDIT_LOG}
    # then its (metered) usage is counted but reported to no Stripe meter
    usage_reserve(org_id=org.pk, task_id=uuid.uuid4())
    assert (UsageRecord.objects.count(), MeterOutbox.objects.count()) == (1, 0)
    # and a lower subscription does not lower it, while the grant's removal does
    _set(org, plan=Plan.objects.get(code="pro"), status="active")
    assert billing_entitlement(org_id=org.pk).plan.code == "business"
    billing_plan_grant(org_id=org.pk, plan_code=None, caller=OPERATOR)
    entitlement = billing_entitlement(org_id=org.pk)
    assert (entitlement.plan.code, entitlement.source) == ("pro", "subscription")
    assert [e.action for e in AuditEvent.objects.filter(org=org).order_by("id")] == [
        "billing.plan_granted", "billing.plan_granted"
    ]  # fmt: skip


def test_a_refusal_names_the_feature_the_plan_and_the_cheapest_plan_with_it(
    org: Organization,
) -> None:
    with pytest.raises(PlanFeatureRequired) as caught:
        org_feature_require(org_id=org.pk, feature=Feature.AUDIT_LOG)
    assert (caught.value.status, caught.value.problem_extra()) == (
        402, {"feature": "audit_log", "plan": "free", "required_plan": "business"}
    )  # fmt: skip
    assert caught.value.detail == (
        'The Free plan does not include "Audit log"; upgrade to Business to use it.'
    )


def test_an_upgrade_counts_at_once_though_the_plan_is_kept_in_process_memory(
    org: Organization,
) -> None:
    # given the org's Free plan is in this process's memory
    plans_in_force_forget()
    assert plan_in_force_cached(org_id=org.pk).code == "free"
    with pytest.raises(PlanFeatureRequired):
        org_feature_require(org_id=org.pk, feature=Feature.API_KEYS)
    # when it moves to Pro behind the process's back (another process applied the event)
    _set(org, plan=Plan.objects.get(code="pro"), status="active")
    # then the feature is allowed at once: a refusal is checked against Postgres
    org_feature_require(org_id=org.pk, feature=Feature.API_KEYS)
    assert plan_in_force_cached(org_id=org.pk).code == "pro"


@pytest.mark.django_db(transaction=True)
def test_the_lock_is_refused_outside_a_transaction(org: Organization) -> None:
    billing_account_get_or_create(org_id=org.pk)
    with transaction.atomic():
        billing_account_lock(org_id=org.pk)  # its statement built and kept

    with pytest.raises(TransactionManagementError):
        billing_account_lock(org_id=org.pk)  # it would end at once


@pytest.mark.parametrize("granted", [None, "business"])
def test_the_lock_reads_the_row_and_its_plans_in_one_statement(
    org: Organization, granted: str | None
) -> None:
    billing_account_get_or_create(org_id=org.pk)
    grant = Plan.objects.get(code=granted) if granted else None
    OrgBilling.objects.filter(org_id=org.pk).update(granted_plan=grant)

    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        billing = billing_account_lock(org_id=org.pk)
        plan, granted_plan = billing.plan, billing.granted_plan  # no query of their own

    statements = [q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert [sql.endswith('FOR UPDATE OF "billing_orgbilling"') for sql in statements] == [True]
    assert plan == Plan.objects.get(code="free")
    assert plan.features == Plan.objects.get(code="free").features  # JSON read as the ORM reads it
    assert granted_plan == grant
    assert billing.granted_plan_id == (grant.pk if grant else None)
