from __future__ import annotations

from uuid import UUID

from django.db import IntegrityError, transaction

from taskscore.integrations.ai.base import AIAssessment
from taskscore.scoring.engine import ScoreResult, score_compute
from taskscore.scoring.models import ScoringVersion, TaskScore
from taskscore.scoring.selectors import criteria_parse, version_active_get
from taskscore.scoring.templates import DEFAULT_CRITERIA, DEFAULT_VERSION_NAME


def version_active_get_or_create(*, org_id: int) -> ScoringVersion:
    """The org's active version; an org that has none gets the built-in default as version 1."""
    version = version_active_get(org_id=org_id)
    if version is not None:
        return version
    try:
        with transaction.atomic():
            return ScoringVersion.objects.create(
                org_id=org_id,
                number=1,
                name=DEFAULT_VERSION_NAME,
                criteria=DEFAULT_CRITERIA,
                is_active=True,
            )
    except IntegrityError:  # another process installed it first
        version = version_active_get(org_id=org_id)
        assert version is not None
        return version


def task_score_compute(
    *,
    version: ScoringVersion,
    attributes: dict[str, float],
    ai_results: dict[str, AIAssessment],
) -> ScoreResult:
    return score_compute(
        criteria=criteria_parse(version.criteria), attributes=attributes, ai_results=ai_results
    )


def task_score_record(*, task_id: UUID | str, version: ScoringVersion, result: ScoreResult) -> bool:
    """Store the score; False when this (task, version) was already scored (a duplicate job).

    Call inside the caller's transaction: the savepoint keeps a duplicate from aborting it.
    """
    try:
        with transaction.atomic():
            TaskScore.objects.create(
                task_id=task_id,
                version=version,
                value=result.value,
                breakdown=result.breakdown_as_json(),
            )
    except IntegrityError:
        return False
    return True
