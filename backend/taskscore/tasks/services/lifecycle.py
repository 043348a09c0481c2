"""Submission, the scoring lifecycle, and recovery of lost jobs."""

from __future__ import annotations

import functools
import logging
import math
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from taskscore.billing.services import ai_calls_require, usage_reserve
from taskscore.core import request_context
from taskscore.core.db import fixed_fetch, model_columns, model_from_row, model_insert
from taskscore.core.errors import Conflict, FieldError, ValidationFailed
from taskscore.core.queue import enqueue, enqueue_on_commit
from taskscore.integrations.ai.base import PermanentAIError, RetryableAIError
from taskscore.orgs.models import Organization
from taskscore.orgs.selectors import AIRules
from taskscore.scoring.ai import SKIP_EXPLANATIONS, ai_run_criteria
from taskscore.scoring.criteria import criteria_parse
from taskscore.scoring.engine import NothingToScore, ai_criteria_count, score_compute
from taskscore.scoring.models import ScoreOverride, ScoringVersion, TaskScore
from taskscore.scoring.selectors import version_criteria, version_get_cached
from taskscore.scoring.services import score_row, version_active_get_or_create
from taskscore.tasks.limits import (
    ATTRIBUTE_ABS_MAX,
    ATTRIBUTE_NAME,
    ATTRIBUTES_MAX,
    DESCRIPTION_MAX,
    TITLE_MAX,
)
from taskscore.tasks.models import Task, TaskStatus
from taskscore.tasks.selectors import RESCORE_ALL_MAX, task_get, tasks_rescorable
from taskscore.tasks.services.reviews import task_score_value_refresh

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskInput:
    title: str
    description: str
    attributes: dict[str, Any]


def _validate(data: TaskInput) -> TaskInput:
    errors: list[FieldError] = []
    title = data.title.strip()
    if not title:
        errors.append(FieldError("title", "Enter a title."))
    elif len(title) > TITLE_MAX:
        errors.append(FieldError("title", f"Use at most {TITLE_MAX} characters."))
    if len(data.description) > DESCRIPTION_MAX:
        errors.append(FieldError("description", f"Use at most {DESCRIPTION_MAX} characters."))
    if len(data.attributes) > ATTRIBUTES_MAX:
        errors.append(FieldError("attributes", f"Use at most {ATTRIBUTES_MAX} attributes."))
    attributes: dict[str, float] = {}
    for name, value in data.attributes.items():
        field = f"attributes.{name}"
        if not ATTRIBUTE_NAME.match(name):
            errors.append(
                FieldError(
                    field, "Names are lowercase letters, digits and _, starting with a letter."
                )
            )
        elif isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(FieldError(field, "Must be a number."))
        elif not math.isfinite(value) or abs(value) > ATTRIBUTE_ABS_MAX:
            errors.append(FieldError(field, "Must be a finite number within ±1e12."))
        else:
            attributes[name] = float(value)
    if errors:
        raise ValidationFailed(detail="The task is not valid.", errors=errors)
    return TaskInput(title=title, description=data.description, attributes=attributes)


BATCH_MAX = 100


@transaction.atomic
def tasks_submit_batch(
    *,
    org_id: int,
    items: list[TaskInput],
    user_id: int | None = None,
    api_key_id: int | None = None,
) -> list[Task]:
    """Submit up to BATCH_MAX tasks at once, all or nothing: one invalid task (or the quota)
    refuses the whole batch and writes nothing."""
    if not 1 <= len(items) <= BATCH_MAX:
        raise ValidationFailed(
            detail=f"Send 1 to {BATCH_MAX} tasks.",
            errors=[FieldError("tasks", f"Send 1 to {BATCH_MAX} tasks.")],
        )
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        try:
            _validate(item)
        except ValidationFailed as exc:
            errors += [FieldError(f"tasks.{index}.{e.field}", e.message) for e in exc.errors]
    if errors:
        raise ValidationFailed(
            detail="Some tasks are not valid; none was submitted.", errors=errors
        )
    return [
        task_submit(org_id=org_id, data=item, user_id=user_id, api_key_id=api_key_id)
        for item in items
    ]


# The jobs' names (tasks/jobs.py registers them): services enqueue by name (core.queue).
JOB_TASK_SCORE = "taskscore.tasks.jobs.task_score"
JOB_TASKS_SWEEP = "taskscore.tasks.jobs.tasks_sweep_stuck"


def _enqueue(task_id: uuid.UUID) -> None:
    """Hand the scoring job to the broker; on an outage the task stays `queued` for the sweeper."""
    enqueue(JOB_TASK_SCORE, str(task_id))


