from __future__ import annotations

from django.db import models

from taskscore.orgs.models import Organization


class ScoringVersion(models.Model):
    """An immutable, numbered set of weighted criteria. One version per org is active."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="scoring_versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    criteria = models.JSONField()
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "number"], name="scoring_version_unique_number"),
            models.UniqueConstraint(
                fields=["org"],
                condition=models.Q(is_active=True),
                name="scoring_version_one_active_per_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.org_id}:v{self.number}"


class TaskScore(models.Model):
    """The score of one task under one version. Unique per (task, version): a job that runs
    twice cannot write two scores."""

    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, related_name="scores")
    version = models.ForeignKey(ScoringVersion, on_delete=models.PROTECT, related_name="scores")
    value = models.FloatField()
    breakdown = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "version"], name="task_score_unique_version")
        ]
        indexes = [models.Index(fields=["task", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.task_id}@v{self.version_id}={self.value:.1f}"
