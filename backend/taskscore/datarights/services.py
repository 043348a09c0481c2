"""Writes of data rights: an org's export (requested, then written by a job into Postgres) and
its deletion (access removed at once, then Stripe closed and every row deleted by a job)."""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, ProtectedError, Q, QuerySet
from django.utils import timezone
from redis.exceptions import RedisError

from taskscore.audit.services import audit_record
from taskscore.billing.errors import StripeRefused, StripeUnavailable
from taskscore.billing.models import OrgBilling
from taskscore.billing.services import billing_stripe_close, stripe_events_forget
from taskscore.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    PermissionDenied,
    ProblemType,
    ValidationFailed,
)
from taskscore.core.leases import lease_claim
from taskscore.core.queue import enqueue, enqueue_on_commit
from taskscore.datarights.document import document, rows_total
from taskscore.datarights.models import (
    DeletionStatus,
    ExportStatus,
    OrgDeletion,
    OrgExport,
    OrgExportChunk,
)
from taskscore.datarights.registry import deletion_order, label, org_models
from taskscore.orgs.models import ApiKey, Invitation, Membership, Organization
from taskscore.rbac import cache
from taskscore.rbac.callers import Caller
from taskscore.rbac.catalog import Perm
from taskscore.scoring.ai import ai_cache_forget
from taskscore.scoring.models import PreviewRun, PreviewRunStatus
from taskscore.tasks.models import Task, TaskStatus

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

logger = logging.getLogger(__name__)

# The jobs' names (datarights/jobs.py registers them): services enqueue by name (core.queue).
JOB_EXPORT_RUN = "taskscore.datarights.jobs.org_export_execute"
JOB_DELETION_RUN = "taskscore.datarights.jobs.org_deletion_execute"
JOB_SWEEP = "taskscore.datarights.jobs.data_rights_sweep"
JOB_EXPORTS_PURGE = "taskscore.datarights.jobs.org_exports_purge"

CHUNK_BYTES = 1024 * 1024  # of the gzipped file, per row of OrgExportChunk
EXPORT_ROWS_KEEP = timedelta(days=7)  # an expired export's row (its data is gone) is then deleted
_PROGRESS_EVERY_SECONDS = 0.5
_DELETE_ROUNDS = 3  # passes over the org's models before the org row goes (rows added meanwhile)


@dataclass
class ExportsLimited(DomainError):
    """The org made ORG_EXPORTS_PER_DAY exports in the last 24 hours (429)."""

    retry_after: int = 86_400
    problem: ProblemType = ProblemType.RATE_LIMITED

    def problem_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass
class RetryLater(Exception):
    """A deletion stopped on a dependency (Stripe, Redis); run its job again in `countdown` s."""

    countdown: float
    reason: str


class _Overtaken(Exception):
    """This job no longer holds its claim (another worker took the work over)."""


