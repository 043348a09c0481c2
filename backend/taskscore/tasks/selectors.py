from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from taskscore.core.cursor import Ordering, SortKey, page_keyset
from taskscore.core.errors import NotFound
from taskscore.scoring.models import TaskScore
from taskscore.tasks.models import Task


@dataclass(frozen=True)
class TaskPage:
    items: list[Task]
    next_cursor: str | None


def _with_scores(qs: QuerySet[Task]) -> QuerySet[Task]:
    return qs.prefetch_related(
        Prefetch(
            "scores",
            queryset=TaskScore.objects.select_related("version").order_by("-created_at"),
            to_attr="scores_newest_first",
        )
    )


def task_latest_score(task: Task) -> TaskScore | None:
    """The newest score of a task loaded through this module's selectors."""
    scores: list[TaskScore] = getattr(task, "scores_newest_first", [])
    return scores[0] if scores else None


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


def task_list(
    *,
    org_id: int,
    limit: int,
    cursor: str | None,
    sort: TaskSort = "-created_at",
    status: str | None = None,
    q: str | None = None,
) -> TaskPage:
    """A page of the org's tasks in `sort` order, optionally only those in `status` and those
    whose title contains `q` (any case). The cursor is bound to its sort."""
    tasks = Task.objects.filter(org_id=org_id)
    if status is not None:
        tasks = tasks.filter(status=status)
    if q:
        tasks = tasks.filter(title__icontains=q)
    items, next_cursor = page_keyset(
        _with_scores(tasks), ordering=TASK_ORDERINGS[sort], limit=limit, cursor=cursor
    )
    return TaskPage(items=items, next_cursor=next_cursor)


def task_list_offset(*, org_id: int, limit: int, offset: int) -> tuple[list[Task], int]:
    qs = Task.objects.filter(org_id=org_id).order_by("-created_at", "-id")
    return list(_with_scores(qs)[offset : offset + limit]), qs.count()


def task_list_by_ids(*, org_id: int, ids: list[uuid.UUID]) -> list[Task]:
    """The org's tasks with these ids, in the given order."""
    found = {t.pk: t for t in _with_scores(Task.objects.filter(org_id=org_id, pk__in=ids))}
    return [found[i] for i in ids if i in found]
