"""Writes to tasks: submission, the scoring lifecycle, and recovery of lost jobs."""

from __future__ import annotations

import logging
import math
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from taskscore.core.errors import FieldError, ValidationFailed
from taskscore.scoring.services import (
    task_score_compute,
    task_score_record,
    version_active_get_or_create,
)
from taskscore.tasks.models import Task, TaskStatus

logger = logging.getLogger(__name__)

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
ATTRIBUTES_MAX = 50
ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ATTRIBUTE_ABS_MAX = 1e12


@dataclass(frozen=True)
class TaskInput:
    title: str
    description: str
    attributes: dict[str, Any]


def _validate(data: TaskInput) -> TaskInput:
    errors: list[FieldError] = []
    title = data.title.strip()
    if not title:
        errors.append(FieldError("title", "Enter a title."))
    elif len(title) > TITLE_MAX:
        errors.append(FieldError("title", f"Use at most {TITLE_MAX} characters."))
    if len(data.description) > DESCRIPTION_MAX:
        errors.append(FieldError("description", f"Use at most {DESCRIPTION_MAX} characters."))
    if len(data.attributes) > ATTRIBUTES_MAX:
        errors.append(FieldError("attributes", f"Use at most {ATTRIBUTES_MAX} attributes."))
    attributes: dict[str, float] = {}
    for name, value in data.attributes.items():
        field = f"attributes.{name}"
        if not ATTRIBUTE_NAME.match(name):
            errors.append(
                FieldError(
                    field, "Names are lowercase letters, digits and _, starting with a letter."
                )
            )
        elif isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(FieldError(field, "Must be a number."))
        elif not math.isfinite(value) or abs(value) > ATTRIBUTE_ABS_MAX:
            errors.append(FieldError(field, "Must be a finite number within ±1e12."))
        else:
            attributes[name] = float(value)
    if errors:
        raise ValidationFailed(detail="The task is not valid.", errors=errors)
    return TaskInput(title=title, description=data.description, attributes=attributes)


def _enqueue(task_id: uuid.UUID) -> None:
    """Hand the scoring job to the broker. A broker outage is logged, not raised: the task is
    committed `queued` and the sweeper enqueues it again."""
    from taskscore.tasks.jobs import task_score  # jobs imports this module

    try:
        task_score.delay(str(task_id))
    except Exception:
        logger.warning("could not enqueue task %s; the sweeper will retry", task_id, exc_info=True)


@transaction.atomic
def task_submit(
    *, org_id: int, data: TaskInput, user_id: int | None = None, api_key_id: int | None = None
) -> Task:
    """Store a task `queued` and schedule its scoring once the transaction commits."""
    clean = _validate(data)
    task = Task.objects.create(
        org_id=org_id,
        title=clean.title,
        description=clean.description,
        attributes=clean.attributes,
        created_by_id=user_id,
        created_by_api_key_id=api_key_id,
        enqueued_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(task.id))
    return task


def task_claim(*, task_id: uuid.UUID | str) -> Task | None:
    """Move the task to `scoring` for this worker, or return None when another worker holds it
    or it is finished. A claim older than the lease (a killed worker) can be taken over."""
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.TASK_REQUEUE_AFTER_SECONDS)
    claimable = Q(status=TaskStatus.QUEUED) | Q(
        status=TaskStatus.SCORING, claimed_at__lt=lease_expired
    )
    changed = Task.objects.filter(claimable, pk=task_id).update(
        status=TaskStatus.SCORING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
    )
    if changed != 1:
        return None
    return Task.objects.get(pk=task_id)


def task_score_run(*, task_id: uuid.UUID | str) -> bool:
    """Claim, score and finish one task. False when there was nothing to do (a duplicate job)."""
    task = task_claim(task_id=task_id)
    if task is None:
        return False
    with transaction.atomic():
        version = version_active_get_or_create(org_id=task.org_id)
        try:
            result = task_score_compute(version=version, attributes=task.attributes, ai_results={})
        except ValueError as exc:
            _finish(task, status=TaskStatus.FAILED, reason=f"Scoring version is invalid: {exc}")
            return True
        task_score_record(task_id=task.id, version=version, result=result)
        _finish(task, status=TaskStatus.SCORED, reason="")
    return True


def _finish(task: Task, *, status: TaskStatus, reason: str) -> None:
    Task.objects.filter(pk=task.pk, status=TaskStatus.SCORING).update(
        status=status, failure_reason=reason, updated_at=timezone.now()
    )


def task_release(*, task_id: uuid.UUID | str) -> None:
    """Give a claimed task back to the queue (a transient failure before it was scored)."""
    Task.objects.filter(pk=task_id, status=TaskStatus.SCORING).update(
        status=TaskStatus.QUEUED, claimed_at=None, updated_at=timezone.now()
    )


def tasks_requeue_stuck(*, limit: int = 1000) -> int:
    """Enqueue again every task left queued or scoring past the deadline; returns how many."""
    now = timezone.now()
    deadline = now - timedelta(seconds=settings.TASK_REQUEUE_AFTER_SECONDS)
    stuck = (
        Q(status=TaskStatus.QUEUED, enqueued_at__lt=deadline)
        | Q(status=TaskStatus.QUEUED, enqueued_at__isnull=True)
        | Q(status=TaskStatus.SCORING, claimed_at__lt=deadline, enqueued_at__lt=deadline)
    )
    ids = list(Task.objects.filter(stuck).values_list("id", flat=True)[:limit])
    requeued = 0
    for task_id in ids:
        # Conditional on the deadline still holding, so two sweepers do not enqueue it twice.
        if Task.objects.filter(stuck, pk=task_id).update(enqueued_at=now) == 1:
            _enqueue(task_id)
            requeued += 1
    if requeued:
        logger.info("requeued %d stuck tasks", requeued)
    return requeued
