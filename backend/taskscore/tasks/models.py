from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper

from taskscore.core.models import TimestampedModel
from taskscore.orgs.models import ApiKey, Organization


class TaskStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SCORING = "scoring", "Scoring"
    SCORED = "scored", "Scored"
    FAILED = "failed", "Failed"


class Task(TimestampedModel):
    """A unit of work an org submitted for scoring."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    attributes = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.QUEUED)
    failure_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When the scoring job was last handed to the broker, and when a worker last claimed it:
    # the sweeper uses both to find tasks whose message or worker was lost.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # The current score: the value of the newest TaskScore, written in the transaction that
    # records it (tasks.services.task_score_run); None until the task is first scored. Kept here
    # so the task list can sort by score with an index.
    score_value = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [
            # The task list's orders per org (ascending created_at scans this one backwards).
            models.Index(fields=["org", "-created_at", "-id"], name="task_org_created"),
            models.Index(
                F("org"),
                F("score_value").desc(nulls_last=True),
                F("created_at").desc(),
                F("id").desc(),
                name="task_org_score_desc",
            ),
            models.Index(
                F("org"),
                F("score_value").asc(nulls_last=True),
                F("created_at").asc(),
                F("id").asc(),
                name="task_org_score_asc",
            ),
            models.Index(
                fields=["status", "enqueued_at"],
                name="task_pending",
                condition=models.Q(status__in=["queued", "scoring"]),
            ),
            # The list filtered by status, newest first (a rare status would otherwise scan the
            # org's whole list for one page).
            models.Index(fields=["org", "status", "-created_at", "-id"], name="task_org_status"),
            # The title search of the release before TaskWord (`title__icontains`: trigrams of
            # the upper-cased title, pg_trgm). Nothing reads it now; it goes in a later release
            # (a contract step), once no running release searches through it.
            GinIndex(OpClass(Upper("title"), name="gin_trgm_ops"), name="task_title_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"


class TaskCount(models.Model):
    """How many tasks an org has: v1's `count` without counting them. Kept by Postgres itself
    (statement triggers on tasks_task, migration 0005), in the transaction that inserts or
    deletes the tasks, so no write path (a service, a bulk insert, a restore, a cascade) can
    leave it wrong."""

    org = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    tasks = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.org_id}: {self.tasks}"


class TaskWord(models.Model):
    """One word of a task's title, for the title search (`tasks.search`): a row per distinct word
    (letters and digits, lower-cased, as `tasks_title_words()` splits the title), keyed in the
    task list's order so that the newest tasks with a word are the first rows of one index range
    (ADR 0014). Kept by Postgres itself (triggers on tasks_task, migration 0006) in the
    transaction that inserts, retitles or deletes the task, so that every way tasks are written
    (the services, a bulk insert, a restore, the org deletion's batches) keeps it exact.

    Derived data, not the org's: no foreign key (the deletion of the task deletes its words), not
    exported, and not in the data-rights registry (`datarights.registry` follows foreign keys)."""

    pk = models.CompositePrimaryKey("org_id", "word", "created_at", "task_id")
    org_id = models.BigIntegerField()
    # Compared byte by byte, so that a prefix is one range of the index whatever the database's
    # collation.
    word = models.TextField(db_collation="C")
    created_at = models.DateTimeField()  # the task's
    task_id = models.UUIDField()

    class Meta:
        indexes = [
            # A task's words, for the triggers that delete them with the task or its old title.
            models.Index(fields=["task_id"], name="taskword_task"),
        ]

    def __str__(self) -> str:
        return f"{self.org_id}: {self.word} ({self.task_id})"
