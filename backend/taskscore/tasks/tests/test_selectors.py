"""The task reads that must stay flat as an org grows (docs/performance.md, "Flat with data"):
the indexes they rely on exist, the count v1 reads is the org's exact task count whatever wrote
the tasks, and v1's offset page is the offset slice of the newest-first order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from taskscore.orgs.models import Organization
from taskscore.tasks.models import Task
from taskscore.tasks.selectors import task_count, task_list_offset
from taskscore.tasks.services import TaskInput, task_submit
from taskscore.testing.factories import TaskFactory

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def test_the_migrations_create_the_indexes_the_list_relies_on() -> None:
    indexes = _indexes("tasks_task")
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == ("pg_trgm",)
    assert "(org_id, status, created_at DESC, id DESC)" in indexes["task_org_status"]
    assert "USING gin (upper((title)::text) gin_trgm_ops)" in indexes["task_title_trgm"]
    # The title search's words, in the list's order per word (tests/test_task_search.py).
    words = _indexes("tasks_taskword")
    assert "(org_id, word, created_at, task_id)" in words["tasks_taskword_pkey"]
    assert "(task_id)" in words["taskword_task"]
    # The sorts' indexes, which the list already relied on.
    assert "(org_id, created_at DESC, id DESC)" in indexes["task_org_created"]
    assert "score_value DESC NULLS LAST" in indexes["task_org_score_desc"]


def test_the_task_count_follows_every_way_tasks_are_written(
    org: Organization, other_org: Organization
) -> None:
    task_submit(
        org_id=org.pk, data=TaskInput(title="Through the service", description="", attributes={})
    )
    TaskFactory.create_batch(3, org=org)
    Task.objects.bulk_create(Task(org=org, title=f"bulk {i}") for i in range(4))
    TaskFactory.create_batch(2, org=other_org)
    assert (task_count(org_id=org.pk), task_count(org_id=other_org.pk)) == (8, 2)

    Task.objects.filter(org=org, title__startswith="bulk").delete()

    assert task_count(org_id=org.pk) == Task.objects.filter(org=org).count() == 4
    assert task_count(org_id=other_org.pk) == 2


def test_an_org_without_tasks_counts_zero(org: Organization) -> None:
    assert task_count(org_id=org.pk) == 0


def test_v1_offset_page_is_the_offset_slice_of_newest_first(
    org: Organization, other_org: Organization
) -> None:
    now = timezone.now()
    # Two pairs created at the same instant: the id breaks their tie.
    for minutes in (0, 1, 1, 2, 3, 3, 4):
        task = TaskFactory.create(org=org)
        Task.objects.filter(pk=task.pk).update(created_at=now - timedelta(minutes=minutes))
    TaskFactory.create_batch(2, org=other_org)
    newest_first = list(Task.objects.filter(org=org).order_by("-created_at", "-id"))

    items, count = task_list_offset(org_id=org.pk, limit=3, offset=2)

    assert [t.pk for t in items] == [t.pk for t in newest_first[2:5]]
    assert count == 7
    assert task_list_offset(org_id=org.pk, limit=3, offset=7) == ([], 7)
