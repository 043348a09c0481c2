"""Human review of scores, a score's inputs, calibration, and the org's AI rules and usage."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from taskscore.api.common.auth import principal_of, requires
from taskscore.api.v2.presenters.reviews import (
    ai_estimate_out,
    ai_rules_out,
    ai_settings_out,
    calibration_out,
    override_out,
    task_score_detail_out,
)
from taskscore.api.v2.review_schemas import (
    AIEstimateOut,
    AIRulesIn,
    AIRulesOut,
    AISettingsOut,
    CalibrationOut,
    LabelsImportIn,
    LabelsImportOut,
    OverrideIn,
    TaskScoreDetailOut,
)
from taskscore.api.v2.schemas import OverrideOut
from taskscore.api.v2.scoring_schemas import PreviewRunIn
from taskscore.billing.selectors import ai_allowance
from taskscore.orgs import selectors as org_selectors
from taskscore.orgs import services as org_services
from taskscore.rbac.catalog import Perm
from taskscore.scoring import selectors as scoring_selectors
from taskscore.scoring.criteria import criteria_validate
from taskscore.tasks import selectors, services

router = Router(tags=["review"])


@router.get(
    "/orgs/{org}/tasks/rescore/estimate",
    response=AIEstimateOut,
    operation_id="task_rescore_all_estimate",
)
@requires(Perm.TASK_RESCORE)
def rescore_all_estimate(request: HttpRequest, org: str) -> dict[str, Any]:
    """What re-scoring every finished task with the active version would cost in AI calls, and
    whether this period's allowance covers it (POST …/tasks/rescore refuses it otherwise)."""
    principal = principal_of(request)
    estimate = selectors.rescore_all_estimate(org_id=principal.org_id)
    return ai_estimate_out(
        tasks=estimate.tasks,
        ai_calls=estimate.ai_calls,
        allowance=ai_allowance(org_id=principal.org_id),
    )


@router.get(
    "/orgs/{org}/tasks/{task_id}/scores/{score_id}",
    response=TaskScoreDetailOut,
    operation_id="task_score_get",
)
@requires(Perm.TASK_READ)
def task_score_get(request: HttpRequest, org: str, task_id: str, score_id: int) -> dict[str, Any]:
    """One score of a task with the inputs that made it (attribute values, AI ratings, the hash
    of the text the AI read, fields sent, redaction, provider, model, prompt version) and the
    value recomputed from them; with the task's overrides."""
    principal = principal_of(request)
    score = selectors.task_score_get(org_id=principal.org_id, task_id=task_id, score_id=score_id)
    task = selectors.task_get(org_id=principal.org_id, task_id=task_id)
    return task_score_detail_out(score, selectors.task_overrides_history(task))


@router.get(
    "/orgs/{org}/tasks/{task_id}/overrides",
    response=list[OverrideOut],
    operation_id="task_override_list",
)
@requires(Perm.TASK_READ)
def override_list(request: HttpRequest, org: str, task_id: str) -> list[dict[str, Any]]:
    """Every override of the task, active and cleared, newest first."""
    principal = principal_of(request)
    task = selectors.task_get(org_id=principal.org_id, task_id=task_id)
    return [override_out(o) for o in selectors.task_overrides_history(task)]


@router.post(
    "/orgs/{org}/tasks/{task_id}/overrides",
    response={201: OverrideOut},
    operation_id="task_override_create",
)
@requires(Perm.SCORE_REVIEW)
def override_create(
    request: HttpRequest, org: str, task_id: str, payload: OverrideIn
) -> Status[dict[str, Any]]:
    """Override the task's score (no `criterion`) or one criterion's value, with a reason. The
    machine's value is kept; a re-score keeps the override until it is cleared. Replaces the
    active override of the same target. An override of an AI criterion is a calibration label."""
    principal = principal_of(request)
    override = services.score_override(
        org_id=principal.org_id,
        task_id=task_id,
        actor=principal.actor,
        criterion=payload.criterion,
        value=payload.value,
        reason=payload.reason,
    )
    return Status(201, override_out(override))


