"""Human review, calibration and the org's AI rules and usage, as the API shows them."""

from __future__ import annotations

import math
from typing import Any

from taskscore.billing.selectors import AIAllowance
from taskscore.integrations.ai.judge.metrics import Agreement
from taskscore.integrations.ai.redact import REDACTION_KINDS
from taskscore.orgs.selectors import AIRules
from taskscore.scoring.models import WHOLE_SCORE, ScoreOverride, ScoringVersion, TaskScore
from taskscore.scoring.recompute import score_recompute
from taskscore.scoring.selectors import CriterionCalibration


def _who(user: Any, api_key: Any) -> str:
    if user is not None:
        return str(user.email)
    if api_key is not None:
        return f"API key {api_key.name}"
    return "a former member"


def override_out(override: ScoreOverride) -> dict[str, Any]:
    return {
        "id": str(override.pk),
        "criterion": None if override.criterion == WHOLE_SCORE else override.criterion,
        "value": override.value,
        "machine_value": override.machine_value,
        "reason": override.reason,
        "created_by": _who(override.created_by, override.created_by_api_key),
        "created_at": override.created_at,
        "cleared_at": override.cleared_at,
        "cleared_by": None if override.cleared_at is None else _who(override.cleared_by, None),
    }


def task_score_detail_out(score: TaskScore, overrides: list[ScoreOverride]) -> dict[str, Any]:
    """One score with the inputs that made it and its recomputation from them."""
    inputs = score.inputs or None
    return {
        "id": score.pk,
        "task_id": str(score.task_id),
        "version_id": score.version_id,
        "version": score.version.number,
        "model": score.version.model.name,
        "value": score.value,
        "breakdown": [{**item, "human_value": None} for item in score.breakdown],
        "inputs": inputs,
        "recomputed_value": score_recompute(score).value,
        "ai_provider": score.ai_provider,
        "ai_model": score.ai_model,
        "ai_calls": score.ai_calls,
        "input_tokens": score.input_tokens,
        "output_tokens": score.output_tokens,
        "ai_latency_ms": score.ai_latency_ms,
        "cost_usd": float(score.cost_usd),
        "scored_at": score.created_at,
        "overrides": [override_out(o) for o in overrides],
    }


def _figure(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def agreement_out(result: Agreement) -> dict[str, Any]:
    return {
        "labels": result.labels,
        "spearman": _figure(result.spearman),
        "mae": _figure(result.mae),
        "bias": _figure(result.bias),
        "pairwise_accuracy": _figure(result.pairwise_accuracy),
        "pairs": result.pairs,
    }


def calibration_out(
    version: ScoringVersion, criteria: list[CriterionCalibration]
) -> dict[str, Any]:
    return {
        "version_id": version.pk,
        "version": version.number,
        "criteria": [
            {
                "key": c.key,
                "label": c.label,
                "rubric": c.rubric,
                "from_reviews": c.from_reviews,
                "from_imports": c.from_imports,
                "agreement": agreement_out(c.agreement),
            }
            for c in criteria
        ],
    }


def ai_rules_out(rules: AIRules) -> dict[str, Any]:
    return rules.as_dict()


def ai_usage_out(allowance: AIAllowance) -> dict[str, Any]:
    return {
        "plan": allowance.plan.code,
        "period_start": allowance.period_start,
        "calls": allowance.calls,
        "limit": allowance.limit,
        "remaining": allowance.remaining,
        "cost_usd": allowance.cost_usd,
    }


def ai_settings_out(rules: AIRules, allowance: AIAllowance) -> dict[str, Any]:
    return {
        "rules": ai_rules_out(rules),
        "usage": ai_usage_out(allowance),
        "redaction": list(REDACTION_KINDS),
    }


def ai_estimate_out(*, tasks: int, ai_calls: int, allowance: AIAllowance) -> dict[str, Any]:
    return {
        "tasks": tasks,
        "ai_calls": ai_calls,
        "usage": ai_usage_out(allowance),
        "covered": allowance.covers(ai_calls),
    }
