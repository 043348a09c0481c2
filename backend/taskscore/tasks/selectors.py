from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypedDict

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from taskscore.core.cursor import Ordering, SortKey, cursor_encode, page_keyset
from taskscore.core.db import fixed_fetch
from taskscore.core.errors import NotFound
from taskscore.scoring.criteria import criteria_parse
from taskscore.scoring.engine import Criterion, ai_criteria_count
from taskscore.scoring.models import ScoreOverride, TaskScore
from taskscore.scoring.recompute import EffectiveScore, score_effective
from taskscore.scoring.selectors import version_active_require
from taskscore.tasks.models import Task, TaskCount, TaskStatus
from taskscore.tasks.search import title_search_page


@dataclass(frozen=True)
class TaskPage:
    items: list[Task]
    next_cursor: str | None


def _with_scores(qs: QuerySet[Task]) -> QuerySet[Task]:
    """`qs` with each task's newest score (one row per task: DISTINCT ON, served by the
    (task_id, created_at) index; a task's older scores are another endpoint's) and its active
    overrides. The score's inputs and AI figures, which no task view shows, are not loaded."""
    return qs.prefetch_related(
        Prefetch(
            "scores",
            queryset=TaskScore.objects.select_related("version")
            .only(
                "id",
                "task_id",
                "version_id",
                "value",
                "breakdown",
                "created_at",
                "version__id",
                "version__number",
                "version__criteria",
            )
            .order_by("task_id", "-created_at", "-id")
            .distinct("task_id"),
            to_attr="scores_newest_first",
        ),
        Prefetch(
            "overrides",
            queryset=ScoreOverride.objects.filter(cleared_at__isnull=True)
            .select_related("created_by", "created_by_api_key")
            .order_by("-created_at"),
            to_attr="overrides_active",
        ),
    )


def task_latest_score(task: Task) -> TaskScore | None:
    """The newest score of a task loaded through this module's selectors."""
    scores: list[TaskScore] = getattr(task, "scores_newest_first", [])
    return scores[0] if scores else None


def task_active_overrides(task: Task) -> list[ScoreOverride]:
    """The task's active overrides, newest first (loaded through this module's selectors)."""
    overrides: list[ScoreOverride] = getattr(task, "overrides_active", [])
    return overrides


def task_effective_score(task: Task) -> EffectiveScore | None:
    """The task's newest score with its active overrides applied, or None before it is scored."""
    score = task_latest_score(task)
    return None if score is None else score_effective(score, task_active_overrides(task))


def task_score_get(*, org_id: int, task_id: uuid.UUID | str, score_id: int) -> TaskScore:
    """One score of one of the org's tasks; NotFound otherwise."""
    task = task_get(org_id=org_id, task_id=task_id)
    score = (
        TaskScore.objects.select_related("version", "version__model")
        .filter(task=task, pk=score_id)
        .first()
    )
    if score is None:
        raise NotFound(detail="No such score of this task.")
    return score


def task_overrides_history(task: Task) -> list[ScoreOverride]:
    """Every override of the task, active and cleared, newest first."""
    return list(
        ScoreOverride.objects.filter(task=task)
        .select_related("created_by", "created_by_api_key", "cleared_by")
        .order_by("-created_at")
    )


def task_submitted(task: Task) -> Task:
    """A task its submission just stored, as this module's selectors load it: no scores and no
    overrides yet (its scoring job starts once the submission has committed). Shown as stored,
    without reading it back."""
    task.scores_newest_first = []  # type: ignore[attr-defined]
    task.overrides_active = []  # type: ignore[attr-defined]
    return task