def _retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter, as for tasks (TASK_RETRY_* settings)."""
    base = float(settings.TASK_RETRY_BASE_SECONDS)
    ceiling = min(float(settings.TASK_RETRY_MAX_SECONDS), base * 2.0 ** max(0, attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret


# ---------------------------------------------------------------------------------- exports


@transaction.atomic
def org_export_create(*, org_id: int, caller: Caller) -> OrgExport:
    """A queued export of all of the org's data; its job is enqueued once this commits. One at a
    time per org (409 while one is queued or running) and ORG_EXPORTS_PER_DAY a day (429)."""
    # Serializes exports of one org (FOR NO KEY UPDATE: rows referring to the org still insert).
    Organization.objects.select_for_update(no_key=True).filter(pk=org_id).first()
    now = timezone.now()
    if OrgExport.objects.filter(
        org_id=org_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
    ).exists():
        raise Conflict(detail="An export of this organization is being made; wait for it to end.")
    limit = settings.ORG_EXPORTS_PER_DAY
    day = list(
        OrgExport.objects.filter(org_id=org_id, created_at__gte=now - timedelta(days=1))
        .order_by("created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(day) >= limit:
        raise ExportsLimited(
            detail=f"This organization has made {len(day)} exports in the last 24 hours, the "
            "most it may; download the latest one, or try again later.",
            retry_after=max(1, int((day[0] + timedelta(days=1) - now).total_seconds()) + 1),
        )
    export = OrgExport.objects.create(
        org_id=org_id,
        created_by_id=caller.actor.user_id,
        created_by_api_key_id=caller.actor.api_key_id,
        enqueued_at=now,
    )
    audit_record(
        org_id=org_id, actor=caller.actor, action="org.export_requested",
        target_type="org_export", target_id=export.pk,
    )  # fmt: skip
    enqueue_on_commit(JOB_EXPORT_RUN, str(export.pk))
    return export


def org_export_downloaded(*, export: OrgExport, caller: Caller) -> None:
    """Record in the org's audit log that `caller` downloaded the export."""
    audit_record(
        org_id=export.org_id, actor=caller.actor, action="org.export_downloaded",
        target_type="org_export", target_id=export.pk,
        after={"size_bytes": export.size_bytes, "sha256": export.sha256},
    )  # fmt: skip


def _export_claim(export_id: uuid.UUID | str) -> OrgExport | None:
    """Move the export to `running` for this worker (or take over a claim whose lease ended);
    None when it is finished or held by a live worker."""
    now = lease_claim(
        OrgExport.objects.all(),
        pk=export_id,
        queued=ExportStatus.QUEUED,
        running=ExportStatus.RUNNING,
    )
    if now is None:
        return None
    export = OrgExport.objects.get(pk=export_id)
    if export.attempts > settings.TASK_MAX_ATTEMPTS:
        _export_fail(
            export,
            claim=now,
            reason=f"The export stopped {export.attempts - 1} times without finishing; giving up.",
        )
        return None
    return export


@transaction.atomic
def _export_fail(export: OrgExport, *, claim: datetime, reason: str) -> None:
    if OrgExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING, claimed_at=claim).update(
        status=ExportStatus.FAILED, failure_reason=reason[:2000], finished_at=timezone.now()
    ):
        OrgExportChunk.objects.filter(export_id=export.pk).delete()


class _ChunkWriter(io.RawIOBase):
    """Where the gzip stream goes: cut into CHUNK_BYTES rows of OrgExportChunk, each stored in a
    transaction that first renews this job's claim (so an overtaken job stores nothing more),
    and the progress recorded at most every half second."""

    def __init__(self, export_id: uuid.UUID, claim: datetime) -> None:
        super().__init__()
        self.export_id = export_id
        self.claim = claim
        self.buffer = bytearray()
        self.seq = 0
        self.rows = 0
        self.size = 0
        self.digest = hashlib.sha256()
        self.reported = time.monotonic()

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        view = memoryview(data)
        self.buffer += view
        self.size += view.nbytes
        self.digest.update(view)
        while len(self.buffer) >= CHUNK_BYTES:
            self._store(bytes(self.buffer[:CHUNK_BYTES]))
            del self.buffer[:CHUNK_BYTES]
        return view.nbytes

    def row(self) -> None:
        self.rows += 1
        if time.monotonic() - self.reported >= _PROGRESS_EVERY_SECONDS:
            self.renew(done=self.rows)

    def renew(self, **values: Any) -> None:
        """Record `values` and renew the claim; `_Overtaken` when it is no longer this job's."""
        now = timezone.now()
        changed = OrgExport.objects.filter(
            pk=self.export_id, status=ExportStatus.RUNNING, claimed_at=self.claim
        ).update(claimed_at=now, **values)
        if changed != 1:
            raise _Overtaken()
        self.claim = now
        self.reported = time.monotonic()

    def _store(self, data: bytes) -> None:
        with transaction.atomic():
            self.renew(done=self.rows)
            OrgExportChunk.objects.create(export_id=self.export_id, seq=self.seq, data=data)
        self.seq += 1

    def finish(self) -> None:
        """Store what is left and mark the export done, downloadable for ORG_EXPORT_TTL_HOURS."""
        if self.buffer:
            self._store(bytes(self.buffer))
            self.buffer.clear()
        now = timezone.now()
        with transaction.atomic():
            self.renew(
                status=ExportStatus.DONE,
                done=self.rows,
                total=self.rows,
                size_bytes=self.size,
                sha256=self.digest.hexdigest(),
                finished_at=now,
                expires_at=now + timedelta(hours=settings.ORG_EXPORT_TTL_HOURS),
            )


