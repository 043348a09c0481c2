"""Task scores: computing one with a version, recording it once with the inputs that made it,
recomputing it from them, and previewing criteria on a sample."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction

from taskscore.billing.services import ai_calls_require
from taskscore.scoring.ai import AIRun, ai_run_criteria
from taskscore.scoring.criteria import criteria_parse, criteria_validate
from taskscore.scoring.engine import (
    AttributeCriterion,
    Criterion,
    ScoreResult,
    ai_criteria_count,
    score_compute,
)
from taskscore.scoring.models import ScoringVersion, TaskScore
from taskscore.scoring.recompute import INPUTS_VERSION

logger = logging.getLogger(__name__)


def score_preview(
    *, org_id: int, criteria: Any, title: str, description: str, attributes: dict[str, float]
) -> ScoreResult:
    """Score a sample task with draft criteria. No row is written (AI answers are cached); the
    AI calls count against the org's allowance, and a preview it cannot cover is refused
    (AIBudgetExceeded) rather than shown without its AI part. A web request: the AI gets
    AI_SAMPLE_PREVIEW_SECONDS, after which its criteria are skipped as slow (never a 0)."""
    parsed = criteria_validate(criteria)
    ai_calls_require(org_id=org_id, calls=ai_criteria_count(parsed))
    run = ai_run_criteria(
        org_id=org_id,
        criteria=parsed,
        title=title,
        description=description,
        within=settings.AI_SAMPLE_PREVIEW_SECONDS,
    )
    return score_compute(
        criteria=parsed, attributes=attributes, ai_results=run.results, skipped=run.skipped
    )


def score_inputs(
    *, version: ScoringVersion, criteria: list[Criterion], attributes: Mapping[str, Any], run: AIRun
) -> dict[str, Any]:
    """What a score is computed from, to store with it (TaskScore.inputs)."""
    used = sorted({c.attribute for c in criteria if isinstance(c, AttributeCriterion)})
    return {
        "inputs_version": INPUTS_VERSION,
        "version_id": version.pk,
        "version": version.number,
        "attributes": {name: attributes.get(name) for name in used},
        "ratings": {key: a.rating for key, a in sorted(run.results.items())},
        "ai": run.inputs(),
    }


def score_row(
    *,
    version: ScoringVersion,
    result: ScoreResult,
    run: AIRun | None = None,
    attributes: Mapping[str, Any] | None = None,
    criteria: list[Criterion] | None = None,
) -> dict[str, Any]:
    """A score's `TaskScore` fields but its task and version: the value and breakdown, what the
    AI spent on it, and the inputs it was computed from. `criteria`: the version's, when the
    caller parsed them already."""
    run = run or AIRun()
    assessments = run.results.values()
    spent = [a for a in assessments if not a.cached]
    return {
        "value": result.value,
        "breakdown": result.breakdown_as_json(),
        "ai_provider": ",".join(sorted({a.provider for a in assessments})),
        "ai_model": ",".join(sorted({a.model for a in assessments}))[:200],
        "ai_calls": len(spent),
        "input_tokens": sum(a.input_tokens for a in spent),
        "output_tokens": sum(a.output_tokens for a in spent),
        "ai_latency_ms": sum(a.latency_ms for a in spent),
        "cost_usd": sum((Decimal(str(a.cost_usd)) for a in spent), Decimal(0)),
        "inputs": score_inputs(
            version=version,
            criteria=criteria if criteria is not None else criteria_parse(version.criteria),
            attributes=attributes or {},
            run=run,
        ),
    }


def task_score_record(
    *,
    task_id: UUID | str,
    version: ScoringVersion,
    result: ScoreResult,
    run: AIRun | None = None,
    attributes: Mapping[str, Any] | None = None,
    savepoint: bool = True,
) -> bool:
    """Store the score with its inputs; False when this (task, version) was already scored (a
    duplicate job).

    Call inside the caller's transaction: the savepoint keeps a duplicate from aborting it.
    Without it (`savepoint=False`, a caller that ruled the duplicate out under a lock), a
    duplicate raises IntegrityError and the caller's transaction is rolled back. (The scoring
    job stores its score in the statement that finishes the task: `tasks.services.lifecycle`.)
    """
    row = score_row(version=version, result=result, run=run, attributes=attributes)
    try:
        with transaction.atomic(savepoint=savepoint):
            TaskScore.objects.create(task_id=task_id, version=version, **row)
    except IntegrityError:
        if not savepoint:
            raise
        return False
    return True
