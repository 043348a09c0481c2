"""Writes to scoring: models and their versions, the org's active version, and task scores."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from taskscore.core.errors import Conflict, FieldError, ValidationFailed
from taskscore.integrations.ai.base import AIAssessment, AIError
from taskscore.orgs.models import Organization
from taskscore.scoring.ai import ai_assess_criteria
from taskscore.scoring.criteria import criteria_parse, criteria_validate
from taskscore.scoring.engine import Criterion, ScoreResult, score_compute
from taskscore.scoring.models import (
    PreviewRun,
    PreviewRunStatus,
    ScoringModel,
    ScoringVersion,
    TaskScore,
    VersionStatus,
)
from taskscore.scoring.selectors import (
    scoring_model_get,
    version_active_get,
    version_get,
)
from taskscore.scoring.templates import DEFAULT_MODEL_NAME, DEFAULT_TEMPLATE, TEMPLATES

logger = logging.getLogger(__name__)


def version_active_get_or_create(*, org_id: int) -> ScoringVersion:
    """The org's active version; an org that has none gets the default template as the published
    and active version 1 of a model named "Default"."""
    version = version_active_get(org_id=org_id)
    if version is not None:
        return version
    try:
        with transaction.atomic():
            Organization.objects.select_for_update().get(pk=org_id)
            version = version_active_get(org_id=org_id)  # installed while we waited
            if version is not None:
                return version
            model, _ = ScoringModel.objects.get_or_create(
                org_id=org_id,
                name=DEFAULT_MODEL_NAME,
                defaults={"description": DEFAULT_TEMPLATE.description},
            )
            now = timezone.now()
            number = (model.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            return ScoringVersion.objects.create(
                org_id=org_id,
                model=model,
                number=number,
                criteria=DEFAULT_TEMPLATE.criteria,
                notes=f"Built-in template: {DEFAULT_TEMPLATE.name}",
                status=VersionStatus.PUBLISHED,
                is_active=True,
                published_at=now,
                activated_at=now,
            )
    except IntegrityError:  # another process installed it first
        version = version_active_get(org_id=org_id)
        assert version is not None
        return version


def _version_add(
    *, model: ScoringModel, criteria: list[dict[str, Any]], notes: str, user_id: int | None
) -> ScoringVersion:
    for _ in range(5):
        number = (model.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        try:
            with transaction.atomic():
                return ScoringVersion.objects.create(
                    org_id=model.org_id,
                    model=model,
                    number=number,
                    criteria=criteria,
                    notes=notes,
                    created_by_id=user_id,
                )
        except IntegrityError:  # a concurrent create took the number
            continue
    raise Conflict(detail="Could not allocate a version number; try again.")


def _criteria_json(raw: Any) -> list[dict[str, Any]]:
    return [c.model_dump() for c in criteria_validate(raw)]


@transaction.atomic
def scoring_model_create(
    *,
    org_id: int,
    name: str,
    description: str = "",
    template: str | None = None,
    criteria: list[dict[str, Any]] | None = None,
    user_id: int | None = None,
) -> ScoringModel:
    """A new model with a draft version 1 holding `criteria`, or, when none are given, a
    built-in template's (the default template when none is named)."""
    if criteria is None:
        template = template or DEFAULT_TEMPLATE.key
        if template not in TEMPLATES:
            raise ValidationFailed(
                detail=f"Unknown template; use one of {', '.join(sorted(TEMPLATES))}.",
                errors=[FieldError("template", "Unknown template.")],
            )
        source: Any = TEMPLATES[template].criteria
    else:
        template = None
        source = criteria
    clean = _criteria_json(source)
    try:
        with transaction.atomic():
            model = ScoringModel.objects.create(
                org_id=org_id, name=name.strip(), description=description
            )
    except IntegrityError as exc:
        raise Conflict(detail=f"A scoring model named {name!r} exists already.") from exc
    notes = f"From template {TEMPLATES[template].name}" if template else ""
    _version_add(model=model, criteria=clean, notes=notes, user_id=user_id)
    return model


def version_create(
    *, org_id: int, model_id: int, criteria: Any, notes: str = "", user_id: int | None = None
) -> ScoringVersion:
    """A new draft version with the next number. Versions never change once created."""
    model = scoring_model_get(org_id=org_id, model_id=model_id)
    return _version_add(
        model=model, criteria=_criteria_json(criteria), notes=notes, user_id=user_id
    )


