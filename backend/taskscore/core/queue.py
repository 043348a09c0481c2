"""Handing work to the job queue by name: services enqueue jobs without importing the job
modules (jobs import services, never the reverse; see the per-app layers in pyproject.toml)."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(job: str, *args: str) -> bool:
    """Send `job(*args)` to the broker now. A broker outage is logged, not raised (False): the
    caller's sweeper enqueues the work again, so nothing is lost."""
    try:
        current_app.send_task(job, args=args)
    except Exception:
        logger.warning("could not enqueue %s%s; the sweeper will retry", job, args, exc_info=True)
        return False
    return True


def enqueue_on_commit(job: str, *args: str) -> None:
    """Send `job(*args)` once the current transaction commits (never for a rolled-back write)."""
    transaction.on_commit(lambda: enqueue(job, *args))
