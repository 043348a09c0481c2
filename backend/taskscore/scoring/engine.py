"""The scoring formula, as a pure function: no database, no network.

score = 100 × Σ wᵢ·sᵢ / Σ wᵢ, every sᵢ in [0, 1]. An attribute criterion normalizes a numeric task
attribute over [min, max] (optionally inverted, for "less is better" such as effort); an AI
criterion divides the model's 0–10 rating by 10. A missing attribute or AI result counts as 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from taskscore.integrations.ai.base import AIAssessment, Rubric


class AttributeCriterion(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    kind: Literal["attribute"]
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=200)
    weight: float = Field(gt=0, le=1000)
    attribute: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    min: float = 0.0
    max: float = 1.0
    invert: bool = False

    @model_validator(mode="after")
    def _range(self) -> AttributeCriterion:
        if not self.max > self.min:
            raise ValueError("max must be greater than min")
        return self


class AICriterion(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    kind: Literal["ai"]
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=200)
    weight: float = Field(gt=0, le=1000)
    rubric: str = Field(min_length=3, max_length=1000)
    high_anchor: str = Field(default="", max_length=1000)
    low_anchor: str = Field(default="", max_length=1000)

    def as_rubric(self) -> Rubric:
        return Rubric(
            question=self.rubric, high_anchor=self.high_anchor, low_anchor=self.low_anchor
        )


Criterion = AttributeCriterion | AICriterion
# The tags of the criterion union (its `kind`), which pydantic puts in an error's location.
CRITERION_KINDS = frozenset({"attribute", "ai"})


@dataclass(frozen=True)
class CriterionResult:
    key: str
    label: str
    kind: str
    weight: float
    value: float | None
    normalized: float
    contribution: float
    rationale: str | None = None


@dataclass(frozen=True)
class ScoreResult:
    value: float
    breakdown: list[CriterionResult]

    def breakdown_as_json(self) -> list[dict[str, object]]:
        return [asdict(item) for item in self.breakdown]


def _clamp01(x: float) -> float:
    return min(1.0, max(0.0, x))


def _normalize_attribute(criterion: AttributeCriterion, value: float | None) -> float:
    if value is None or not math.isfinite(value):
        return 0.0
    normalized = _clamp01((value - criterion.min) / (criterion.max - criterion.min))
    return 1.0 - normalized if criterion.invert else normalized


def score_compute(
    *,
    criteria: list[Criterion],
    attributes: Mapping[str, float],
    ai_results: Mapping[str, AIAssessment],
) -> ScoreResult:
    """The score of a task's attributes and AI assessments under `criteria`."""
    total_weight = sum(c.weight for c in criteria)
    if total_weight <= 0:
        raise ValueError("a scoring version needs at least one criterion with positive weight")
    results: list[CriterionResult] = []
    for criterion in criteria:
        rationale: str | None = None
        if isinstance(criterion, AttributeCriterion):
            raw = attributes.get(criterion.attribute)
            value = float(raw) if raw is not None else None
            normalized = _normalize_attribute(criterion, value)
        else:
            assessment = ai_results.get(criterion.key)
            value = assessment.rating if assessment else None
            normalized = _clamp01(value / 10.0) if value is not None else 0.0
            rationale = assessment.rationale if assessment else None
        contribution = 100.0 * criterion.weight * normalized / total_weight
        results.append(
            CriterionResult(
                key=criterion.key,
                label=criterion.label,
                kind=criterion.kind,
                weight=criterion.weight,
                value=value,
                normalized=normalized,
                contribution=contribution,
                rationale=rationale,
            )
        )
    value = _clamp01(sum(r.contribution for r in results) / 100.0) * 100.0
    return ScoreResult(value=value, breakdown=results)
