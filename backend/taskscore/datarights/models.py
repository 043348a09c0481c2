"""An org's data exports (a file kept in Postgres for a day) and the record of each org
deletion, which outlives the org."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from taskscore.orgs.models import ApiKey, Organization


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class OrgExport(models.Model):
    """All of an org's data as one gzipped JSON document, written by a job (`datarights.jobs`)
    into `OrgExportChunk` rows and downloadable until `expires_at`; then its chunks are deleted
    and the row says it expired (the row itself goes a week later).

    `total` is the number of rows to write (counted when the job starts) and `done` those
    written so far: the progress the web app polls."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="exports")
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    total = models.PositiveBigIntegerField(default=0)
    done = models.PositiveBigIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)  # the gzipped file's, once done
    sha256 = models.CharField(max_length=64, blank=True)  # of the gzipped file, once done
    failure_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # As for tasks and previews: when the job was last handed to the broker and last claimed
    # (renewed as it writes), so the sweeper finds exports whose message or worker was lost.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # set when done
    data_deleted_at = models.DateTimeField(null=True, blank=True)  # its chunks, at expiry

    class Meta:
        indexes = [
            models.Index(fields=["org", "-created_at"], name="org_export_org_created"),
            models.Index(
                fields=["status", "enqueued_at"],
                name="org_export_pending",
                condition=models.Q(status__in=["queued", "running"]),
            ),
            models.Index(
                fields=["expires_at"],
                name="org_export_expiring",
                condition=models.Q(data_deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.org_id} ({self.status})"


class OrgExportChunk(models.Model):
    """One piece (up to ORG_EXPORT_CHUNK_BYTES) of an export's gzipped file, in order of `seq`."""

    export = models.ForeignKey(OrgExport, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["export", "seq"], name="org_export_chunk_unique_seq")
        ]

    def __str__(self) -> str:
        return f"{self.export_id}#{self.seq}"


class DeletionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"  # access removed; the job has not started (or waits to retry)
    RUNNING = "running", "Running"
    DONE = "done", "Done"  # every row of the org is gone


class OrgDeletion(models.Model):
    """The operators' record of an org's deletion: who asked, when, what was canceled at Stripe
    and how many rows of each kind were deleted. Not tied to the org by a foreign key, so it
    outlives it (the org's own audit log is deleted with the org). One per org."""

    org_id = models.BigIntegerField(unique=True)
    org_slug = models.CharField(max_length=60)
    org_name = models.CharField(max_length=200)
    requested_by_user_id = models.BigIntegerField(null=True, blank=True)
    requested_by_label = models.CharField(max_length=300)  # their email, as it was then
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=16, choices=DeletionStatus.choices, default=DeletionStatus.QUEUED
    )
    # What the request itself removed (the access: members, keys, invitations) and what the job
    # deleted since, by model label ("tasks.Task": 1200).
    counts = models.JSONField(default=dict)
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    stripe_subscriptions_canceled = models.JSONField(default=list)
    stripe_closed_at = models.DateTimeField(null=True, blank=True)
    ai_cache_entries_deleted = models.PositiveIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)  # why the last attempt stopped (it is retried)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["status", "enqueued_at"],
                name="org_deletion_pending",
                condition=models.Q(status__in=["queued", "running"]),
            )
        ]

    def __str__(self) -> str:
        return f"deletion of {self.org_slug} ({self.org_id}): {self.status}"
