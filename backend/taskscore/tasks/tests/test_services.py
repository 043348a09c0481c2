from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from taskscore.core.errors import ValidationFailed
from taskscore.orgs.models import Organization
from taskscore.scoring.models import TaskScore
from taskscore.tasks.models import Task, TaskStatus
from taskscore.tasks.services import (
    TaskInput,
    task_claim,
    task_score_run,
    task_submit,
    tasks_requeue_stuck,
)
from taskscore.testing.factories import TaskFactory

pytestmark = pytest.mark.django_db


def test_submit_stores_the_task_queued_with_float_attributes(org: Organization) -> None:
    task = task_submit(
        org_id=org.pk, data=TaskInput(title="  Ship it ", description="", attributes={"reach": 3})
    )
    task.refresh_from_db()
    assert (task.title, task.status, task.attributes) == ("Ship it", "queued", {"reach": 3.0})
    assert task.enqueued_at is not None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (TaskInput(title=" ", description="", attributes={}), "title"),
        (TaskInput(title="x" * 201, description="", attributes={}), "title"),
        (TaskInput(title="t", description="", attributes={"Bad Name": 1}), "attributes.Bad Name"),
        (TaskInput(title="t", description="", attributes={"reach": "7"}), "attributes.reach"),
        (TaskInput(title="t", description="", attributes={"reach": True}), "attributes.reach"),
        (
            TaskInput(title="t", description="", attributes={"reach": float("inf")}),
            "attributes.reach",
        ),
    ],
)
def test_invalid_input_names_the_field_and_writes_nothing(
    org: Organization, data: TaskInput, field: str
) -> None:
    with pytest.raises(ValidationFailed) as info:
        task_submit(org_id=org.pk, data=data)
    assert [e.field for e in info.value.errors] == [field]
    assert Task.objects.count() == 0


def test_claim_succeeds_once(org: Organization) -> None:
    task = TaskFactory.create(org=org)
    assert task_claim(task_id=task.id) is not None
    assert task_claim(task_id=task.id) is None  # a second worker gets nothing


def test_a_claim_past_its_lease_can_be_taken_over(org: Organization) -> None:
    task = TaskFactory.create(org=org, status=TaskStatus.SCORING)
    Task.objects.filter(pk=task.pk).update(claimed_at=timezone.now() - timedelta(minutes=5))
    claimed = task_claim(task_id=task.id)
    assert claimed is not None
    assert claimed.attempts == 1


def test_running_a_job_twice_writes_one_score(org: Organization) -> None:
    task = TaskFactory.create(org=org)
    assert task_score_run(task_id=task.id) is True
    assert task_score_run(task_id=task.id) is False
    task.refresh_from_db()
    assert task.status == TaskStatus.SCORED
    assert TaskScore.objects.filter(task=task).count() == 1


def test_a_stale_scorer_does_not_write_a_second_score(org: Organization) -> None:
    # given a task scored once, whose claim is then taken over after its lease expired
    task = TaskFactory.create(org=org)
    task_score_run(task_id=task.id)
    Task.objects.filter(pk=task.pk).update(
        status=TaskStatus.SCORING, claimed_at=timezone.now() - timedelta(minutes=5)
    )
    # when the job runs again, the unique (task, version) keeps one score
    assert task_score_run(task_id=task.id) is True
    assert TaskScore.objects.filter(task=task).count() == 1
    task.refresh_from_db()
    assert task.status == TaskStatus.SCORED


def test_sweeper_requeues_only_tasks_past_the_deadline(org: Organization) -> None:
    old = timezone.now() - timedelta(minutes=5)
    stuck_queued = TaskFactory.create(org=org, enqueued_at=old)
    stuck_scoring = TaskFactory.create(
        org=org, status=TaskStatus.SCORING, enqueued_at=old, claimed_at=old
    )
    fresh = TaskFactory.create(org=org, enqueued_at=timezone.now())
    done = TaskFactory.create(org=org, status=TaskStatus.SCORED, enqueued_at=old)

    assert tasks_requeue_stuck() == 2
    refreshed = {t.pk: t.enqueued_at or old for t in Task.objects.all()}
    assert refreshed[stuck_queued.pk] > old
    assert refreshed[stuck_scoring.pk] > old
    assert refreshed[fresh.pk] == fresh.enqueued_at
    assert refreshed[done.pk] == old
    # a second sweep right after finds nothing: the deadline was pushed forward
    assert tasks_requeue_stuck() == 0


def test_a_job_that_lost_its_claim_cannot_finish_the_task(org: Organization) -> None:
    # given job A claimed the task, overran its lease, and job B took the claim over
    task = TaskFactory.create(org=org)
    stale = task_claim(task_id=task.id)
    assert stale is not None
    Task.objects.filter(pk=task.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    stale.claimed_at = timezone.now() - timedelta(hours=1)
    current = task_claim(task_id=task.id)
    assert current is not None
    # when A gives up (a permanent failure) or releases the task
    from taskscore.tasks.services import task_finish, task_release

    task_finish(stale, status=TaskStatus.FAILED, reason="stale")
    task_release(task=stale)
    # then nothing changed under B
    task.refresh_from_db()
    assert (task.status, task.failure_reason) == (TaskStatus.SCORING, "")


def test_a_task_whose_attempts_all_died_ends_failed(org: Organization) -> None:
    task = TaskFactory.create(org=org, status=TaskStatus.SCORING, attempts=4)
    Task.objects.filter(pk=task.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert task_claim(task_id=task.id) is None  # TASK_MAX_ATTEMPTS is 4 in test settings
    task.refresh_from_db()
    assert task.status == TaskStatus.FAILED
    assert "4 times" in task.failure_reason