@router.delete(
    "/orgs/{org}/tasks/{task_id}/overrides/{override_id}",
    response={204: None},
    operation_id="task_override_clear",
)
@requires(Perm.SCORE_REVIEW)
def override_clear(request: HttpRequest, org: str, task_id: str, override_id: str) -> Status[None]:
    """Clear an active override: the machine's value counts again."""
    principal = principal_of(request)
    services.score_override_clear(
        org_id=principal.org_id, task_id=task_id, override_id=override_id, actor=principal.actor
    )
    return Status(204, None)


@router.get(
    "/orgs/{org}/scoring/models/{model_id}/versions/{number}/calibration",
    response=CalibrationOut,
    operation_id="scoring_version_calibration",
)
@requires(Perm.TASK_READ)
def version_calibration(
    request: HttpRequest, org: str, model_id: int, number: int
) -> dict[str, Any]:
    """Per AI criterion of the version: how its AI ratings agree with people's ratings of the
    same tasks (reviews and imported labels): Spearman ρ, mean absolute error, bias, pairwise
    accuracy on pairs people rate ≥ 4 apart, and the number of labels."""
    principal = principal_of(request)
    version = scoring_selectors.version_get(
        org_id=principal.org_id, model_id=model_id, number=number
    )
    return calibration_out(version, scoring_selectors.version_calibration(version=version))


@router.post(
    "/orgs/{org}/scoring/labels",
    response={201: LabelsImportOut},
    operation_id="scoring_labels_import",
)
@requires(Perm.SCORE_REVIEW)
def labels_import(
    request: HttpRequest, org: str, payload: LabelsImportIn
) -> Status[dict[str, Any]]:
    """Import people's 0–10 ratings of tasks on AI criteria for calibration: CSV with the header
    `task_id,criterion,rating`. All or nothing: bad rows are named and nothing is imported."""
    principal = principal_of(request)
    result = services.labels_import(
        org_id=principal.org_id, csv_text=payload.csv, actor=principal.actor
    )
    return Status(201, {"imported": result.imported, "criteria": list(result.criteria)})


@router.post(
    "/orgs/{org}/scoring/previews/estimate",
    response=AIEstimateOut,
    operation_id="scoring_preview_estimate",
)
@requires(Perm.SCORING_MANAGE)
def preview_estimate(request: HttpRequest, org: str, payload: PreviewRunIn) -> dict[str, Any]:
    """What a preview run of these criteria would cost in AI calls, before it runs."""
    principal = principal_of(request)
    criteria = criteria_validate([c.model_dump() for c in payload.criteria])
    estimate = selectors.preview_estimate(
        org_id=principal.org_id, criteria=criteria, limit=payload.limit
    )
    return ai_estimate_out(
        tasks=estimate.tasks,
        ai_calls=estimate.ai_calls,
        allowance=ai_allowance(org_id=principal.org_id),
    )


@router.get("/orgs/{org}/ai", response=AISettingsOut, operation_id="ai_settings_get")
@requires(Perm.TASK_READ)
def ai_settings(request: HttpRequest, org: str) -> dict[str, Any]:
    """The org's AI data rules, what is always redacted, and its AI calls this period against
    the plan's monthly allowance."""
    principal = principal_of(request)
    return ai_settings_out(
        org_selectors.ai_rules(org_id=principal.org_id), ai_allowance(org_id=principal.org_id)
    )


@router.patch("/orgs/{org}/ai/rules", response=AIRulesOut, operation_id="ai_rules_update")
@requires(Perm.SCORING_MANAGE)
def ai_rules_update(request: HttpRequest, org: str, payload: AIRulesIn) -> dict[str, Any]:
    """Turn AI criteria on or off, and choose which task fields may be sent to the AI. Applies
    to every score computed from now on; redaction is always on."""
    principal = principal_of(request)
    rules = org_services.ai_rules_update(
        org_id=principal.org_id,
        actor=principal.actor,
        enabled=payload.enabled,
        send_title=payload.send_title,
        send_description=payload.send_description,
    )
    return ai_rules_out(rules)
