"""The scoring formula, as a pure function: no database, no network.

score = 100 × Σ wᵢ·sᵢ / Σ wᵢ, every sᵢ in [0, 1]. An attribute criterion normalizes a numeric task
attribute over [min, max] (optionally inverted, for "less is better" such as effort); an AI
criterion divides the model's 0–10 rating by 10. A missing attribute or AI result counts as 0.

A *skipped* criterion (an AI criterion the org's rules or AI budget kept from the AI) is left out
of both sums and marked with its reason: never a silent 0. A score whose every criterion was
skipped cannot be computed (`NothingToScore`).

The same function recomputes a score from its stored inputs (`score_from_values`), with a
person's override of a criterion's value put in place of the machine's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from taskscore.integrations.ai.base import AIAssessment, Rubric

# The largest magnitude of a criterion's bound (and of a task's attribute value, tasks.limits):
# finite, and far inside what a float and a JSON column hold.
BOUND = 1e12


# A rule between two fields, which JSON Schema cannot say: stated in the OpenAPI document as
# `x-greater-than` (property → the property it must exceed, each at its default when absent).
GREATER_THAN = "x-greater-than"


class AttributeCriterion(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={GREATER_THAN: {"max": "min"}}
    )

    kind: Literal["attribute"]
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=200)
    weight: float = Field(gt=0, le=1000)
    attribute: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    min: float = Field(default=0.0, allow_inf_nan=False, ge=-BOUND, le=BOUND)
    max: float = Field(
        default=1.0,
        allow_inf_nan=False,
        ge=-BOUND,
        le=BOUND,
        description="Greater than min: a value at max or beyond scores the criterion's whole "
        "weight (none if invert).",
    )
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


def ai_criteria_count(criteria: list[Criterion]) -> int:
    """How many AI calls scoring one task with `criteria` makes at most."""
    return sum(isinstance(c, AICriterion) for c in criteria)


# The tags of the criterion union (its `kind`), which pydantic puts in an error's location.
CRITERION_KINDS = frozenset({"attribute", "ai"})


class NothingToScore(ValueError):
    """Every criterion of the version was skipped: there is no score to give."""


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
    skipped: str | None = None  # why the criterion was left out ("budget", "ai_off", ...)


@dataclass(frozen=True)
class ScoreResult:
    value: float
    breakdown: list[CriterionResult]

    def breakdown_as_json(self) -> list[dict[str, object]]:
        # Every field of a CriterionResult is a scalar: its attributes are its JSON, without
        # asdict's deep copy of each value.
        return [dict(vars(item)) for item in self.breakdown]


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
    skipped: Mapping[str, str] | None = None,
) -> ScoreResult:
    """The score of a task's attributes and AI assessments under `criteria`; AI criteria named
    in `skipped` (key → reason) are left out."""
    values: dict[str, float | None] = {}
    rationales: dict[str, str] = {}
    for criterion in criteria:
        if isinstance(criterion, AttributeCriterion):
            raw = attributes.get(criterion.attribute)
            values[criterion.key] = float(raw) if raw is not None else None
        else:
            assessment = ai_results.get(criterion.key)
            values[criterion.key] = assessment.rating if assessment else None
            if assessment:
                rationales[criterion.key] = assessment.rationale
    return score_from_values(
        criteria=criteria, values=values, rationales=rationales, skipped=skipped or {}
    )


def criterion_values(
    *, criteria: list[Criterion], attributes: Mapping[str, float], ratings: Mapping[str, float]
) -> dict[str, float | None]:
    """Each criterion's raw value (an attribute's value, an AI rating) by criterion key."""
    values: dict[str, float | None] = {}
    for criterion in criteria:
        if isinstance(criterion, AttributeCriterion):
            raw = attributes.get(criterion.attribute)
        else:
            raw = ratings.get(criterion.key)
        values[criterion.key] = float(raw) if raw is not None else None
    return values


def score_from_values(
    *,
    criteria: list[Criterion],
    values: Mapping[str, float | None],
    rationales: Mapping[str, str] | None = None,
    skipped: Mapping[str, str] | None = None,
) -> ScoreResult:
    """The score given each criterion's raw value by key (an attribute's value, an AI rating
    0–10; None: missing, counts as 0); criteria in `skipped` are left out.

    Raises NothingToScore when every criterion is skipped."""
    rationales = rationales or {}
    skipped = skipped or {}
    counted = [c for c in criteria if c.key not in skipped]
    if not counted:
        raise NothingToScore(
            "every criterion was skipped (" + ", ".join(sorted(set(skipped.values()))) + ")"
        )
    total_weight = sum(c.weight for c in counted)
    if total_weight <= 0:
        raise ValueError("a scoring version needs at least one criterion with positive weight")
    results: list[CriterionResult] = []
    for criterion in criteria:
        reason = skipped.get(criterion.key)
        value = None if reason else values.get(criterion.key)
        if value is not None and not math.isfinite(value):
            value = None
        if isinstance(criterion, AttributeCriterion):
            normalized = _normalize_attribute(criterion, value)
        else:
            normalized = _clamp01(value / 10.0) if value is not None else 0.0
        if reason:
            normalized = 0.0
        contribution = 0.0 if reason else 100.0 * criterion.weight * normalized / total_weight
        results.append(
            CriterionResult(
                key=criterion.key,
                label=criterion.label,
                kind=criterion.kind,
                weight=criterion.weight,
                value=value,
                normalized=normalized,
                contribution=contribution,
                rationale=rationales.get(criterion.key),
                skipped=reason,
            )
        )
    value = _clamp01(sum(r.contribution for r in results) / 100.0) * 100.0
    return ScoreResult(value=value, breakdown=results)