def version_publish(*, org_id: int, model_id: int, number: int) -> ScoringVersion:
    """Make a draft usable for scoring. Publishing a published version changes nothing."""
    version = version_get(org_id=org_id, model_id=model_id, number=number)
    ScoringVersion.objects.filter(pk=version.pk, status=VersionStatus.DRAFT).update(
        status=VersionStatus.PUBLISHED, published_at=timezone.now()
    )
    version.refresh_from_db()
    return version


@transaction.atomic
def version_activate(*, org_id: int, model_id: int, number: int) -> ScoringVersion:
    """Make a published version the org's active one (used for every new score)."""
    Organization.objects.select_for_update().get(pk=org_id)  # serializes activations per org
    version = version_get(org_id=org_id, model_id=model_id, number=number)
    if version.status != VersionStatus.PUBLISHED:
        raise Conflict(detail="Publish the version before activating it.")
    if version.is_active:
        return version
    ScoringVersion.objects.filter(org_id=org_id, is_active=True).update(is_active=False)
    version.is_active = True
    version.activated_at = timezone.now()
    version.save(update_fields=["is_active", "activated_at"])
    return version


def score_preview(
    *, criteria: Any, title: str, description: str, attributes: dict[str, float]
) -> ScoreResult:
    """Score a sample task with draft criteria. No row is written (AI answers are cached)."""
    parsed = criteria_validate(criteria)
    ai_results = ai_assess_criteria(criteria=parsed, title=title, description=description)
    return score_compute(criteria=parsed, attributes=attributes, ai_results=ai_results)


def task_score_compute(
    *,
    version: ScoringVersion,
    attributes: dict[str, float],
    ai_results: dict[str, AIAssessment],
) -> ScoreResult:
    return score_compute(
        criteria=criteria_parse(version.criteria), attributes=attributes, ai_results=ai_results
    )


def task_score_record(
    *,
    task_id: UUID | str,
    version: ScoringVersion,
    result: ScoreResult,
    ai_results: dict[str, AIAssessment],
) -> bool:
    """Store the score; False when this (task, version) was already scored (a duplicate job).

    Call inside the caller's transaction: the savepoint keeps a duplicate from aborting it.
    """
    spent = [a for a in ai_results.values() if not a.cached]
    models = sorted({a.model for a in ai_results.values()})
    try:
        with transaction.atomic():
            TaskScore.objects.create(
                task_id=task_id,
                version=version,
                value=result.value,
                breakdown=result.breakdown_as_json(),
                ai_provider=",".join(sorted({a.provider for a in ai_results.values()})),
                ai_model=",".join(models)[:200],
                ai_calls=len(spent),
                input_tokens=sum(a.input_tokens for a in spent),
                output_tokens=sum(a.output_tokens for a in spent),
                ai_latency_ms=sum(a.latency_ms for a in spent),
                cost_usd=sum((Decimal(str(a.cost_usd)) for a in spent), Decimal(0)),
            )
    except IntegrityError:
        return False
    return True


# ---------------------------------------------------------------------------------- previews
#
# A preview run scores the org's latest tasks with draft criteria in a Celery job, so no web
# request waits on the AI. The tasks are read through the org's reverse relation (`org.tasks`):
# scoring sits below tasks and imports nothing from it.

PREVIEW_LIMIT_MAX = 200
PREVIEW_KEEP = timedelta(hours=24)
_PROGRESS_EVERY_SECONDS = 0.5


def _preview_enqueue(run_id: uuid.UUID) -> None:
    """Hand the job to the broker; an outage is logged, and the sweeper enqueues it later."""
    from taskscore.scoring.jobs import preview_run_execute  # jobs imports this module

    try:
        preview_run_execute.delay(str(run_id))
    except Exception:
        logger.warning(
            "could not enqueue preview %s; the sweeper will retry", run_id, exc_info=True
        )


