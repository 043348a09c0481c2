"""The OpenAI provider against the fake OpenAI server over loopback (its real HTTP client, no
mocks)."""

from __future__ import annotations

import time

import pytest

from taskscore.integrations.ai.base import AIConfig, PermanentAIError, RetryableAIError, Rubric
from taskscore.integrations.ai.openai_provider import (
    InvalidAIOutput,
    OpenAIProvider,
    parse_retry_after,
)
from taskscore.integrations.ai.prompt import build_messages, user_prompt
from taskscore.integrations.ai.tests.conftest import (
    PRICE_INPUT_PER_MTOK,
    PRICE_OUTPUT_PER_MTOK,
    MakeProvider,
)
from taskscore.testing.fake_ai import (
    FakeAIServer,
    count_tokens,
    expected_content,
    expected_rating,
)

RUBRIC = Rubric(
    question="How clearly is the task described?",
    high_anchor="Goal, steps and acceptance criteria are explicit.",
    low_anchor="A vague wish.",
)
TASK = "Fix the login redirect\n\nAfter login, users land on / instead of the page they asked for."


def test_success_returns_the_servers_rating_tokens_and_cost(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    provider = make_provider()

    assessment = provider.assess(rubric=RUBRIC, task_text=TASK)

    user_content = user_prompt(TASK)
    input_tokens = sum(count_tokens(m["content"]) for m in build_messages(RUBRIC, TASK))
    output_tokens = count_tokens(expected_content(user_content))
    assert assessment.rating == expected_rating(user_content)
    assert assessment.rationale.startswith("Fake assessment ")
    assert (assessment.provider, assessment.model) == ("openai", "gpt-fake")
    assert (assessment.input_tokens, assessment.output_tokens) == (input_tokens, output_tokens)
    assert assessment.cost_usd == pytest.approx(
        (input_tokens * PRICE_INPUT_PER_MTOK + output_tokens * PRICE_OUTPUT_PER_MTOK) / 1e6
    )
    assert assessment.latency_ms >= 0
    assert assessment.cached is False
    assert ai_server.calls_for(user_content) == 1


def test_one_client_serves_many_threads(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    provider = make_provider()
    texts = [f"task {i}" for i in range(40)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        ratings = list(
            pool.map(lambda t: provider.assess(rubric=RUBRIC, task_text=t).rating, texts)
        )
    assert ratings == [expected_rating(user_prompt(t)) for t in texts]
    assert ai_server.stats().unique_prompts == 40


def test_429_is_retryable_after_the_servers_retry_after(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    ai_server.script(["429:7"])
    with pytest.raises(RetryableAIError) as caught:
        make_provider().assess(rubric=RUBRIC, task_text=TASK)
    assert caught.value.retry_after == 7
    assert "HTTP 429" in str(caught.value)
    assert "rate limited" in str(caught.value)
    assert ai_server.stats().calls == 1  # the SDK did not retry by itself


def test_429_with_an_http_date_retry_after(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    ai_server.script(["429:Wed, 21 Oct 2037 07:28:00 GMT"])
    with pytest.raises(RetryableAIError) as caught:
        make_provider().assess(rubric=RUBRIC, task_text=TASK)
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 3600


@pytest.mark.parametrize("status", ["500", "503"])
def test_server_errors_are_retryable(
    ai_server: FakeAIServer, make_provider: MakeProvider, status: str
) -> None:
    ai_server.script([status])
    with pytest.raises(RetryableAIError) as caught:
        make_provider().assess(rubric=RUBRIC, task_text=TASK)
    assert not isinstance(caught.value, InvalidAIOutput)
    assert f"HTTP {status}" in str(caught.value)
    assert caught.value.retry_after is None


def test_400_is_permanent_and_names_the_status_and_message(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    ai_server.script(["400"])
    with pytest.raises(PermanentAIError) as caught:
        make_provider().assess(rubric=RUBRIC, task_text=TASK)
    assert str(caught.value) == "OpenAI returned HTTP 400: 'fake: scripted bad request'"


def test_a_hanging_server_times_out_as_retryable(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    ai_server.script(["hang"])
    provider = make_provider(timeout_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(RetryableAIError) as caught:
        provider.assess(rubric=RUBRIC, task_text=TASK)
    elapsed = time.monotonic() - started
    assert "timed out" in str(caught.value)
    assert 0.4 < elapsed < 1.5


def test_connection_refused_is_retryable(
    make_provider: MakeProvider, ai_server: FakeAIServer
) -> None:
    provider = make_provider()
    ai_server.stop()
    with pytest.raises(RetryableAIError) as caught:
        provider.assess(rubric=RUBRIC, task_text=TASK)
    assert "connection error" in str(caught.value)


def test_a_malformed_body_is_retryable(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    ai_server.script(["malformed"])
    with pytest.raises(RetryableAIError) as caught:
        make_provider().assess(rubric=RUBRIC, task_text=TASK)
    assert not isinstance(caught.value, InvalidAIOutput)
    assert "not JSON" in str(caught.value)


def test_nonsense_is_invalid_output_quoting_an_excerpt(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    ai_server.script(["nonsense"])
    with pytest.raises(InvalidAIOutput) as caught:
        make_provider().assess(rubric=RUBRIC, task_text=TASK)
    assert "I would rate this task 42 out of 10" in str(caught.value)


def test_a_fenced_object_is_accepted(ai_server: FakeAIServer, make_provider: MakeProvider) -> None:
    ai_server.script(['content:```json\n{"rating": 9, "rationale": "Fenced."}\n```'])
    assessment = make_provider().assess(rubric=RUBRIC, task_text=TASK)
    assert (assessment.rating, assessment.rationale) == (9.0, "Fenced.")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            'Here you go: {"rating": 4, "rationale": "Wrapped."} Anything else?', id="prose"
        ),
        pytest.param('{"rating": "7", "rationale": "A string."}', id="string-rating"),
        pytest.param('{"rating": 7}', id="no-rationale"),
    ],
)
def test_answers_that_used_to_be_repaired_are_refused_as_retryable(
    ai_server: FakeAIServer, make_provider: MakeProvider, content: str
) -> None:
    ai_server.script([f"content:{content}"])
    with pytest.raises(InvalidAIOutput) as caught:
        make_provider().assess(rubric=RUBRIC, task_text=TASK)
    assert isinstance(caught.value, RetryableAIError)


def test_structured_output_asks_for_the_assessment_schema_by_default(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    make_provider().assess(rubric=RUBRIC, task_text=TASK)

    [request] = ai_server.requests()
    response_format = request["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "assessment"
    assert response_format["json_schema"]["strict"] is True


def test_without_structured_output_the_request_asks_for_json_mode(
    ai_server: FakeAIServer,
) -> None:
    provider = OpenAIProvider(
        AIConfig(
            provider="openai",
            model="gpt-fake",
            base_url=ai_server.url,
            timeout_seconds=2.0,
            structured_output=False,
        )
    )
    try:
        assessment = provider.assess(rubric=RUBRIC, task_text=TASK)
    finally:
        provider.close()

    [request] = ai_server.requests()
    assert request["response_format"] == {"type": "json_object"}
    assert assessment.rating == expected_rating(user_prompt(TASK))


def test_the_request_carries_the_prompt_messages(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    make_provider().assess(rubric=RUBRIC, task_text=TASK)

    [request] = ai_server.requests()
    assert request["messages"] == build_messages(RUBRIC, TASK)
    assert request["model"] == "gpt-fake"
    assert request["authorization"] == "Bearer sk-test"


def test_the_next_request_after_a_fault_succeeds(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    ai_server.script(["503", "ok"])
    provider = make_provider()
    with pytest.raises(RetryableAIError):
        provider.assess(rubric=RUBRIC, task_text=TASK)
    assert provider.assess(rubric=RUBRIC, task_text=TASK).rating == expected_rating(
        user_prompt(TASK)
    )
    assert ai_server.stats().by_behaviour == {"503": 1, "ok": 1}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, 40.0),
        ({"retry-after": "Thu, 01 Jan 1970 00:00:10 GMT"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=60.0) == expected
