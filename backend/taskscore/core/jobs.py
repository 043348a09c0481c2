"""Jobs that belong to no domain app."""

from __future__ import annotations

from celery import shared_task

JOB_NOOP = "core.noop"


@shared_task(name=JOB_NOOP, bind=True, acks_late=True, reject_on_worker_lost=True)
def noop(self, task_id: str) -> bool:  # type: ignore[no-untyped-def]
    """Does nothing, with the scoring job's signature and delivery options: what a job costs
    Celery itself (broker, ack, bookkeeping), the yardstick of `make bench-scoring`."""
    return bool(task_id)