def org_export_execute(*, export_id: uuid.UUID | str) -> bool:
    """Claim the export and write the org's document into it, gzipped, a chunk at a time. False
    when there was nothing to do (finished, or held by another worker)."""
    export = _export_claim(export_id)
    if export is None:
        return False
    assert export.claimed_at is not None
    writer = _ChunkWriter(export.pk, export.claimed_at)
    try:
        # A previous attempt's pieces, if any, are replaced.
        OrgExportChunk.objects.filter(export_id=export.pk).delete()
        writer.renew(total=rows_total(export.org_id), done=0)
        with gzip.GzipFile(fileobj=writer, mode="wb", mtime=0) as gz:
            for piece in document(export.org_id, on_row=writer.row):
                gz.write(piece.encode())
        writer.finish()
    except _Overtaken:
        logger.info("export %s was taken over by another worker", export.pk)
        return True
    except (DatabaseError, Organization.DoesNotExist):
        # The database failed (the job retries; the claim expires with its lease), or the org
        # was deleted meanwhile (and the export with it): nothing to record.
        if not Organization.objects.filter(pk=export.org_id).exists():
            return True
        raise
    except Exception as exc:
        logger.exception("export %s failed", export.pk)
        _export_fail(export, claim=writer.claim, reason=f"Internal error: {type(exc).__name__}")
        return True
    logger.info("export %s of org %s written: %d rows", export.pk, export.org_id, writer.rows)
    return True


def org_exports_purge() -> int:
    """Delete the data of exports past their expiry (the row stays, saying so) and the rows of
    exports expired a week ago; returns how many exports lost their data."""
    now = timezone.now()
    expired = list(
        OrgExport.objects.filter(data_deleted_at__isnull=True, expires_at__lte=now).values_list(
            "pk", flat=True
        )[:1000]
    )
    for export_id in expired:
        with transaction.atomic():
            OrgExportChunk.objects.filter(export_id=export_id).delete()
            OrgExport.objects.filter(pk=export_id).update(data_deleted_at=now)
    OrgExport.objects.filter(
        Q(expires_at__lt=now - EXPORT_ROWS_KEEP)
        | Q(status=ExportStatus.FAILED, created_at__lt=now - EXPORT_ROWS_KEEP)
    ).delete()
    return len(expired)


# ---------------------------------------------------------------------------------- deletion