def task_get(*, org_id: int, task_id: uuid.UUID | str) -> Task:
    """The task with its scores; NotFound for an unknown id or another org's task."""
    try:
        return _with_scores(Task.objects.filter(org_id=org_id)).get(pk=task_id)
    except (Task.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFound(detail="No such task.") from exc


_CREATED = SortKey("created_at", "datetime")
_ID = SortKey("pk", "pk")
_SCORE = SortKey("score_value", "float", nullable=True)
# Every order is total (the id breaks ties) and served by an index per org (tasks.models).
TASK_ORDERINGS: dict[str, Ordering] = {
    "-created_at": Ordering("-created_at", (_CREATED, _ID), descending=True),
    "created_at": Ordering("created_at", (_CREATED, _ID), descending=False),
    # By the current score; unscored tasks last either way; ties by creation, then id.
    "-score": Ordering("-score", (_SCORE, _CREATED, _ID), descending=True),
    "score": Ordering("score", (_SCORE, _CREATED, _ID), descending=False),
}
TaskSort = Literal["-created_at", "created_at", "-score", "score"]


class TaskSelection(TypedDict):
    """The arguments of `task_list` and `task_list_version` (one page of one listing)."""

    org_id: int
    limit: int
    cursor: str | None
    sort: TaskSort
    status: str | None
    q: str | None
    overridden: bool | None


def _task_list_filtered(
    *, org_id: int, status: str | None, overridden: bool | None
) -> QuerySet[Task]:
    """The org's tasks with the list's filters but the title search (`_task_page` applies it)."""
    tasks = Task.objects.filter(org_id=org_id)
    if status is not None:
        tasks = tasks.filter(status=status)
    if overridden is not None:
        active = ScoreOverride.objects.filter(task=OuterRef("pk"), cleared_at__isnull=True)
        tasks = tasks.filter(Exists(active) if overridden else ~Exists(active))
    return tasks


def _task_page(
    tasks: QuerySet[Task],
    *,
    org_id: int,
    q: str | None,
    sort: TaskSort,
    limit: int,
    cursor: str | None,
    keys: bool = False,
) -> TaskPage:
    """One keyset page of `tasks` in `sort`, only those whose title matches `q` if any (read
    through the title's words index: `tasks.search`)."""
    ordering = TASK_ORDERINGS[sort]
    if not q:
        items, next_cursor = page_keyset(tasks, ordering=ordering, limit=limit, cursor=cursor)
    else:
        items, next_cursor = title_search_page(
            tasks, org_id=org_id, q=q, ordering=ordering, limit=limit, cursor=cursor, keys=keys
        )
    return TaskPage(items=items, next_cursor=next_cursor)


def task_list(
    *,
    org_id: int,
    limit: int,
    cursor: str | None,
    sort: TaskSort = "-created_at",
    status: str | None = None,
    q: str | None = None,
    overridden: bool | None = None,
) -> TaskPage:
    """A page of the org's tasks in `sort` order, optionally only those in `status`, those
    whose title has the words of `q` (the last one may be the start of a word; any case:
    `tasks.search`), and those whose score a person overrode (or not). The cursor is bound to
    its sort."""
    tasks = _task_list_filtered(org_id=org_id, status=status, overridden=overridden)
    return _task_page(
        _with_scores(tasks), org_id=org_id, q=q, sort=sort, limit=limit, cursor=cursor
    )


def task_page_version(page: TaskPage) -> list[object]:
    """What a page's representation depends on: its tasks and when each last changed (a score,
    a status, an override: every write to what a task shows sets `updated_at`) and where the
    next page starts. Equal versions, equal pages."""
    return _page_version(page.items, page.next_cursor)


def _page_version(rows: Iterable[Any], next_cursor: str | None) -> list[object]:
    return [*(f"{row.pk}@{row.updated_at.isoformat()}" for row in rows), next_cursor]


def task_list_version(
    *,
    org_id: int,
    limit: int,
    cursor: str | None,
    sort: TaskSort = "-created_at",
    status: str | None = None,
    q: str | None = None,
    overridden: bool | None = None,
) -> list[object]:
    """`task_page_version` of the page `task_list` would return, from the page's keys alone:
    one query through the same index, no scores, no overrides (a conditional GET's check; for a
    search of one word too, its parse and its page's rows in one query: `tasks.search`)."""
    if cursor is None and status is None and q is None and overridden is None:
        return _first_page_version(org_id=org_id, sort=sort, limit=limit)
    tasks = _task_list_filtered(org_id=org_id, status=status, overridden=overridden)
    if not q:
        # Plain rows, not model instances: a tenth of a poll's CPU went on building 51 tasks.
        rows = tasks.values_list("pk", "updated_at", "created_at", "score_value", named=True)
        items, next_cursor = page_keyset(
            rows, ordering=TASK_ORDERINGS[sort], limit=limit, cursor=cursor
        )
        return _page_version(items, next_cursor)
    keys = tasks.only("id", "updated_at", "created_at", "score_value")
    return task_page_version(
        _task_page(keys, org_id=org_id, q=q, sort=sort, limit=limit, cursor=cursor, keys=True)
    )


class _TaskKeys(NamedTuple):
    pk: uuid.UUID
    updated_at: datetime
    created_at: datetime
    score_value: float | None


_KEYS = _TaskKeys._fields


@functools.cache
def _first_page_keys_sql(sort: TaskSort) -> str:
    """The keys of an org's first tasks in `sort` (parameters: the org, how many), as the
    ORM writes the statement `task_list_version` makes through `page_keyset`: built once."""
    keys = Task.objects.filter(org_id=0).values_list(*_KEYS)
    sql, params = keys.order_by(*TASK_ORDERINGS[sort].order_by()).query.sql_with_params()
    if params != (0,):  # pragma: no cover - the ORM's own statement changed shape
        raise RuntimeError(f"unexpected parameters in the task list's statement: {params}")
    return f"{sql} LIMIT %s"


def _first_page_version(*, org_id: int, sort: TaskSort, limit: int) -> list[object]:
    """`task_list_version` of an unfiltered first page, the web app's every poll: the same
    statement through the same index as a fixed statement (`core.db.fixed_fetch`), its rows
    read as they come. Building the query through the ORM cost more than running it."""
    rows = [
        _TaskKeys(*row)
        for row in fixed_fetch(_first_page_keys_sql(sort), [org_id, limit + 1], many=True)
    ]
    if len(rows) <= limit:
        return _page_version(rows, None)
    rows = rows[:limit]
    return _page_version(rows, cursor_encode(TASK_ORDERINGS[sort], rows[-1]))


# Every read of one task asks this first (its ETag): written as SQL, it cost a third of the CPU
# the ORM's query building took; as a fixed statement (`core.db.fixed_fetch`), ~85k instructions
# fewer again than through Django's cursor (`make bench-instructions`' get_task).
_TASK_VERSION_SQL = f"SELECT updated_at FROM {Task._meta.db_table} WHERE id = %s AND org_id = %s"  # noqa: S608


def task_version(*, org_id: int, task_id: uuid.UUID | str) -> list[object]:
    """What one task's representation depends on (see `task_page_version`); NotFound as
    `task_get`."""
    try:
        pk = task_id if isinstance(task_id, uuid.UUID) else uuid.UUID(task_id)
    except (ValueError, TypeError, AttributeError) as exc:
        raise NotFound(detail="No such task.") from exc
    row = fixed_fetch(_TASK_VERSION_SQL, [pk, org_id])
    if row is None:
        raise NotFound(detail="No such task.")
    return [f"{pk}@{row[0].isoformat()}"]


def task_count(*, org_id: int) -> int:
    """How many tasks the org has, from the count Postgres keeps with them (`TaskCount`)."""
    counted = TaskCount.objects.filter(org_id=org_id).values_list("tasks", flat=True).first()
    return counted or 0


def task_list_offset(*, org_id: int, limit: int, offset: int) -> tuple[list[Task], int]:
    """v1's page: `limit` tasks newest first after skipping `offset`, and the org's task count.

    The skipped rows are walked in the index alone (the ids of the page are found first, an
    index-only scan of task_org_created), then only the page's rows are read: a deep offset
    still costs in proportion to the offset, but not a table read per skipped row."""
    newest_first = Task.objects.filter(org_id=org_id).order_by("-created_at", "-id")
    page_ids = newest_first.values("pk")[offset : offset + limit]
    items = list(_with_scores(newest_first.filter(pk__in=page_ids)))
    return items, task_count(org_id=org_id)


def tasks_rescorable(*, org_id: int, version_id: int) -> QuerySet[Task]:
    """The org's finished tasks (scored or failed) without a score from `version`."""
    return Task.objects.filter(
        org_id=org_id, status__in=[TaskStatus.SCORED, TaskStatus.FAILED]
    ).exclude(scores__version_id=version_id)


RESCORE_ALL_MAX = 10_000


@dataclass(frozen=True)
class AIEstimate:
    tasks: int
    ai_calls: int  # at most: one per task and AI criterion (a cached answer costs none)


def rescore_all_estimate(*, org_id: int) -> AIEstimate:
    """What re-scoring every finished task with the active version would cost in AI calls."""
    version = version_active_require(org_id=org_id)
    # Counts at most RESCORE_ALL_MAX rows, not every finished task of a large org.
    tasks = tasks_rescorable(org_id=org_id, version_id=version.pk)[:RESCORE_ALL_MAX].count()
    return AIEstimate(
        tasks=tasks, ai_calls=tasks * ai_criteria_count(criteria_parse(version.criteria))
    )


def preview_estimate(*, org_id: int, criteria: list[Criterion], limit: int) -> AIEstimate:
    """What a preview run of `criteria` over the org's `limit` newest tasks would cost."""
    tasks = Task.objects.filter(org_id=org_id)[:limit].count()  # counts at most `limit` rows
    return AIEstimate(tasks=tasks, ai_calls=tasks * ai_criteria_count(criteria))
