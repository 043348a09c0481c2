"""Celery jobs of data rights: writing an export, carrying out a deletion, the sweeper and the
purge. Each takes ids and calls a service; each may run twice, concurrently (the work is claimed
by a conditional UPDATE)."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from taskscore.datarights import services


@shared_task(name=services.JOB_EXPORT_RUN, bind=True, acks_late=True, reject_on_worker_lost=True)
def org_export_execute(self, export_id: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        return services.org_export_execute(export_id=export_id)
    except (DatabaseError, InterfaceError) as exc:
        # The database is unreachable: the claim expires with its lease; retry with backoff.
        countdown = min(60.0, 2.0 ** (self.request.retries + 1))
        raise self.retry(exc=exc, countdown=countdown, max_retries=None) from exc


@shared_task(name=services.JOB_DELETION_RUN, bind=True, acks_late=True, reject_on_worker_lost=True)
def org_deletion_execute(self, deletion_id: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        return services.org_deletion_execute(deletion_id=deletion_id)
    except services.RetryLater as exc:
        raise self.retry(countdown=exc.countdown, max_retries=None) from exc
    except (DatabaseError, InterfaceError) as exc:
        countdown = min(60.0, 2.0 ** (self.request.retries + 1))
        raise self.retry(exc=exc, countdown=countdown, max_retries=None) from exc


@shared_task(name=services.JOB_SWEEP, ignore_result=True)
def data_rights_sweep() -> int:
    return services.data_rights_requeue_stuck()


@shared_task(name=services.JOB_EXPORTS_PURGE, ignore_result=True)
def org_exports_purge() -> int:
    return services.org_exports_purge()