@transaction.atomic
def org_deletion_request(*, org_id: int, caller: Caller, confirm: str) -> OrgDeletion:
    """Delete the org, asked by an owner who typed its slug as `confirm`: a person (403 for an
    API key, which may leak and is not someone who can confirm).

    At once, in this transaction: the owner's role is checked again on the locked memberships,
    every member loses access (memberships deleted), every API key and pending invitation is
    revoked, and their cached grants are invalidated; so the org's keys and sessions stop
    working the moment this commits. Then a job cancels the Stripe subscription and deletes
    every row of the org in batches (`org_deletion_execute`). Its record (`OrgDeletion`)
    outlives the org."""
    user_id = caller.actor.user_id
    if user_id is None:
        raise PermissionDenied(
            detail="An API key cannot delete the organization; an owner logged in to the web "
            "app can.",
            permission=Perm.ORG_OWNER,
        )
    org = Organization.objects.select_for_update(no_key=True).filter(pk=org_id).first()
    if org is None:
        raise NotFound(detail="No such organization.")
    if confirm.strip() != org.slug:
        raise ValidationFailed(
            detail="The confirmation does not match the organization.",
            errors=[FieldError("confirm", f"Type the organization's slug, {org.slug}, exactly.")],
        )
    # The same lock order as member changes: every membership of the org, by id.
    members = list(
        Membership.objects.select_for_update()
        .select_related("role", "user")
        .filter(org_id=org_id)
        .order_by("pk")
    )
    owner = next((m for m in members if m.user_id == user_id), None)
    if owner is None:
        raise NotFound(detail="No such organization.")
    if Perm.ORG_OWNER not in owner.role.permissions:
        raise PermissionDenied(
            detail=f"Your role '{owner.role.key}' lacks the permission '{Perm.ORG_OWNER}'.",
            permission=Perm.ORG_OWNER,
        )
    prefixes = list(ApiKey.objects.filter(org_id=org_id).values_list("prefix", flat=True))
    principals = [cache.member_principal(m.user_id, org.slug) for m in members] + [
        cache.key_principal(prefix) for prefix in prefixes
    ]
    cache.changing(principals)
    cache.forget(principals)  # once this commits: nobody of the org has a grant to cache
    now = timezone.now()
    ApiKey.objects.filter(org_id=org_id, revoked_at__isnull=True).update(revoked_at=now)
    Invitation.objects.filter(
        org_id=org_id, accepted_at__isnull=True, revoked_at__isnull=True,
        declined_at__isnull=True,
    ).update(revoked_at=now)  # fmt: skip
    Membership.objects.filter(org_id=org_id).delete()
    deletion = OrgDeletion.objects.create(
        org_id=org.pk,
        org_slug=org.slug,
        org_name=org.name,
        requested_by_user_id=user_id,
        requested_by_label=owner.user.email,
        counts={label(Membership): len(members)},
        enqueued_at=now,
    )
    enqueue_on_commit(JOB_DELETION_RUN, str(deletion.pk))
    logger.info(
        "org %s (%s) deletion requested by user %s; access removed", org.slug, org.pk, user_id
    )
    return deletion


def _deletion_claim(deletion_id: int | str) -> OrgDeletion | None:
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.TASK_CLAIM_LEASE_SECONDS)
    claimable = Q(status=DeletionStatus.QUEUED) | Q(
        status=DeletionStatus.RUNNING, claimed_at__lt=lease_expired
    )
    try:
        changed = OrgDeletion.objects.filter(claimable, pk=int(deletion_id)).update(
            status=DeletionStatus.RUNNING, claimed_at=now, attempts=F("attempts") + 1
        )
    except ValueError:  # not a deletion id
        return None
    if changed != 1:
        return None
    return OrgDeletion.objects.get(pk=deletion_id)


