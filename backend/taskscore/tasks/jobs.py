"""Celery jobs for tasks. Each takes ids and calls a service; each may run twice, concurrently."""

from __future__ import annotations

import random

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from taskscore.tasks import services


@shared_task(
    name="taskscore.tasks.jobs.task_score",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=8,
)
def task_score(self, task_id: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        return services.task_score_run(task_id=task_id)
    except (DatabaseError, InterfaceError) as exc:
        services.task_release(task_id=task_id)
        # Exponential backoff with full jitter, capped at five minutes.
        countdown = random.uniform(0, min(300, 2**self.request.retries))
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="taskscore.tasks.jobs.tasks_sweep_stuck", ignore_result=True)
def tasks_sweep_stuck() -> int:
    return services.tasks_requeue_stuck()