@transaction.atomic
def task_submit(
    *, org_id: int, data: TaskInput, user_id: int | None = None, api_key_id: int | None = None
) -> Task:
    """Store a task `queued` and schedule its scoring once the transaction commits."""
    clean = _validate(data)
    task = model_insert(
        Task(
            org_id=org_id,
            title=clean.title,
            description=clean.description,
            attributes=clean.attributes,
            created_by_id=user_id,
            created_by_api_key_id=api_key_id,
            enqueued_at=timezone.now(),
        )
    )
    # Counts against the plan's quota (402 and nothing written when over it); locks the org's
    # billing row, so two submissions at the limit cannot both pass.
    usage_reserve(org_id=org_id, task_id=task.id)
    enqueue_on_commit(JOB_TASK_SCORE, str(task.id))
    return task


@dataclass(frozen=True)
class _Claim:
    """A claimed task with what its job reads next, returned by the claim's own statement."""

    task: Task
    rules: AIRules
    active_version_id: int | None


@functools.cache
def _claim_sql() -> str:
    """The claim's statement (built once per process: the models' columns do not change)."""
    return f"""UPDATE {Task._meta.db_table} AS t
        SET status = %(scoring)s, claimed_at = %(now)s, attempts = t.attempts + 1,
            updated_at = %(now)s
        FROM {Organization._meta.db_table} AS o
        WHERE t.id = %(id)s AND o.id = t.org_id
          AND (t.status = %(queued)s OR (t.status = %(scoring)s AND t.claimed_at < %(expired)s))
        RETURNING {model_columns(Task, alias="t")}, o.ai_enabled, o.ai_send_title,
          o.ai_send_description,
          (SELECT v.id FROM {ScoringVersion._meta.db_table} AS v
           WHERE v.org_id = t.org_id AND v.is_active)"""  # noqa: S608


def _claim(*, task_id: uuid.UUID | str) -> _Claim | None:
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.TASK_CLAIM_LEASE_SECONDS)
    params: dict[str, Any] = {
        "id": uuid.UUID(str(task_id)),
        "now": now,
        "expired": lease_expired,
        "queued": TaskStatus.QUEUED,
        "scoring": TaskStatus.SCORING,
    }
    row = fixed_fetch(_claim_sql(), params)
    if row is None:
        return None
    task = model_from_row(Task, row)
    enabled, send_title, send_description, active_version_id = row[-4:]
    rules = AIRules(
        org_id=task.org_id,
        enabled=enabled,
        send_title=send_title,
        send_description=send_description,
    )
    claim = _Claim(task=task, rules=rules, active_version_id=active_version_id)
    if task.attempts > settings.TASK_MAX_ATTEMPTS:
        # Every earlier attempt died without an answer (a worker killed or crashing on it):
        # give up instead of taking workers down forever.
        task_finish(
            task,
            status=TaskStatus.FAILED,
            reason=f"Scoring stopped {task.attempts - 1} times without finishing; giving up.",
        )
        return None
    return claim


def task_claim(*, task_id: uuid.UUID | str) -> Task | None:
    """Move the task to `scoring` for this worker, or return None when another worker holds it
    or it is finished. A claim older than the lease (a killed worker) can be taken over.

    One statement: the conditional UPDATE returns the task it claimed, with its org's AI rules
    and active version (what the job reads next)."""
    claim = _claim(task_id=task_id)
    return None if claim is None else claim.task


@functools.cache
def _scored_sql(names: tuple[str, ...], unless_overridden: bool) -> str:
    """`_task_scored`'s statement for a score row with these fields (built once per process)."""
    overrides = f"""SELECT 1 FROM {ScoreOverride._meta.db_table} o
                   WHERE o.task_id = t.id AND o.cleared_at IS NULL"""  # noqa: S608
    guard = f"AND NOT EXISTS ({overrides})" if unless_overridden else ""
    fields = [TaskScore._meta.get_field(name) for name in names]
    score_columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)  # type: ignore[union-attr]
    score_values = ", ".join(f"%(s_{name})s" for name in names)
    return f"""WITH s AS (SELECT EXISTS (SELECT 1 FROM {TaskScore._meta.db_table}
                                 WHERE task_id = %(id)s AND version_id = %(version)s) AS found),
        ended AS (
          UPDATE {Task._meta.db_table} AS t
          SET status = %(scored)s, failure_reason = '', updated_at = %(now)s,
              score_value = CASE WHEN s.found THEN t.score_value ELSE %(s_value)s END
          FROM s
          WHERE t.id = %(id)s AND t.status = %(scoring)s AND t.claimed_at = %(claim)s {guard}
          RETURNING s.found, EXISTS ({overrides}) AS overridden),
        stored AS (
          INSERT INTO {TaskScore._meta.db_table} (task_id, version_id, created_at, {score_columns})
          SELECT %(id)s, %(version)s, %(now)s, {score_values} FROM ended WHERE NOT found
          RETURNING 1)
        SELECT found, overridden FROM ended"""  # noqa: S608


