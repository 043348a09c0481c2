from __future__ import annotations

import pytest

from taskscore.integrations.ai.base import RetryableAIError, Rubric
from taskscore.integrations.ai.prompt import (
    MAX_RATIONALE_CHARS,
    InvalidAIOutput,
    build_messages,
    parse_assessment_output,
    system_prompt,
)


def test_system_prompt_states_the_question_and_anchors_deterministically() -> None:
    rubric = Rubric(question="Is it clear?", high_anchor="Precise steps", low_anchor="Vague")
    prompt = system_prompt(rubric)
    assert "Question: Is it clear?" in prompt
    assert "A 10 looks like: Precise steps" in prompt
    assert "A 0 looks like: Vague" in prompt
    assert build_messages(rubric, "Fix login") == build_messages(rubric, "Fix login")


def test_system_prompt_omits_missing_anchors() -> None:
    assert "looks like" not in system_prompt(Rubric(question="Is it clear?"))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"rating": 7, "rationale": "Clear."}', (7.0, "Clear.")),
        ('```json\n{"rating": 7, "rationale": "Clear."}\n```', (7.0, "Clear.")),
        ('```\n{"rating": 3.5, "rationale": "Hm."}\n```', (3.5, "Hm.")),
        ('Sure! Here it is: {"rating": 8, "rationale": "Good."} Hope it helps.', (8.0, "Good.")),
        ('{"rating": "7", "rationale": "As a string."}', (7.0, "As a string.")),
        ('{"rating": " 6.5 "}', (6.5, "")),
        ('{"rating": 10.4, "rationale": "x"}', (10.0, "x")),
        ('{"rating": -0.3, "rationale": "x"}', (0.0, "x")),
        ("7", (7.0, "")),
        ('note {not json} then {"rating": 2, "rationale": "ok"}', (2.0, "ok")),
    ],
)
def test_usable_output_is_parsed_and_repaired(content: str, expected: tuple[float, str]) -> None:
    assert parse_assessment_output(content) == expected


@pytest.mark.parametrize(
    "content",
    [
        None,
        "",
        "   ",
        "I would give it a seven.",
        '{"rating": 42, "rationale": "x"}',
        '{"rating": 10.6}',
        '{"rating": -1}',
        '{"rating": NaN}',
        '{"rating": "high"}',
        '{"rating": true}',
        '{"rationale": "no rating"}',
        "[7]",
    ],
)
def test_unusable_output_is_a_retryable_invalid_output(content: str | None) -> None:
    with pytest.raises(InvalidAIOutput) as caught:
        parse_assessment_output(content)
    assert isinstance(caught.value, RetryableAIError)


def test_invalid_output_quotes_a_short_excerpt() -> None:
    content = "I would rate this task 42 out of 10. " * 20
    with pytest.raises(InvalidAIOutput) as caught:
        parse_assessment_output(content)
    message = str(caught.value)
    assert "'I would rate this task 42 out of 10." in message
    assert len(message) < 200


def test_long_rationale_is_truncated() -> None:
    rating, rationale = parse_assessment_output('{"rating": 5, "rationale": "' + "a" * 2000 + '"}')
    assert rating == 5.0
    assert len(rationale) == MAX_RATIONALE_CHARS
    assert rationale.endswith("…")
