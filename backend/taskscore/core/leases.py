"""Claiming a job's row with a lease: the pattern of every job that may run twice at once (an
export, a preview run; tasks add a retry count of their own)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone


def lease_claim(
    rows: QuerySet[Any], *, pk: uuid.UUID | str, queued: str, running: str
) -> datetime | None:
    """Move row `pk` from `queued` to `running` for this worker, or take over a `running` claim
    whose lease (TASK_CLAIM_LEASE_SECONDS) ended: one conditional UPDATE, so two workers cannot
    both win. Counts the attempt and keeps the first start. Returns the claim's time (the
    fence the holder's later writes check), or None when the row is finished, held by a live
    worker, or `pk` is not an id at all."""
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.TASK_CLAIM_LEASE_SECONDS)
    claimable = Q(status=queued) | Q(status=running, claimed_at__lt=lease_expired)
    try:
        changed = rows.filter(claimable, pk=pk).update(
            status=running,
            claimed_at=now,
            started_at=Coalesce(F("started_at"), Value(now)),
            attempts=F("attempts") + 1,
        )
    except (DjangoValidationError, ValueError):  # not an id of that table
        return None
    return now if changed == 1 else None
