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
    # What made the score, enough to recompute it (scoring.services.scores.score_recompute):
    # the attribute values used, each AI rating or why it was skipped, the hash of the text the
    # AI read, the task fields sent and whether anything was redacted (never what), the
    # provider, model and prompt version. Empty for scores recorded before it existed.
    inputs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "version"], name="task_score_unique_version")
        ]
        indexes = [models.Index(fields=["task", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.task_id}@v{self.version_id}={self.value:.1f}"


# The criterion key of an override of the whole score.
WHOLE_SCORE = ""


class ScoreOverride(models.Model):
    """A person's correction of a task's score (`criterion` empty) or of one criterion's value,
    with the reason. It belongs to the task, not to one score: a re-score keeps it until it is
    cleared. At most one active override per (task, criterion); a cleared one stays as history.

    `machine_value` is what the machine said when the override was made (for the record; the
    current machine value is always the newest score's)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, related_name="overrides")
    criterion = models.CharField(max_length=40, blank=True)
    value = models.FloatField()
    machine_value = models.FloatField(null=True, blank=True)
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "criterion"],
                condition=models.Q(cleared_at__isnull=True),
                name="score_override_one_active",
            )
        ]
        indexes = [models.Index(fields=["task", "-created_at"], name="score_override_task")]

    def __str__(self) -> str:
        return f"{self.task_id}:{self.criterion or 'score'}={self.value}"


class LabelSource(models.TextChoices):
    REVIEW = "review", "Review"
    IMPORT = "import", "Import"


class HumanRating(models.Model):
    """A person's 0–10 rating of a task on an AI criterion: a label that calibration compares
    with the AI's rating. From a review (an override of the criterion) or an imported CSV; one
    per (task, criterion, source), the newest winning."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, related_name="+")
    criterion = models.CharField(max_length=40)
    rating = models.FloatField()
    source = models.CharField(max_length=16, choices=LabelSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "criterion", "source"], name="human_rating_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=0, rating__lte=10), name="human_rating_0_10"
            ),
        ]
        indexes = [models.Index(fields=["org", "criterion"], name="human_rating_org_criterion")]

    def __str__(self) -> str:
        return f"{self.task_id}:{self.criterion}={self.rating} ({self.source})"


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
