"""Scoring models and their numbered versions (create, publish, activate), and the default
version an org starts with."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from taskscore.accounts.models import User
from taskscore.core.errors import Conflict, FieldError, ValidationFailed
from taskscore.orgs.models import Organization
from taskscore.orgs.services import org_create
from taskscore.scoring.criteria import criteria_clean
from taskscore.scoring.models import (
    ScoringModel,
    ScoringVersion,
    VersionStatus,
)
from taskscore.scoring.selectors import (
    scoring_model_get,
    version_active_get,
    version_get,
)
from taskscore.scoring.templates import DEFAULT_MODEL_NAME, DEFAULT_TEMPLATE, TEMPLATES

logger = logging.getLogger(__name__)


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


@transaction.atomic
def org_open(*, name: str, owner: User) -> Organization:
    """A new organization with `owner` as its owner (`orgs.services.org_create`) and the default
    scoring version installed and active, so that reading it never has to create it."""
    org = org_create(name=name, owner=owner)
    version_active_get_or_create(org_id=org.pk)
    return org


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
    clean = criteria_clean(source)
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
        model=model, criteria=criteria_clean(criteria), notes=notes, user_id=user_id
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
