"""Domain objects → v2 response shapes."""

from __future__ import annotations

from typing import Any

from taskscore.tasks.models import Task
from taskscore.tasks.selectors import task_latest_score


def task_out(task: Task) -> dict[str, Any]:
    score = task_latest_score(task)
    return {
        "id": str(task.id),
        "title": task.title,
        "description": task.description,
        "attributes": task.attributes,
        "status": task.status,
        "failure_reason": task.failure_reason or None,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "score": None
        if score is None
        else {
            "value": score.value,
            "version": score.version.number,
            "scored_at": score.created_at,
            "breakdown": score.breakdown,
        },
    }
