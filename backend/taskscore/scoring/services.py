"""Writes to scoring: models and their versions, the org's active version, and task scores."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from taskscore.core.errors import Conflict, FieldError, ValidationFailed
from taskscore.integrations.ai.base import AIAssessment
from taskscore.orgs.models import Organization
from taskscore.scoring.ai import ai_assess_criteria
from taskscore.scoring.engine import ScoreResult, score_compute
from taskscore.scoring.models import ScoringModel, ScoringVersion, TaskScore, VersionStatus
from taskscore.scoring.selectors import (
    criteria_parse,
    criteria_validate,
    scoring_model_get,
    version_active_get,
    version_get,
)
from taskscore.scoring.templates import DEFAULT_MODEL_NAME, DEFAULT_TEMPLATE, TEMPLATES


def version_active_get_or_create(*, org_id: int) -> ScoringVersion:
    """The org's active version; an org that has none gets the default template as the published
    and active version 1 of a model named "Default"."""
    version = version_active_get(org_id=org_id)
    if version is not None:
        return version
    try:
        with transaction.atomic():
            Organization.objects.select_for_update().get(pk=org_id)
            version = version_active_get(org_id=org_id)  # installed while we waited
            if version is not None:
                return version
            model, _ = ScoringModel.objects.get_or_create(
                org_id=org_id,
                name=DEFAULT_MODEL_NAME,
                defaults={"description": DEFAULT_TEMPLATE.description},
            )
            now = timezone.now()
            number = (model.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            return ScoringVersion.objects.create(
                org_id=org_id,
                model=model,
                number=number,
                criteria=DEFAULT_TEMPLATE.criteria,
                notes=f"Built-in template: {DEFAULT_TEMPLATE.name}",
                status=VersionStatus.PUBLISHED,
                is_active=True,
                published_at=now,
                activated_at=now,
            )
    except IntegrityError:  # another process installed it first
        version = version_active_get(org_id=org_id)
        assert version is not None
        return version


def _version_add(
    *, model: ScoringModel, criteria: list[dict[str, Any]], notes: str, user_id: int | None
) -> ScoringVersion:
    for _ in range(5):
        number = (model.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        try:
            with transaction.atomic():
                return ScoringVersion.objects.create(
                    org_id=model.org_id,
                    model=model,
                    number=number,
                    criteria=criteria,
                    notes=notes,
                    created_by_id=user_id,
                )
        except IntegrityError:  # a concurrent create took the number
            continue
    raise Conflict(detail="Could not allocate a version number; try again.")


def _criteria_json(raw: Any) -> list[dict[str, Any]]:
    return [c.model_dump() for c in criteria_validate(raw)]


@transaction.atomic
def scoring_model_create(
    *,
    org_id: int,
    name: str,
    description: str = "",
    template: str | None = None,
    criteria: list[dict[str, Any]] | None = None,
    user_id: int | None = None,
) -> ScoringModel:
    """A new model with a draft version 1 holding `criteria`, or, when none are given, a
    built-in template's (the default template when none is named)."""
    if criteria is None:
        template = template or DEFAULT_TEMPLATE.key
        if template not in TEMPLATES:
            raise ValidationFailed(
                detail=f"Unknown template; use one of {', '.join(sorted(TEMPLATES))}.",
                errors=[FieldError("template", "Unknown template.")],
            )
        source: Any = TEMPLATES[template].criteria
    else:
        template = None
        source = criteria
    clean = _criteria_json(source)
    try:
        with transaction.atomic():
            model = ScoringModel.objects.create(
                org_id=org_id, name=name.strip(), description=description
            )
    except IntegrityError as exc:
        raise Conflict(detail=f"A scoring model named {name!r} exists already.") from exc
    notes = f"From template {TEMPLATES[template].name}" if template else ""
    _version_add(model=model, criteria=clean, notes=notes, user_id=user_id)
    return model


def version_create(
    *, org_id: int, model_id: int, criteria: Any, notes: str = "", user_id: int | None = None
) -> ScoringVersion:
    """A new draft version with the next number. Versions never change once created."""
    model = scoring_model_get(org_id=org_id, model_id=model_id)
    return _version_add(
        model=model, criteria=_criteria_json(criteria), notes=notes, user_id=user_id
    )


def version_publish(*, org_id: int, model_id: int, number: int) -> ScoringVersion:
    """Make a draft usable for scoring. Publishing a published version changes nothing."""
    version = version_get(org_id=org_id, model_id=model_id, number=number)
    ScoringVersion.objects.filter(pk=version.pk, status=VersionStatus.DRAFT).update(
        status=VersionStatus.PUBLISHED, published_at=timezone.now()
    )
    version.refresh_from_db()
    return version


@transaction.atomic
def version_activate(*, org_id: int, model_id: int, number: int) -> ScoringVersion:
    """Make a published version the org's active one (used for every new score)."""
    Organization.objects.select_for_update().get(pk=org_id)  # serializes activations per org
    version = version_get(org_id=org_id, model_id=model_id, number=number)
    if version.status != VersionStatus.PUBLISHED:
        raise Conflict(detail="Publish the version before activating it.")
    if version.is_active:
        return version
    ScoringVersion.objects.filter(org_id=org_id, is_active=True).update(is_active=False)
    version.is_active = True
    version.activated_at = timezone.now()
    version.save(update_fields=["is_active", "activated_at"])
    return version


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