def _task_scored(
    *, task: Task, version: ScoringVersion, row: dict[str, Any], unless_overridden: bool = False
) -> tuple[bool, bool] | None:
    """End the claimed task as scored and store its score (`row`: `scoring.services.score_row`)
    as its current one, unless this version has scored it already (a duplicate job). One
    statement, which also locks the task's row until the caller's transaction ends. None when
    the claim is no longer this job's (taken over, or the task deleted), or with
    `unless_overridden` when the task has active overrides: nothing is written; else (already
    scored with this version, has active overrides)."""
    db = connections[DEFAULT_DB_ALIAS]  # looked up once, not per field (core.db.fixed_fetch)
    values = {
        f"s_{name}": TaskScore._meta.get_field(name).get_db_prep_save(value, db)  # type: ignore[union-attr]
        for name, value in row.items()
    }
    found = fixed_fetch(
        _scored_sql(tuple(row), unless_overridden),
        {"id": task.pk, "version": version.pk, "now": timezone.now(), "claim": task.claimed_at,
         "scored": TaskStatus.SCORED, "scoring": TaskStatus.SCORING, **values},
    )  # fmt: skip
    return None if found is None else (bool(found[0]), bool(found[1]))


@dataclass
class RetryLater(Exception):
    """The task was released after a transient failure; run the job again in `countdown` s."""

    countdown: float
    reason: str


