"""Celery jobs for scoring: draft previews. Each takes ids and calls a service; each may run
twice, concurrently (the run is claimed by a conditional UPDATE)."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from taskscore.scoring import services


@shared_task(
    name=services.JOB_PREVIEW_RUN,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def preview_run_execute(self, run_id: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        return services.preview_run_execute(run_id=run_id)
    except (DatabaseError, InterfaceError) as exc:
        # The database is unreachable: the claim expires with its lease; retry with backoff.
        countdown = min(60.0, 2.0 ** (self.request.retries + 1))
        raise self.retry(exc=exc, countdown=countdown, max_retries=None) from exc


@shared_task(name=services.JOB_PREVIEW_SWEEP, ignore_result=True)
def preview_runs_sweep() -> int:
    return services.preview_runs_requeue_stuck()


@shared_task(name=services.JOB_PREVIEW_PURGE, ignore_result=True)
def preview_runs_purge() -> int:
    return services.preview_runs_purge()
