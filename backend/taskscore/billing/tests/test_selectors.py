"""The usage count the quota check and the billing page read: the period's UsageRecords of the
org, kept by Postgres with the records whatever writes them (docs/performance.md)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from taskscore.billing.models import UsageRecord
from taskscore.billing.selectors import billing_entitlement, usage_count
from taskscore.billing.services import usage_reserve
from taskscore.orgs.models import Organization

pytestmark = pytest.mark.django_db


def test_the_usage_count_is_the_periods_records_of_the_org(
    org: Organization, other_org: Organization
) -> None:
    period = billing_entitlement(org_id=org.pk).period_start
    earlier = period - timedelta(days=31)
    for _ in range(2):
        usage_reserve(org_id=org.pk, task_id=uuid.uuid4())
    UsageRecord.objects.bulk_create(
        [UsageRecord(org=org, task_id=uuid.uuid4(), period_start=period) for _ in range(3)]
        + [UsageRecord(org=org, task_id=uuid.uuid4(), period_start=earlier) for _ in range(4)]
        + [UsageRecord(org=other_org, task_id=uuid.uuid4(), period_start=period)]
    )
    assert usage_count(org_id=org.pk, period_start=period) == 5
    assert usage_count(org_id=org.pk, period_start=earlier) == 4
    assert usage_count(org_id=other_org.pk, period_start=period) == 1
    assert billing_entitlement(org_id=org.pk).used == 5

    UsageRecord.objects.filter(org=org, period_start=earlier).delete()
    UsageRecord.objects.filter(org=org, period_start=period)[:1].get().delete()

    assert usage_count(org_id=org.pk, period_start=period) == 4
    assert usage_count(org_id=org.pk, period_start=earlier) == 0


def test_a_period_without_records_counts_zero(org: Organization) -> None:
    period = billing_entitlement(org_id=org.pk).period_start
    assert usage_count(org_id=org.pk, period_start=period) == 0
