"""Scoring models, versions, preview and comparison (v2)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from taskscore.api.common.auth import principal_of, requires
from taskscore.api.v2.presenters.scoring import (
    comparison_out,
    model_out,
    preview_run_out,
    sample_preview_out,
    template_out,
    version_out,
)
from taskscore.api.v2.scoring_schemas import (
    CompareQuery,
    ComparisonOut,
    PreviewIn,
    PreviewOut,
    PreviewRunIn,
    PreviewRunOut,
    ScoringModelIn,
    ScoringModelOut,
    TemplateOut,
    VersionIn,
    VersionOut,
)
from taskscore.rbac.catalog import Perm
from taskscore.scoring import selectors, services
from taskscore.scoring.templates import TEMPLATES

router = Router(tags=["scoring"])


def _dump(criteria: list[Any]) -> list[dict[str, Any]]:
    return [c.model_dump() for c in criteria]


@router.get(
    "/orgs/{org}/scoring/templates", response=list[TemplateOut], operation_id="scoring_templates"
)
@requires(Perm.TASK_READ)
def templates(request: HttpRequest, org: str) -> list[dict[str, Any]]:
    return [template_out(t) for t in TEMPLATES.values()]


@router.get(
    "/orgs/{org}/scoring/models", response=list[ScoringModelOut], operation_id="scoring_model_list"
)
@requires(Perm.TASK_READ)
def model_list(request: HttpRequest, org: str) -> list[dict[str, Any]]:
    principal = principal_of(request)
    return [model_out(m) for m in selectors.scoring_model_list(org_id=principal.org_id)]


@router.post(
    "/orgs/{org}/scoring/models",
    response={201: ScoringModelOut},
    operation_id="scoring_model_create",
)
@requires(Perm.SCORING_MANAGE)
def model_create(request: HttpRequest, org: str, payload: ScoringModelIn) -> Status[dict[str, Any]]:
    principal = principal_of(request)
    model = services.scoring_model_create(
        org_id=principal.org_id,
        name=payload.name,
        description=payload.description,
        template=payload.template,
        criteria=_dump(payload.criteria) if payload.criteria is not None else None,
        user_id=principal.user_id,
    )
    return Status(
        201, model_out(selectors.scoring_model_get(org_id=principal.org_id, model_id=model.pk))
    )


@router.get(
    "/orgs/{org}/scoring/models/{model_id}",
    response=ScoringModelOut,
    operation_id="scoring_model_get",
)
@requires(Perm.TASK_READ)
def model_get(request: HttpRequest, org: str, model_id: int) -> dict[str, Any]:
    principal = principal_of(request)
    return model_out(selectors.scoring_model_get(org_id=principal.org_id, model_id=model_id))


@router.post(
    "/orgs/{org}/scoring/models/{model_id}/versions",
    response={201: VersionOut},
    operation_id="scoring_version_create",
)
@requires(Perm.SCORING_MANAGE)
def version_create(
    request: HttpRequest, org: str, model_id: int, payload: VersionIn
) -> Status[dict[str, Any]]:
    principal = principal_of(request)
    version = services.version_create(
        org_id=principal.org_id,
        model_id=model_id,
        criteria=_dump(payload.criteria),
        notes=payload.notes,
        user_id=principal.user_id,
    )
    return Status(201, version_out(version))


@router.get(
    "/orgs/{org}/scoring/models/{model_id}/versions/{number}",
    response=VersionOut,
    operation_id="scoring_version_get",
)
@requires(Perm.TASK_READ)
def version_get(request: HttpRequest, org: str, model_id: int, number: int) -> dict[str, Any]:
    principal = principal_of(request)
    return version_out(
        selectors.version_get(org_id=principal.org_id, model_id=model_id, number=number)
    )


@router.post(
    "/orgs/{org}/scoring/models/{model_id}/versions/{number}/publish",
    response=VersionOut,
    operation_id="scoring_version_publish",
)
@requires(Perm.SCORING_MANAGE)
def version_publish(request: HttpRequest, org: str, model_id: int, number: int) -> dict[str, Any]:
    principal = principal_of(request)
    return version_out(
        services.version_publish(org_id=principal.org_id, model_id=model_id, number=number)
    )


@router.post(
    "/orgs/{org}/scoring/models/{model_id}/versions/{number}/activate",
    response=VersionOut,
    operation_id="scoring_version_activate",
)
@requires(Perm.SCORING_MANAGE)
def version_activate(request: HttpRequest, org: str, model_id: int, number: int) -> dict[str, Any]:
    principal = principal_of(request)
    return version_out(
        services.version_activate(org_id=principal.org_id, model_id=model_id, number=number)
    )


@router.get(
    "/orgs/{org}/scoring/active", response=VersionOut, operation_id="scoring_version_active"
)
@requires(Perm.TASK_READ)
def version_active(request: HttpRequest, org: str) -> dict[str, Any]:
    principal = principal_of(request)
    return version_out(selectors.version_active_require(org_id=principal.org_id))


@router.post("/orgs/{org}/scoring/preview", response=PreviewOut, operation_id="scoring_preview")
@requires(Perm.SCORING_MANAGE)
def preview(request: HttpRequest, org: str, payload: PreviewIn) -> dict[str, Any]:
    """Score a sample task with the given criteria; nothing is stored."""
    result = services.score_preview(
        org_id=principal_of(request).org_id,
        criteria=_dump(payload.criteria),
        title=payload.task.title,
        description=payload.task.description,
        attributes=payload.task.attributes,
    )
    return sample_preview_out(result)


@router.post(
    "/orgs/{org}/scoring/previews",
    response={202: PreviewRunOut},
    operation_id="scoring_preview_run_create",
)
@requires(Perm.SCORING_MANAGE)
def preview_run_create(
    request: HttpRequest, org: str, payload: PreviewRunIn
) -> Status[dict[str, Any]]:
    """Score the org's newest tasks (up to `limit`) with draft criteria in the background; poll
    the run for progress and, once done, each task's current and new score and rank. Stores no
    score. AI criteria call the provider (answers are cached, so a repeated text is free)."""
    principal = principal_of(request)
    run = services.preview_run_create(
        org_id=principal.org_id,
        criteria=_dump(payload.criteria),
        limit=payload.limit,
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
    )
    return Status(202, preview_run_out(run))


@router.get(
    "/orgs/{org}/scoring/previews/{run_id}",
    response=PreviewRunOut,
    operation_id="scoring_preview_run_get",
)
@requires(Perm.SCORING_MANAGE)
def preview_run_get(request: HttpRequest, org: str, run_id: str) -> dict[str, Any]:
    """A preview run: status, progress (done of total) and, when done, its items."""
    principal = principal_of(request)
    return preview_run_out(selectors.preview_run_get(org_id=principal.org_id, run_id=run_id))


@router.get("/orgs/{org}/scoring/compare", response=ComparisonOut, operation_id="scoring_compare")
@requires(Perm.TASK_READ)
def compare(request: HttpRequest, org: str, query: Query[CompareQuery]) -> dict[str, Any]:
    """Old and new scores of the tasks scored under both versions (ids), ranked by the new."""
    principal = principal_of(request)
    rows = selectors.version_compare(
        org_id=principal.org_id, from_version_id=query.from_version, to_version_id=query.to_version
    )
    return comparison_out(from_version=query.from_version, to_version=query.to_version, rows=rows)