def retry_delay(*, attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter (half fixed, half random), never sooner than the
    server's Retry-After."""
    base = float(settings.TASK_RETRY_BASE_SECONDS)
    ceiling = min(float(settings.TASK_RETRY_MAX_SECONDS), base * 2.0 ** (attempt - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret
    return max(delay, retry_after or 0.0)


def task_score_run(*, task_id: uuid.UUID | str) -> bool:
    """Claim, score and finish one task. False when there was nothing to do (a duplicate job).

    Raises RetryLater after releasing the task when the AI failed transiently and the retry
    budget (TASK_MAX_ATTEMPTS) is not spent."""
    request_context.bind(task_id=str(task_id))  # for the job's log lines, the AI calls' too
    claim = _claim(task_id=task_id)
    if claim is None:
        return False
    task = claim.task
    request_context.bind(org_id=task.org_id)
    version = (
        version_get_cached(version_id=claim.active_version_id)
        if claim.active_version_id is not None
        else version_active_get_or_create(org_id=task.org_id)
    )
    try:
        criteria = version_criteria(version)
    except ValueError as exc:
        task_finish(task, status=TaskStatus.FAILED, reason=f"Scoring version is invalid: {exc}")
        return True
    try:
        run = ai_run_criteria(
            org_id=task.org_id,
            criteria=criteria,
            title=task.title,
            description=task.description,
            rules=claim.rules,
        )
    except RetryableAIError as exc:
        if task.attempts >= settings.TASK_MAX_ATTEMPTS:
            task_finish(
                task,
                status=TaskStatus.FAILED,
                reason=f"The AI provider failed {task.attempts} times; last error: {exc}",
            )
            return True
        countdown = retry_delay(attempt=task.attempts, retry_after=exc.retry_after)
        task_release(task=task, delay_seconds=countdown)
        raise RetryLater(countdown=countdown, reason=str(exc)) from exc
    except PermanentAIError as exc:
        task_finish(
            task, status=TaskStatus.FAILED, reason=f"The AI provider refused the task: {exc}"
        )
        return True
    try:
        result = score_compute(
            criteria=criteria,
            attributes=task.attributes,
            ai_results=run.results,
            skipped=run.skipped,
        )
    except NothingToScore:
        reasons = "; ".join(SKIP_EXPLANATIONS[r] for r in sorted(set(run.skipped.values())))
        task_finish(
            task,
            status=TaskStatus.FAILED,
            reason=f"Not scored: every criterion of the active version is an AI criterion, "
            f"and they were skipped: {reasons}.",
        )
        return True
    row = score_row(
        version=version, criteria=criteria, result=result, run=run, attributes=task.attributes
    )
    # Still ours (a task deleted meanwhile, or taken over by another worker, gets nothing from
    # this job): ended and its score stored in one statement, which the task's row lock and its
    # check keep to one score of this version (a duplicate would fail on the unique constraint
    # and write nothing). A task without active overrides (nearly all): that statement alone,
    # in autocommit, no BEGIN and COMMIT round trips.
    if _task_scored(task=task, version=version, row=row, unless_overridden=True) is not None:
        return True
    with transaction.atomic():
        # Overridden (or no longer ours: then nothing is written again): the newest score is
        # the task's current one with its overrides applied, refreshed in the same transaction.
        ended = _task_scored(task=task, version=version, row=row)
        if ended is None:
            return True
        already_scored, overridden = ended
        if not already_scored and overridden:
            task_score_value_refresh(task_id=task.pk)
    return True


def task_finish(task: Task, *, status: TaskStatus, reason: str) -> None:
    """End a claimed task (scored or failed), only while this job still holds its claim."""
    # Only while this job still holds the claim: a job that overran its lease and was taken
    # over must not end (or fail) the task under the new holder.
    Task.objects.filter(pk=task.pk, status=TaskStatus.SCORING, claimed_at=task.claimed_at).update(
        status=status, failure_reason=reason[:2000], updated_at=timezone.now()
    )


def task_release(*, task: Task, delay_seconds: float = 0.0) -> None:
    """Give a claimed task back to the queue, due again in `delay_seconds` (the sweeper leaves
    it alone until then plus its deadline). A no-op if the claim was taken over."""
    now = timezone.now()
    Task.objects.filter(pk=task.pk, status=TaskStatus.SCORING, claimed_at=task.claimed_at).update(
        status=TaskStatus.QUEUED,
        claimed_at=None,
        enqueued_at=now + timedelta(seconds=delay_seconds),
        updated_at=now,
    )


@transaction.atomic
def task_rescore(*, org_id: int, task_id: uuid.UUID | str) -> Task:
    """Score the task again with the org's active version (a failed task: try again)."""
    task = task_get(org_id=org_id, task_id=task_id)
    version = version_active_get_or_create(org_id=org_id)
    if task.status in (TaskStatus.QUEUED, TaskStatus.SCORING):
        raise Conflict(detail="The task is being scored already.")
    if not tasks_rescorable(org_id=org_id, version_id=version.pk).filter(pk=task.pk).exists():
        raise Conflict(
            detail=f"The task already has a score from the active version {version.number}; "
            "activate another version to re-score it."
        )
    _requeue(Task.objects.filter(pk=task.pk))
    return task_get(org_id=org_id, task_id=task_id)


@transaction.atomic
def tasks_rescore_all(*, org_id: int, limit: int = RESCORE_ALL_MAX) -> int:
    """Queue every finished task of the org that has no score from the active version yet.
    Refused (AIBudgetExceeded) when the org's AI allowance cannot cover one call per task and
    AI criterion; each job still reserves its own calls when it runs."""
    version = version_active_get_or_create(org_id=org_id)
    ids = list(
        tasks_rescorable(org_id=org_id, version_id=version.pk).values_list("id", flat=True)[:limit]
    )
    ai_calls_require(
        org_id=org_id,
        calls=len(ids) * ai_criteria_count(criteria_parse(version.criteria)),
    )
    return _requeue(Task.objects.filter(pk__in=ids))


def _requeue(tasks: QuerySet[Task]) -> int:
    now = timezone.now()
    ids = list(
        tasks.filter(status__in=[TaskStatus.SCORED, TaskStatus.FAILED]).values_list("id", flat=True)
    )
    changed = Task.objects.filter(
        pk__in=ids, status__in=[TaskStatus.SCORED, TaskStatus.FAILED]
    ).update(
        status=TaskStatus.QUEUED,
        attempts=0,
        failure_reason="",
        claimed_at=None,
        enqueued_at=now,
        updated_at=now,
    )

    def enqueue_all() -> None:
        for task_id in ids:
            _enqueue(task_id)

    transaction.on_commit(enqueue_all)
    return changed


def tasks_requeue_stuck(*, limit: int = 1000) -> int:
    """Enqueue again every task left queued past its deadline, or claimed by a worker that has
    not finished within the lease; returns how many."""
    now = timezone.now()
    deadline = now - timedelta(seconds=settings.TASK_REQUEUE_AFTER_SECONDS)
    lease_expired = now - timedelta(seconds=settings.TASK_CLAIM_LEASE_SECONDS)
    stuck = (
        Q(status=TaskStatus.QUEUED, enqueued_at__lt=deadline)
        | Q(status=TaskStatus.QUEUED, enqueued_at__isnull=True)
        | Q(status=TaskStatus.SCORING, claimed_at__lt=lease_expired, enqueued_at__lt=deadline)
    )
    ids = list(Task.objects.filter(stuck).values_list("id", flat=True)[:limit])
    requeued = 0
    for task_id in ids:
        # Conditional on the deadline still holding, so two sweepers do not enqueue it twice.
        if Task.objects.filter(stuck, pk=task_id).update(enqueued_at=now) == 1:
            _enqueue(task_id)
            requeued += 1
    if requeued:
        logger.info("requeued %d stuck tasks", requeued)
    return requeued
