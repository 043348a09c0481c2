"""The `openai` provider: one chat completion per assessment through the official OpenAI SDK.

Works with any OpenAI-compatible server (`AIConfig.base_url`). With `AIConfig.structured_output`
the request asks for an answer that follows a strict JSON schema (structured outputs), otherwise
for JSON mode; the answer is parsed strictly either way (`prompt.parse_assessment_output`). The
SDK does not retry (the Celery job does, without blocking a worker thread in a sleep); every
failure is mapped to a `RetryableAIError` or a `PermanentAIError`.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Mapping

import openai
import pydantic
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
)
from openai.types.chat.completion_create_params import ResponseFormat
from openai.types.shared_params import ResponseFormatJSONObject, ResponseFormatJSONSchema

from taskscore.integrations.ai.base import (
    AIAssessment,
    AIConfig,
    PermanentAIError,
    RetryableAIError,
    Rubric,
)
from taskscore.integrations.ai.prompt import (
    InvalidAIOutput,
    excerpt,
    parse_assessment_output,
    system_prompt,
    user_prompt,
)

__all__ = ["InvalidAIOutput", "OpenAIProvider", "parse_retry_after"]

# Statuses that describe the server's state rather than our request: a later try may succeed.
_RETRYABLE_STATUSES = frozenset({408, 409, 429})
_MAX_CONNECT_TIMEOUT_SECONDS = 5.0
_MESSAGE_EXCERPT_CHARS = 300
# The answer `parse_assessment_output` accepts, as a strict structured-outputs schema.
_STRUCTURED_RESPONSE_FORMAT = ResponseFormatJSONSchema(
    type="json_schema",
    json_schema={
        "name": "assessment",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {
                "rating": {"type": "number", "minimum": 0, "maximum": 10},
                "rationale": {"type": "string"},
            },
            "required": ["rating", "rationale"],
            "additionalProperties": False,
        },
    },
)
_JSON_MODE_RESPONSE_FORMAT = ResponseFormatJSONObject(type="json_object")


class OpenAIProvider:
    """An `AIProvider` backed by a chat-completions endpoint. Thread-safe: one instance (and one
    pooled HTTP client) serves every worker thread."""

    name = "openai"

    def __init__(self, config: AIConfig) -> None:
        self.model = config.model
        self._config = config
        self._response_format: ResponseFormat = (
            _STRUCTURED_RESPONSE_FORMAT if config.structured_output else _JSON_MODE_RESPONSE_FORMAT
        )
        timeout = config.timeout_seconds
        self._client = openai.OpenAI(
            base_url=config.base_url or None,
            # The SDK refuses to start without a key; local OpenAI-compatible servers need none.
            api_key=config.api_key or "none",
            timeout=openai.Timeout(timeout, connect=min(_MAX_CONNECT_TIMEOUT_SECONDS, timeout)),
            max_retries=0,
        )

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        self._client.close()

    def assess(self, *, rubric: Rubric, task_text: str) -> AIAssessment:
        """Rate `task_text` against `rubric` with one chat completion.

        Raises `RetryableAIError` (timeouts, connection errors, 408/409/429/5xx, a broken
        response, `InvalidAIOutput`) or `PermanentAIError` (other 4xx).
        """
        messages: list[ChatCompletionMessageParam] = [
            ChatCompletionSystemMessageParam(role="system", content=system_prompt(rubric)),
            ChatCompletionUserMessageParam(role="user", content=user_prompt(task_text)),
        ]
        started = time.perf_counter()
        try:
            # The raw response lets us validate the body ourselves: the SDK would hand back a
            # plain string or an unvalidated object for a broken 200.
            raw = self._client.chat.completions.with_raw_response.create(
                model=self.model,
                messages=messages,
                temperature=0,
                response_format=self._response_format,
            )
            body = raw.http_response.text
        except openai.APITimeoutError as exc:
            raise RetryableAIError(
                f"OpenAI request timed out (timeout {self._config.timeout_seconds:g}s)"
            ) from exc
        except openai.APIConnectionError as exc:
            raise RetryableAIError(f"OpenAI connection error: {exc}") from exc
        except openai.APIStatusError as exc:
            raise _status_error(exc) from exc
        latency_ms = round((time.perf_counter() - started) * 1000)

        completion = _completion_from_body(body)
        if not completion.choices:
            raise RetryableAIError("OpenAI response has no choices")
        message = completion.choices[0].message
        content = message.content if message.content is not None else message.refusal
        rating, rationale = parse_assessment_output(content)

        input_tokens = completion.usage.prompt_tokens if completion.usage else 0
        output_tokens = completion.usage.completion_tokens if completion.usage else 0
        cost_usd = (
            input_tokens * self._config.price_input_per_mtok
            + output_tokens * self._config.price_output_per_mtok
        ) / 1_000_000
        return AIAssessment(
            rating=rating,
            rationale=rationale,
            provider=self.name,
            # The model that answered: OpenAI reports the dated snapshot behind an alias.
            model=completion.model or self.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=latency_ms,
            cost_usd=cost_usd,
        )


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` in seconds or as an HTTP date;
    None when absent or unreadable. `now` (epoch seconds) defaults to the current time."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        date = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(date.timestamp() - current, 0.0)


def _status_error(exc: openai.APIStatusError) -> RetryableAIError | PermanentAIError:
    status = exc.status_code
    message = f"OpenAI returned HTTP {status}: {_server_message(exc)}"
    if status in _RETRYABLE_STATUSES or status >= 500:
        return RetryableAIError(message, retry_after=parse_retry_after(exc.response.headers))
    return PermanentAIError(message)


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    text: str
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        text = body["message"]
    elif isinstance(body, str) and body.strip():
        text = body
    else:
        text = exc.message
    return excerpt(text, _MESSAGE_EXCERPT_CHARS)


def _completion_from_body(body: str) -> ChatCompletion:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise RetryableAIError(f"OpenAI response body is not JSON: {excerpt(body)}") from exc
    try:
        return ChatCompletion.model_validate(data)
    except pydantic.ValidationError as exc:
        raise RetryableAIError(
            f"OpenAI response is not a chat completion: {excerpt(body)}"
        ) from exc
