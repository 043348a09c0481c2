"""Celery jobs for tasks. Each takes ids and calls a service; each may run twice, concurrently."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from taskscore.tasks import services


@shared_task(
    name=services.JOB_TASK_SCORE,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def task_score(self, task_id: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        return services.task_score_run(task_id=task_id)
    except services.RetryLater as exc:
        raise self.retry(countdown=exc.countdown, max_retries=None) from exc
    except (DatabaseError, InterfaceError) as exc:
        # The database is unreachable: the claim (if any) expires with its lease and the
        # sweeper re-enqueues; meanwhile retry with backoff.
        countdown = services.retry_delay(attempt=self.request.retries + 1, retry_after=None)
        raise self.retry(exc=exc, countdown=countdown, max_retries=None) from exc


@shared_task(name=services.JOB_TASKS_SWEEP, ignore_result=True)
def tasks_sweep_stuck() -> int:
    return services.tasks_requeue_stuck()