class _DeletionRun:
    """One attempt at a deletion, holding its claim: every write to the record renews the claim
    and is refused (`_Overtaken`) once another worker took it over."""

    def __init__(self, deletion: OrgDeletion) -> None:
        assert deletion.claimed_at is not None
        self.deletion = deletion
        self.claim = deletion.claimed_at
        self.org_id = deletion.org_id
        self.counts: dict[str, int] = dict(deletion.counts)
        self.canceled: list[str] = list(deletion.stripe_subscriptions_canceled)
        self.forgotten = deletion.ai_cache_entries_deleted
        self.customer = deletion.stripe_customer_id

    def record(self, **values: Any) -> None:
        now = timezone.now()
        changed = OrgDeletion.objects.filter(
            pk=self.deletion.pk, status=DeletionStatus.RUNNING, claimed_at=self.claim
        ).update(claimed_at=now, counts=self.counts, **values)
        if changed != 1:
            raise _Overtaken()
        self.claim = now

    def count(self, deleted: dict[str, int]) -> None:
        for model_label, n in deleted.items():
            if n:
                self.counts[model_label] = self.counts.get(model_label, 0) + n

    def stop_work(self) -> None:
        """Nothing more runs for the org: pending tasks, previews and exports end failed (the
        sweepers would otherwise keep scoring a deleted org's tasks while Stripe is retried)."""
        reason = "The organization is being deleted."
        Task.objects.filter(
            org_id=self.org_id, status__in=[TaskStatus.QUEUED, TaskStatus.SCORING]
        ).update(status=TaskStatus.FAILED, failure_reason=reason, updated_at=timezone.now())
        PreviewRun.objects.filter(
            org_id=self.org_id, status__in=[PreviewRunStatus.QUEUED, PreviewRunStatus.RUNNING]
        ).update(status=PreviewRunStatus.FAILED, failure_reason=reason)
        OrgExport.objects.filter(
            org_id=self.org_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
        ).update(status=ExportStatus.FAILED, failure_reason=reason)

    def close_stripe(self) -> None:
        if self.deletion.stripe_closed_at is not None:
            return
        customer = (
            OrgBilling.objects.filter(org_id=self.org_id)
            .values_list("stripe_customer_id", flat=True)
            .first()
        )
        self.canceled = billing_stripe_close(org_id=self.org_id)
        self.customer = customer or ""
        now = timezone.now()
        self.record(
            stripe_customer_id=self.customer,
            stripe_subscriptions_canceled=self.canceled,
            stripe_closed_at=now,
        )
        self.deletion.stripe_closed_at = now

    def forget_ai_answers(self) -> None:
        self.forgotten += ai_cache_forget(org_id=self.org_id)
        self.record(ai_cache_entries_deleted=self.forgotten)

    def delete_rows(self) -> None:
        """Every row of the org's models, children first, a batch per transaction. A batch is
        locked before it is deleted, so a scoring job storing a score for one of its tasks
        either finishes first (its score is deleted with the task) or finds the task gone."""
        paths = org_models()
        for model in deletion_order():
            rows = model._default_manager.filter(**{paths[model]: self.org_id}).order_by()
            conflicts = 0
            while True:
                before = (dict(self.counts), self.claim)
                try:
                    with transaction.atomic():
                        ids = list(
                            rows.values_list("pk", flat=True)[: settings.ORG_DELETE_BATCH_SIZE]
                        )
                        if not ids:
                            break
                        batch = model._default_manager.filter(pk__in=ids)
                        list(batch.select_for_update().values_list("pk", flat=True))
                        _, deleted = batch.delete()
                        self.count(deleted)
                        self.record()
                except BaseException as exc:
                    self.counts, self.claim = before  # the batch's writes were rolled back
                    if not isinstance(exc, ProtectedError | IntegrityError):
                        raise
                    # A row referring to the batch was added meanwhile (a score stored as the
                    # batch was read): the batch is read again, the new row with it.
                    conflicts += 1
                    if conflicts > _DELETE_ROUNDS:
                        raise

    def delete_org(self) -> bool:
        """The org's row (with anything added since the passes, through Django's cascade), with
        the record done, in one transaction. False when a row of the org appeared that the
        cascade may not delete (another pass is needed)."""
        before = (dict(self.counts), self.claim)
        try:
            with transaction.atomic():
                org = Organization.objects.select_for_update().filter(pk=self.org_id).first()
                # Stripe's messages about the org's customer that named no org (its creation).
                self.count({"billing.StripeEvent": stripe_events_forget(customer=self.customer)})
                if org is not None:
                    _, deleted = Organization.objects.filter(pk=self.org_id).delete()
                    self.count(deleted)
                self.record(status=DeletionStatus.DONE, finished_at=timezone.now(), last_error="")
        except (ProtectedError, IntegrityError):
            self.counts, self.claim = before
            return False
        return True


