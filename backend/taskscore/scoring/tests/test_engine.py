from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskscore.integrations.ai.base import AIAssessment
from taskscore.scoring.criteria import criteria_parse
from taskscore.scoring.engine import (
    AICriterion,
    AttributeCriterion,
    NothingToScore,
    score_compute,
    score_from_values,
)
from taskscore.scoring.templates import RICE

REACH = AttributeCriterion(
    kind="attribute", key="reach", label="Reach", weight=2, attribute="reach", max=1000
)
EFFORT = AttributeCriterion(
    kind="attribute",
    key="effort",
    label="Effort",
    weight=1,
    attribute="effort",
    max=10,
    invert=True,
)
QUALITY = AICriterion(kind="ai", key="quality", label="Quality", weight=1, rubric="Is it clear?")


def test_weighted_mean_of_normalized_criteria() -> None:
    # given reach 750/1000 (0.75, weight 2) and effort 2/10 inverted (0.8, weight 1)
    result = score_compute(
        criteria=[REACH, EFFORT], attributes={"reach": 750, "effort": 2}, ai_results={}
    )
    # then 100 × (2·0.75 + 1·0.8) / 3
    assert result.value == pytest.approx(100 * (2 * 0.75 + 0.8) / 3)
    assert [r.contribution for r in result.breakdown] == pytest.approx([50.0, 100 * 0.8 / 3])
    assert [r.normalized for r in result.breakdown] == pytest.approx([0.75, 0.8])


def test_missing_attribute_counts_as_zero_and_is_reported_as_absent() -> None:
    result = score_compute(criteria=[REACH], attributes={}, ai_results={})
    assert result.value == 0.0
    assert result.breakdown[0].value is None


def test_values_outside_the_range_are_clamped() -> None:
    high = score_compute(criteria=[REACH], attributes={"reach": 5000}, ai_results={})
    low = score_compute(criteria=[REACH], attributes={"reach": -3}, ai_results={})
    assert (high.value, low.value) == (100.0, 0.0)


def test_ai_criterion_uses_rating_over_ten_and_keeps_the_rationale() -> None:
    assessment = AIAssessment(rating=7, rationale="Clear scope.", provider="p", model="m")
    result = score_compute(criteria=[QUALITY], attributes={}, ai_results={"quality": assessment})
    assert result.value == pytest.approx(70.0)
    assert result.breakdown[0].rationale == "Clear scope."


def test_rice_template_parses_and_scores_midpoints_at_fifty() -> None:
    criteria = criteria_parse(RICE.criteria)
    attributes = {"reach": 500, "impact": 5, "confidence": 50, "effort": 5}
    assert score_compute(criteria=criteria, attributes=attributes, ai_results={}).value == (
        pytest.approx(50.0)
    )


def test_invalid_criteria_are_rejected() -> None:
    with pytest.raises(ValueError, match="invalid scoring criteria"):
        criteria_parse([{"kind": "attribute", "key": "x", "label": "X", "weight": 1,
                         "attribute": "x", "min": 5, "max": 1}])  # fmt: skip


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(reach=finite, effort=finite)
def test_score_is_always_between_0_and_100(reach: float, effort: float) -> None:
    result = score_compute(
        criteria=[REACH, EFFORT], attributes={"reach": reach, "effort": effort}, ai_results={}
    )
    assert 0.0 <= result.value <= 100.0
    assert sum(r.contribution for r in result.breakdown) == pytest.approx(result.value)


@given(low=finite, high=finite, effort=finite)
def test_score_is_monotonic_in_each_criterion(low: float, high: float, effort: float) -> None:
    low, high = min(low, high), max(low, high)

    def score(reach: float, effort_value: float) -> float:
        return score_compute(
            criteria=[REACH, EFFORT],
            attributes={"reach": reach, "effort": effort_value},
            ai_results={},
        ).value

    # more reach never lowers the score; more effort (inverted) never raises it
    assert score(high, effort) >= score(low, effort)
    assert score(effort, high) <= score(effort, low)


def test_a_skipped_criterion_counts_neither_as_zero_nor_towards_the_weights() -> None:
    # given reach 750/1000 (weight 2) and an AI criterion skipped for the budget (weight 1)
    result = score_compute(
        criteria=[REACH, QUALITY],
        attributes={"reach": 750},
        ai_results={},
        skipped={"quality": "budget"},
    )
    # then the score is reach's alone, and the skipped criterion says why
    assert result.value == pytest.approx(75.0)
    quality = result.breakdown[1]
    assert (quality.skipped, quality.value, quality.contribution) == ("budget", None, 0.0)


def test_a_score_whose_every_criterion_was_skipped_cannot_be_computed() -> None:
    with pytest.raises(NothingToScore, match="every criterion was skipped \\(ai_off\\)"):
        score_compute(
            criteria=[QUALITY], attributes={}, ai_results={}, skipped={"quality": "ai_off"}
        )


def test_values_by_key_score_like_the_task_they_came_from() -> None:
    assessment = AIAssessment(rating=6, rationale="", provider="p", model="m")
    from_task = score_compute(
        criteria=[REACH, EFFORT, QUALITY],
        attributes={"reach": 300, "effort": 4},
        ai_results={"quality": assessment},
    )
    from_values = score_from_values(
        criteria=[REACH, EFFORT, QUALITY], values={"reach": 300, "effort": 4, "quality": 6}
    )
    assert from_values.value == from_task.value
