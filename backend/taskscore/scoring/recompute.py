"""A recorded score computed again from what it stored, and with people's overrides applied.

No AI and no task: a score keeps the inputs that made it (TaskScore.inputs, written by
scoring.services.scores), so the same number comes back from them alone; an override puts a
person's value in place of the machine's for one criterion, or for the whole score."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from taskscore.scoring.criteria import criteria_parse
from taskscore.scoring.engine import AttributeCriterion, ScoreResult, score_from_values
from taskscore.scoring.models import WHOLE_SCORE, ScoreOverride, TaskScore

# The layout of TaskScore.inputs; a reader checks it before recomputing.
INPUTS_VERSION = 1


def score_recompute(
    score: TaskScore, *, overrides: Mapping[str, float] | None = None
) -> ScoreResult:
    """The score computed again from its stored inputs alone, with a person's value in place of
    the machine's for each criterion key in `overrides` (an attribute's value, an AI rating).

    A score recorded before inputs were stored is recomputed from its breakdown's values."""
    criteria = criteria_parse(score.version.criteria)
    inputs: dict[str, Any] = score.inputs or {}
    if inputs.get("inputs_version") == INPUTS_VERSION:
        values: dict[str, float | None] = {}
        for criterion in criteria:
            if isinstance(criterion, AttributeCriterion):
                raw = inputs["attributes"].get(criterion.attribute)
            else:
                raw = inputs["ratings"].get(criterion.key)
            values[criterion.key] = float(raw) if raw is not None else None
        skipped = dict(inputs["ai"].get("skipped", {}))
    else:
        values = {item["key"]: item["value"] for item in score.breakdown}
        skipped = {item["key"]: item["skipped"] for item in score.breakdown if item.get("skipped")}
    for key, value in (overrides or {}).items():
        values[key] = value
        skipped.pop(key, None)  # a person's value counts even where the AI was skipped
    rationales = {item["key"]: item["rationale"] for item in score.breakdown if item["rationale"]}
    return score_from_values(
        criteria=criteria, values=values, rationales=rationales, skipped=skipped
    )


@dataclass(frozen=True)
class EffectiveScore:
    """A task's current score as people see it: the machine's, with overrides applied."""

    value: float
    machine_value: float
    result: ScoreResult  # per criterion, with overridden values in place
    whole: ScoreOverride | None = None
    by_criterion: dict[str, ScoreOverride] = field(default_factory=dict)

    @property
    def overridden(self) -> bool:
        return self.whole is not None or bool(self.by_criterion)


def score_effective(score: TaskScore, overrides: Iterable[ScoreOverride]) -> EffectiveScore:
    """`score` with the task's active overrides: each criterion override replaces that
    criterion's value (one the score's version does not have is left aside), then an override
    of the whole score replaces the total."""
    keys = {item["key"] for item in score.breakdown}
    whole: ScoreOverride | None = None
    by_criterion: dict[str, ScoreOverride] = {}
    for override in overrides:
        if override.cleared_at is not None:
            continue
        if override.criterion == WHOLE_SCORE:
            whole = override
        elif override.criterion in keys:
            by_criterion[override.criterion] = override
    if by_criterion:
        result = score_recompute(score, overrides={key: o.value for key, o in by_criterion.items()})
    else:
        result = ScoreResult(value=score.value, breakdown=[])
    value = whole.value if whole is not None else result.value
    return EffectiveScore(
        value=value,
        machine_value=score.value,
        result=result,
        whole=whole,
        by_criterion=by_criterion,
    )