def org_deletion_execute(*, deletion_id: int | str) -> bool:
    """Claim the deletion and carry it out: pending work stopped, Stripe closed (open Checkout
    sessions expired, subscriptions canceled), every row deleted in batches, the org's answers
    in the AI result cache deleted, the org's row last. Each step may be repeated safely, so
    after a failure the job runs again from the start (RetryLater from Stripe, Redis or the
    database, with backoff; the sweeper after a lost message or worker). No row is deleted
    before Stripe has answered: while Stripe fails, the org waits, without access, with
    everything still in place."""
    deletion = _deletion_claim(deletion_id)
    if deletion is None:
        return False
    run = _DeletionRun(deletion)
    try:
        run.stop_work()
        run.close_stripe()
        for _ in range(_DELETE_ROUNDS):
            run.delete_rows()
            # After the rows: a scoring job that was waiting on the AI has stored its answer.
            run.forget_ai_answers()
            if run.delete_org():
                break
        else:
            raise IntegrityError("rows of the org kept appearing while it was deleted")
    except _Overtaken:
        logger.info("deletion %s was taken over by another worker", deletion.pk)
        return True
    except (StripeUnavailable, StripeRefused, RedisError, DatabaseError) as exc:
        countdown = _retry_delay(deletion.attempts)
        try:
            cause = f" ({exc.__cause__})" if exc.__cause__ is not None else ""
            _deletion_release(run, delay_seconds=countdown, reason=f"{exc}{cause}")
        except DatabaseError:
            logger.warning("could not release deletion %s; its lease will", deletion.pk)
        logger.warning("deletion of org %s stopped (%s); again in %.0f s",
                       deletion.org_id, exc, countdown)  # fmt: skip
        raise RetryLater(countdown=countdown, reason=str(exc)) from exc
    logger.info(
        "org %s (%s) deleted; rows: %s; subscriptions canceled: %s",
        deletion.org_slug, deletion.org_id, run.counts,
        run.canceled or "none",
    )  # fmt: skip
    return True


def _deletion_release(run: _DeletionRun, *, delay_seconds: float, reason: str) -> None:
    """Give the deletion back to the queue, due again in `delay_seconds` (the sweeper leaves it
    alone until then plus its deadline)."""
    now = timezone.now()
    OrgDeletion.objects.filter(
        pk=run.deletion.pk, status=DeletionStatus.RUNNING, claimed_at=run.claim
    ).update(
        status=DeletionStatus.QUEUED,
        claimed_at=None,
        enqueued_at=now + timedelta(seconds=delay_seconds),
        last_error=reason[:2000],
        counts=run.counts,
    )


# ---------------------------------------------------------------------------------- sweeping


def _requeue_stuck(rows: QuerySet[Any], job: str, *, limit: int) -> int:
    now = timezone.now()
    deadline = now - timedelta(seconds=settings.TASK_REQUEUE_AFTER_SECONDS)
    lease_expired = now - timedelta(seconds=settings.TASK_CLAIM_LEASE_SECONDS)
    stuck = Q(status="queued", enqueued_at__lt=deadline) | Q(
        status="running", claimed_at__lt=lease_expired, enqueued_at__lt=deadline
    )
    requeued = 0
    for pk in list(rows.filter(stuck).values_list("pk", flat=True)[:limit]):
        # Conditional, so two sweepers do not both enqueue it.
        if rows.filter(stuck, pk=pk).update(enqueued_at=now) == 1:
            enqueue(job, str(pk))
            requeued += 1
    return requeued


def data_rights_requeue_stuck(*, limit: int = 100) -> int:
    """Enqueue again every export or deletion left queued past its deadline (a lost message, or
    a retry's backoff long over), or running with a claim not renewed within the lease (a killed
    worker); returns how many."""
    return _requeue_stuck(OrgExport.objects.all(), JOB_EXPORT_RUN, limit=limit) + _requeue_stuck(
        OrgDeletion.objects.all(), JOB_DELETION_RUN, limit=limit
    )
