"""The `openai` provider: one chat completion per assessment through the official OpenAI SDK.

Works with any OpenAI-compatible server (`AIConfig.base_url`). With `AIConfig.structured_output`
the request asks for an answer that follows a strict JSON schema (structured outputs), otherwise
for JSON mode; the answer is parsed strictly either way (`prompt.parse_assessment_output`). The
SDK does not retry (the Celery job does, without blocking a worker thread in a sleep); every
failure is mapped to a `RetryableAIError` or a `PermanentAIError`.

The lean path: the request goes through the SDK's client (base URL, credentials, timeouts, its
errors) as a plain JSON body, and the answer is read into a small model of the fields used.
`chat.completions.create` would walk its whole typed parameter set and validate the whole
completion: about 1 ms of CPU per call, half of the call's cost in a scoring job
(docs/performance.md).
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Mapping

import httpx2 as httpx
import openai
import pydantic
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
        request = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system_prompt(rubric)},
                {"role": "user", "content": user_prompt(task_text)},
            ],
            "temperature": 0,
            "response_format": self._response_format,
        }
        started = time.perf_counter()
        try:
            # The raw response lets us validate the body ourselves: the SDK would hand back a
            # plain string or an unvalidated object for a broken 200.
            response = self._client.post(
                "/chat/completions",
                body=request,
                cast_to=httpx.Response,
                options={"security": {"bearer_auth": True}},
            )
            body = response.text
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


class _Message(pydantic.BaseModel):
    content: str | None = None
    refusal: str | None = None


class _Choice(pydantic.BaseModel):
    message: _Message


class _Usage(pydantic.BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _Completion(pydantic.BaseModel):
    """The fields of a chat completion that an assessment reads (others are ignored)."""

    model: str = ""
    choices: list[_Choice]
    usage: _Usage | None = None


def _completion_from_body(body: str) -> _Completion:
    try:
        return _Completion.model_validate_json(body)
    except pydantic.ValidationError as exc:
        try:
            json.loads(body)
        except ValueError:
            raise RetryableAIError(f"OpenAI response body is not JSON: {excerpt(body)}") from exc
        raise RetryableAIError(
            f"OpenAI response is not a chat completion: {excerpt(body)}"
        ) from exc
