"""v1's responses: a flat score, offset pages."""

from __future__ import annotations

from typing import Any

from taskscore.tasks.models import Task
from taskscore.tasks.selectors import task_effective_score


def task_out(task: Task) -> dict[str, Any]:
    # The score as people see it: a person's override wins over the machine's value.
    score = task_effective_score(task)
    return {
        "id": str(task.id),
        "title": task.title,
        "description": task.description,
        "attributes": task.attributes,
        "status": task.status,
        "score": score.value if score else None,
        "created_at": task.created_at,
    }


def offset_page_out(items: list[Task], *, count: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": [task_out(t) for t in items], "count": count, "limit": limit, "offset": offset}
