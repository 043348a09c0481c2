"""Previews of draft criteria over the org's latest tasks, run as jobs."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from taskscore.billing.services import ai_calls_require, ai_calls_reserve, ai_calls_settle
from taskscore.core.db import connection_release
from taskscore.core.errors import FieldError, ValidationFailed
from taskscore.core.leases import lease_claim
from taskscore.core.queue import enqueue, enqueue_on_commit
from taskscore.core.request_context import submit_in_context
from taskscore.integrations.ai.base import AIAssessment, AIError
from taskscore.orgs.models import Organization
from taskscore.orgs.selectors import AIRules, ai_rules
from taskscore.scoring.ai import Skip, ai_assess, ai_prepare
from taskscore.scoring.criteria import criteria_clean, criteria_parse
from taskscore.scoring.engine import Criterion, NothingToScore, ai_criteria_count, score_compute
from taskscore.scoring.models import (
    PreviewRun,
    PreviewRunStatus,
)

logger = logging.getLogger(__name__)
# ---------------------------------------------------------------------------------- previews
#
# A preview run scores the org's latest tasks with draft criteria in a Celery job, so no web
# request waits on the AI. The tasks are read through the org's reverse relation (`org.tasks`):
# scoring sits below tasks and imports nothing from it.

PREVIEW_LIMIT_MAX = 200
PREVIEW_KEEP = timedelta(hours=24)
_PROGRESS_EVERY_SECONDS = 0.5


# The jobs' names (scoring/jobs.py registers them): services enqueue by name (core.queue).
JOB_PREVIEW_RUN = "taskscore.scoring.jobs.preview_run_execute"
JOB_PREVIEW_SWEEP = "taskscore.scoring.jobs.preview_runs_sweep"
JOB_PREVIEW_PURGE = "taskscore.scoring.jobs.preview_runs_purge"


def _preview_enqueue(run_id: uuid.UUID) -> None:
    """Hand the job to the broker; on an outage the run stays `queued` for the sweeper."""
    enqueue(JOB_PREVIEW_RUN, str(run_id))


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
    tasks, chosen now; its job is enqueued once the transaction commits. Refused
    (AIBudgetExceeded) when the org's AI allowance cannot cover one call per task and AI
    criterion (cached answers are not counted once made, so the run may cost less)."""
    clean = criteria_clean(criteria)
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
    ai_calls_require(org_id=org_id, calls=len(task_ids) * ai_criteria_count(criteria_parse(clean)))
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
    enqueue_on_commit(JOB_PREVIEW_RUN, str(run.id))
    return run


def preview_run_claim(*, run_id: uuid.UUID | str) -> PreviewRun | None:
    """Move the run to `running` for this worker, or None when it is finished or another worker
    holds it. A claim not renewed within the lease (a killed worker) can be taken over."""
    now = lease_claim(
        PreviewRun.objects.all(),
        pk=run_id,
        queued=PreviewRunStatus.QUEUED,
        running=PreviewRunStatus.RUNNING,
    )
    if now is None:
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
    connection_release()  # back to the pool while the next answers are awaited
    return now if changed == 1 else None


@dataclass(frozen=True)
class _PreviewTask:
    id: str
    title: str
    description: str
    attributes: Mapping[str, float]
    score: float | None
    created_at: datetime


@dataclass(frozen=True)
class _PreviewResult:
    score: float | None
    error: str | None = None
    ai_skipped: str | None = None  # why the AI criteria were left out ("budget", "ai_off", ...)
    calls_made: int = 0
    cost_usd: Decimal = Decimal(0)


def _preview_score(
    rules: AIRules, budget: bool, criteria: list[Criterion], task: _PreviewTask
) -> _PreviewResult:
    """The task's score under `criteria` exactly as scoring computes it (the org's AI rules,
    AI answers through the cache; `budget` False: the run's reservation did not pass, the AI
    criteria are skipped), or why there is none. No database: it runs in the run's threads."""
    run = ai_prepare(rules=rules, criteria=criteria, title=task.title, description=task.description)
    if not budget:
        run = run.skip_all(Skip.BUDGET) if run.to_rate else run
    received: dict[str, AIAssessment] = {}
    try:
        run = ai_assess(run, criteria, into=received)
    except AIError as exc:
        made = replace(run, results=received)
        return _PreviewResult(
            None,
            error=f"The AI provider could not rate this task: {exc}",
            calls_made=made.calls_made,
            cost_usd=made.cost_usd,
        )
    skipped = ", ".join(sorted(set(run.skipped.values()))) or None
    try:
        result = score_compute(
            criteria=criteria,
            attributes=task.attributes,
            ai_results=run.results,
            skipped=run.skipped,
        )
    except NothingToScore as exc:
        return _PreviewResult(None, error=f"No score: {exc}.", ai_skipped=skipped)
    return _PreviewResult(
        result.value, ai_skipped=skipped, calls_made=run.calls_made, cost_usd=run.cost_usd
    )


def _ranks(tasks: list[_PreviewTask], scores: Mapping[str, float | None]) -> dict[str, int]:
    """1 = the highest score; ties as the task list orders them (newer first, then higher id)."""
    ranked = sorted(
        (t for t in tasks if scores[t.id] is not None),
        key=lambda t: (scores[t.id], t.created_at, uuid.UUID(t.id)),
        reverse=True,
    )
    return {t.id: rank for rank, t in enumerate(ranked, start=1)}


def _preview_items(
    tasks: list[_PreviewTask], results: Mapping[str, _PreviewResult]
) -> list[dict[str, Any]]:
    """One item per task, by new rank (tasks with no new score last, newest first)."""
    old = _ranks(tasks, {t.id: t.score for t in tasks})
    new = _ranks(tasks, {t.id: results[t.id].score for t in tasks})
    items: list[dict[str, Any]] = []
    for task in tasks:
        new_score, error = results[task.id].score, results[task.id].error
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
                "ai_skipped": results[task.id].ai_skipped,
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
    results: dict[str, _PreviewResult] = {}
    # The run's AI calls are reserved at once (one call per task and AI criterion), settled
    # with the calls made when it ends: the threads below touch no database.
    rules = ai_rules(org_id=run.org_id)
    reservation = ai_calls_reserve(
        org_id=run.org_id, calls=len(tasks) * ai_criteria_count(criteria)
    )
    connection_release()  # no connection held while the AI answers
    pool = ThreadPoolExecutor(max_workers=max(1, settings.PREVIEW_CONCURRENCY))
    try:
        futures: dict[Future[_PreviewResult], str] = {
            submit_in_context(
                pool, _preview_score, rules, reservation is not None, criteria, task
            ): task.id
            for task in tasks
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
        if reservation is not None:
            ai_calls_settle(
                reservation=reservation,
                used=sum(r.calls_made for r in results.values()),
                cost_usd=sum((r.cost_usd for r in results.values()), Decimal(0)),
            )
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