@transaction.atomic
def preview_run_create(
    *,
    org_id: int,
    criteria: Any,
    limit: int = PREVIEW_LIMIT_MAX,
    user_id: int | None = None,
    api_key_id: int | None = None,
) -> PreviewRun:
    """A queued run of `criteria` (validated like a new version's) over the org's `limit` newest
    tasks, chosen now; its job is enqueued once the transaction commits."""
    clean = _criteria_json(criteria)
    if not 1 <= limit <= PREVIEW_LIMIT_MAX:
        raise ValidationFailed(
            detail="The limit is not valid.",
            errors=[FieldError("limit", f"Use 1 to {PREVIEW_LIMIT_MAX} tasks.")],
        )
    org = Organization.objects.get(pk=org_id)
    task_ids = [
        str(pk)
        for pk in org.tasks.order_by("-created_at", "-id").values_list("id", flat=True)[:limit]
    ]
    run = PreviewRun.objects.create(
        org=org,
        criteria=clean,
        limit=limit,
        task_ids=task_ids,
        total=len(task_ids),
        created_by_id=user_id,
        created_by_api_key_id=api_key_id,
        enqueued_at=timezone.now(),
    )
    transaction.on_commit(lambda: _preview_enqueue(run.id))
    return run


def preview_run_claim(*, run_id: uuid.UUID | str) -> PreviewRun | None:
    """Move the run to `running` for this worker, or None when it is finished or another worker
    holds it. A claim not renewed within the lease (a killed worker) can be taken over."""
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.TASK_CLAIM_LEASE_SECONDS)
    claimable = Q(status=PreviewRunStatus.QUEUED) | Q(
        status=PreviewRunStatus.RUNNING, claimed_at__lt=lease_expired
    )
    try:
        changed = PreviewRun.objects.filter(claimable, pk=run_id).update(
            status=PreviewRunStatus.RUNNING,
            claimed_at=now,
            started_at=Coalesce(F("started_at"), Value(now)),
            attempts=F("attempts") + 1,
        )
    except (DjangoValidationError, ValueError):  # not a run id
        return None
    if changed != 1:
        return None
    run = PreviewRun.objects.select_related("org").get(pk=run_id)
    if run.attempts > settings.TASK_MAX_ATTEMPTS:
        _preview_end(
            run,
            claim=now,
            status=PreviewRunStatus.FAILED,
            reason=f"The preview stopped {run.attempts - 1} times without finishing; giving up.",
        )
        return None
    return run


def _preview_end(
    run: PreviewRun,
    *,
    claim: datetime,
    status: PreviewRunStatus,
    reason: str = "",
    items: list[dict[str, Any]] | None = None,
) -> bool:
    """Finish the run, only while this job still holds its claim."""
    return (
        PreviewRun.objects.filter(
            pk=run.pk, status=PreviewRunStatus.RUNNING, claimed_at=claim
        ).update(
            status=status,
            failure_reason=reason[:2000],
            items=items or [],
            done=run.total if status == PreviewRunStatus.DONE else F("done"),
            finished_at=timezone.now(),
        )
        == 1
    )


def _preview_progress(run_id: uuid.UUID, *, claim: datetime, done: int) -> datetime | None:
    """Record progress and renew the claim; None when the claim was taken over."""
    now = timezone.now()
    changed = PreviewRun.objects.filter(
        pk=run_id, status=PreviewRunStatus.RUNNING, claimed_at=claim
    ).update(done=done, claimed_at=now)
    if not connection.in_atomic_block:
        connection.close()  # back to the pool while the next answers are awaited
    return now if changed == 1 else None


@dataclass(frozen=True)
class _PreviewTask:
    id: str
    title: str
    description: str
    attributes: Mapping[str, float]
    score: float | None
    created_at: datetime


def _preview_score(
    criteria: list[Criterion], task: _PreviewTask
) -> tuple[float | None, str | None]:
    """The task's score under `criteria` (exactly as scoring computes it, AI answers through the
    cache), or the AI's error for this task."""
    try:
        ai_results = ai_assess_criteria(
            criteria=criteria, title=task.title, description=task.description
        )
    except AIError as exc:
        return None, f"The AI provider could not rate this task: {exc}"
    return score_compute(
        criteria=criteria, attributes=task.attributes, ai_results=ai_results
    ).value, None


def _ranks(tasks: list[_PreviewTask], scores: Mapping[str, float | None]) -> dict[str, int]:
    """1 = the highest score; ties as the task list orders them (newer first, then higher id)."""
    ranked = sorted(
        (t for t in tasks if scores[t.id] is not None),
        key=lambda t: (scores[t.id], t.created_at, uuid.UUID(t.id)),
        reverse=True,
    )
    return {t.id: rank for rank, t in enumerate(ranked, start=1)}


