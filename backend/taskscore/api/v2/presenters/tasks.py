from __future__ import annotations

from typing import Any

from taskscore.api.v2.presenters.reviews import override_out
from taskscore.scoring.models import TaskScore
from taskscore.tasks.models import Task
from taskscore.tasks.selectors import task_active_overrides, task_effective_score, task_latest_score


def score_breakdown_out(
    score: TaskScore, human_values: dict[str, float] | None = None
) -> list[dict[str, Any]]:
    """The score's breakdown as the machine computed it, each item with a person's value for
    it where an override is active."""
    human_values = human_values or {}
    return [{**item, "human_value": human_values.get(item["key"])} for item in score.breakdown]


def task_out(task: Task) -> dict[str, Any]:
    score = task_latest_score(task)
    effective = task_effective_score(task)
    overrides = task_active_overrides(task)
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
        if score is None or effective is None
        else {
            "id": score.pk,
            "value": effective.value,
            "machine_value": score.value,
            "overridden": effective.overridden,
            "version": score.version.number,
            "scored_at": score.created_at,
            "breakdown": score_breakdown_out(
                score, {key: o.value for key, o in effective.by_criterion.items()}
            ),
        },
        "overrides": [override_out(o) for o in overrides],
    }


def task_score_out(score: TaskScore) -> dict[str, Any]:
    """One score of a task, with its version and what the AI part cost."""
    return {
        "version_id": score.version_id,
        "version": score.version.number,
        "model": score.version.model.name,
        "value": score.value,
        "breakdown": score.breakdown,
        "ai_provider": score.ai_provider,
        "ai_model": score.ai_model,
        "ai_calls": score.ai_calls,
        "input_tokens": score.input_tokens,
        "output_tokens": score.output_tokens,
        "ai_latency_ms": score.ai_latency_ms,
        "cost_usd": float(score.cost_usd),
        "scored_at": score.created_at,
    }


def rescore_all_out(queued: int) -> dict[str, Any]:
    return {"queued": queued}
