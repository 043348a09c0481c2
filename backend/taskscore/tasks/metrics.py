"""What the metrics scrape reads of the tasks (core.metrics, served by `GET /metrics`): the
backlog, by status, and how many tasks are stored. Kept out of `selectors.py`: these are read on
every scrape of every web process, and must stay cheap as the table grows.

Only `queued` and `scoring` are counted row by row: the partial index `task_pending` (status,
enqueued_at WHERE status IN ('queued', 'scoring')) holds exactly those rows, so the GROUP BY
costs the backlog, not the table. Counting `scored` and `failed` the same way would scan every
task ever submitted on each scrape (no index leads with the status, and Postgres 15 has no skip
scan); the total comes from the count Postgres keeps per org (`TaskCount`) instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, Min, Sum

from taskscore.tasks.models import Task, TaskCount, TaskStatus

PENDING = (TaskStatus.QUEUED, TaskStatus.SCORING)


@dataclass(frozen=True)
class TaskBacklog:
    counts: dict[str, int]  # every pending status, 0 included
    oldest_queued_at: datetime | None  # the submission of the oldest task still queued
    stored: int  # every task of every org, any status


def tasks_backlog() -> TaskBacklog:
    """The pending tasks by status and the oldest queued one's submission time (one GROUP BY
    over the `task_pending` index), and the tasks stored (one row per org)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            # A scrape must not hold a connection behind a slow query: past 2 s it fails (the
            # next scrape tries again) rather than pile up.
            cursor.execute("SET LOCAL statement_timeout = 2000")
        rows = (
            Task.objects.filter(status__in=PENDING)
            .values("status")
            .annotate(count=Count("pk"), oldest=Min("created_at"))
            .order_by()
        )
        counts = {str(status): 0 for status in PENDING}
        oldest_queued_at: datetime | None = None
        for row in rows:
            counts[row["status"]] = row["count"]
            if row["status"] == TaskStatus.QUEUED:
                oldest_queued_at = row["oldest"]
        stored = TaskCount.objects.aggregate(total=Sum("tasks"))["total"] or 0
    return TaskBacklog(counts=counts, oldest_queued_at=oldest_queued_at, stored=int(stored))