def _preview_items(
    tasks: list[_PreviewTask], results: Mapping[str, tuple[float | None, str | None]]
) -> list[dict[str, Any]]:
    """One item per task, by new rank (tasks with no new score last, newest first)."""
    old = _ranks(tasks, {t.id: t.score for t in tasks})
    new = _ranks(tasks, {t.id: results[t.id][0] for t in tasks})
    items: list[dict[str, Any]] = []
    for task in tasks:
        new_score, error = results[task.id]
        old_rank, new_rank = old.get(task.id), new.get(task.id)
        items.append(
            {
                "task_id": task.id,
                "title": task.title,
                "old_score": task.score,
                "new_score": new_score,
                "old_rank": old_rank,
                "new_rank": new_rank,
                "rank_change": None
                if old_rank is None or new_rank is None
                else old_rank - new_rank,
                "error": error,
            }
        )
    position = {t.id: n for n, t in enumerate(tasks)}
    items.sort(key=lambda i: (i["new_rank"] is None, i["new_rank"] or 0, position[i["task_id"]]))
    return items


def preview_run_execute(*, run_id: uuid.UUID | str) -> bool:
    """Claim the run, score its tasks with the draft a few at a time (progress as they finish),
    rank old against new and finish. False when there was nothing to do (finished, or held by
    another worker). An AI error marks its task's item, not the run."""
    run = preview_run_claim(run_id=run_id)
    if run is None:
        return False
    claim = run.claimed_at
    assert claim is not None
    try:
        criteria = criteria_parse(run.criteria)
    except ValueError as exc:
        _preview_end(run, claim=claim, status=PreviewRunStatus.FAILED, reason=str(exc))
        return True
    found = {
        str(t.pk): _PreviewTask(
            id=str(t.pk),
            title=t.title,
            description=t.description,
            attributes=t.attributes,
            score=t.score_value,
            created_at=t.created_at,
        )
        for t in run.org.tasks.filter(pk__in=run.task_ids)
    }
    tasks = [found[i] for i in run.task_ids if i in found]  # a deleted task is left out
    results: dict[str, tuple[float | None, str | None]] = {}
    if not connection.in_atomic_block:
        connection.close()  # no connection held while the AI answers
    pool = ThreadPoolExecutor(max_workers=max(1, settings.PREVIEW_CONCURRENCY))
    try:
        futures: dict[Future[tuple[float | None, str | None]], str] = {
            pool.submit(_preview_score, criteria, task): task.id for task in tasks
        }
        reported = time.monotonic()
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if time.monotonic() - reported >= _PROGRESS_EVERY_SECONDS:
                renewed = _preview_progress(run.pk, claim=claim, done=len(results))
                reported = time.monotonic()
                if renewed is None:
                    logger.info("preview %s was taken over by another worker", run.pk)
                    return True
                claim = renewed
    except Exception as exc:
        logger.exception("preview %s failed", run.pk)
        _preview_end(
            run, claim=claim, status=PreviewRunStatus.FAILED, reason=f"Internal error: {exc}"
        )
        return True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    _preview_end(
        run, claim=claim, status=PreviewRunStatus.DONE, items=_preview_items(tasks, results)
    )
    return True


def preview_runs_requeue_stuck(*, limit: int = 100) -> int:
    """Enqueue again every run left queued past its deadline, or running with a claim not
    renewed within the lease; returns how many."""
    now = timezone.now()
    deadline = now - timedelta(seconds=settings.TASK_REQUEUE_AFTER_SECONDS)
    lease_expired = now - timedelta(seconds=settings.TASK_CLAIM_LEASE_SECONDS)
    stuck = Q(status=PreviewRunStatus.QUEUED, enqueued_at__lt=deadline) | Q(
        status=PreviewRunStatus.RUNNING, claimed_at__lt=lease_expired, enqueued_at__lt=deadline
    )
    requeued = 0
    for run_id in list(PreviewRun.objects.filter(stuck).values_list("id", flat=True)[:limit]):
        # Conditional, so two sweepers do not both enqueue it.
        if PreviewRun.objects.filter(stuck, pk=run_id).update(enqueued_at=now) == 1:
            _preview_enqueue(run_id)
            requeued += 1
    return requeued


def preview_runs_purge() -> int:
    """Delete runs created more than a day ago; returns how many."""
    deleted, _ = PreviewRun.objects.filter(created_at__lt=timezone.now() - PREVIEW_KEEP).delete()
    return deleted
