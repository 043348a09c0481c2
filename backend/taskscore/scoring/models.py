from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from taskscore.orgs.models import ApiKey, Organization


class ScoringModel(models.Model):
    """A named scoring formula of an org, evolving through numbered versions."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="scoring_models")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="scoring_model_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.org_id}:{self.name}"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class ScoringVersion(models.Model):
    """An immutable, numbered list of weighted criteria. Drafts can be previewed; a published
    version can be activated; exactly one version per org is active (used for new scores)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="scoring_versions")
    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    criteria = models.JSONField()
    notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    is_active = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "number"], name="scoring_version_unique_number"
            ),
            models.UniqueConstraint(
                fields=["org"],
                condition=models.Q(is_active=True),
                name="scoring_version_one_active_per_org",
            ),
            models.CheckConstraint(
                condition=~models.Q(is_active=True, status="draft"),
                name="scoring_version_active_is_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_id}:v{self.number}"


class TaskScore(models.Model):
    """The score of one task under one version, with what the AI part cost. Unique per (task,
    version): a job that runs twice cannot write two scores."""

    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, related_name="scores")
    version = models.ForeignKey(ScoringVersion, on_delete=models.PROTECT, related_name="scores")
    value = models.FloatField()
    breakdown = models.JSONField()
    ai_provider = models.CharField(max_length=40, blank=True)
    ai_model = models.CharField(max_length=200, blank=True)
    ai_calls = models.PositiveIntegerField(default=0)  # calls made; cache hits are not calls
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    ai_latency_ms = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "version"], name="task_score_unique_version")
        ]
        indexes = [models.Index(fields=["task", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.task_id}@v{self.version_id}={self.value:.1f}"


class PreviewRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PreviewRun(models.Model):
    """Draft criteria tried on the org's latest tasks by a job (`scoring.jobs`): each task's
    current and new score and rank. Writes no TaskScore and changes no task; purged after a day.

    `task_ids` are the tasks chosen when the run was created (newest first); `done` counts the
    tasks scored so far (progress to poll); `items` is filled when the run is done."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="preview_runs")
    criteria = models.JSONField()
    limit = models.PositiveIntegerField()
    task_ids = models.JSONField(default=list)
    status = models.CharField(
        max_length=16, choices=PreviewRunStatus.choices, default=PreviewRunStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    items = models.JSONField(default=list)
    failure_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # As for tasks: when the job was last handed to the broker and last claimed by a worker (the
    # claim is renewed as the run progresses), so the sweeper finds runs whose job was lost.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="preview_run_created"),
            models.Index(
                fields=["status", "enqueued_at"],
                name="preview_run_pending",
                condition=models.Q(status__in=["queued", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"preview {self.pk} ({self.status})"
