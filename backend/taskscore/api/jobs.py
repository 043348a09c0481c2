"""Periodic housekeeping of the API layer."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from taskscore.api.common.idempotency import TTL
from taskscore.api.models import IdempotentRequest


@shared_task(name="taskscore.api.jobs.idempotency_purge", ignore_result=True)
def idempotency_purge() -> int:
    """Forget idempotency keys older than 24 hours."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - TTL).delete()
    return deleted
