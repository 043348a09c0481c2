"""Task scores: computing one with a version, recording it once, previewing criteria on a sample."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction

from taskscore.integrations.ai.base import AIAssessment
from taskscore.scoring.ai import ai_assess_criteria
from taskscore.scoring.criteria import criteria_parse, criteria_validate
from taskscore.scoring.engine import ScoreResult, score_compute
from taskscore.scoring.models import (
    ScoringVersion,
    TaskScore,
)

logger = logging.getLogger(__name__)


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
