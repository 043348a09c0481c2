"""Celery jobs for billing (run by beat). Each may run twice, concurrently: applying an event
locks its row and skips it once applied; meter events carry idempotent identifiers."""

from __future__ import annotations

from celery import shared_task

from taskscore.billing import reconcile, services


@shared_task(name="taskscore.billing.jobs.stripe_events_retry", ignore_result=True)
def stripe_events_retry() -> int:
    return reconcile.stripe_events_retry()


@shared_task(name="taskscore.billing.jobs.meter_outbox_flush", ignore_result=True)
def meter_outbox_flush() -> int:
    return services.meter_outbox_flush()
