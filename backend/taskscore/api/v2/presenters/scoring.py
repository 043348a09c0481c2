from __future__ import annotations

from dataclasses import asdict
from typing import Any

from taskscore.scoring.engine import ScoreResult
from taskscore.scoring.models import PreviewRun, PreviewRunStatus, ScoringModel, ScoringVersion
from taskscore.scoring.selectors import ComparisonRow
from taskscore.scoring.templates import Template


def version_out(version: ScoringVersion) -> dict[str, Any]:
    return {
        "id": version.pk,
        "model_id": version.model_id,
        "number": version.number,
        "status": version.status,
        "is_active": version.is_active,
        "notes": version.notes,
        "criteria": version.criteria,
        "created_at": version.created_at,
        "published_at": version.published_at,
        "activated_at": version.activated_at,
    }


def model_out(model: ScoringModel) -> dict[str, Any]:
    versions = sorted(model.versions.all(), key=lambda v: v.number)
    return {
        "id": model.pk,
        "name": model.name,
        "description": model.description,
        "created_at": model.created_at,
        "versions": [version_out(v) for v in versions],
    }


def template_out(template: Template) -> dict[str, Any]:
    return {
        "key": template.key,
        "name": template.name,
        "description": template.description,
        "criteria": template.criteria,
    }


def sample_preview_out(result: ScoreResult) -> dict[str, Any]:
    return {"value": result.value, "breakdown": result.breakdown_as_json()}


def preview_run_out(run: PreviewRun) -> dict[str, Any]:
    return {
        "id": str(run.pk),
        "status": run.status,
        "total": run.total,
        "done": run.done,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "failure_reason": run.failure_reason or None,
        "items": run.items if run.status == PreviewRunStatus.DONE else [],
    }


def comparison_out(
    *, from_version: int, to_version: int, rows: list[ComparisonRow]
) -> dict[str, Any]:
    return {
        "from_version": from_version,
        "to_version": to_version,
        "tasks": len(rows),
        "mean_delta": sum(r.delta for r in rows) / len(rows) if rows else 0.0,
        "rank_changes": sum(r.from_rank != r.to_rank for r in rows),
        "items": [asdict(r) for r in rows],
    }
