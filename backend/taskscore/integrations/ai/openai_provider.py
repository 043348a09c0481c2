"""The `openai` provider: one chat completion per assessment, against any OpenAI-compatible
server (`AIConfig.base_url`).

With `AIConfig.structured_output` the request asks for an answer that follows a strict JSON schema
(structured outputs), otherwise for JSON mode; the answer is parsed strictly either way
(`prompt.parse_assessment_output`). Nothing is retried here (the Celery job does, without
blocking a worker thread in a sleep); every failure is mapped to a `RetryableAIError` or a
`PermanentAIError`.

The request goes through `transport.JSONClient` (a kept-alive `http.client` connection per
thread), not the official SDK: we build the request body and read the answer's few fields
ourselves, and the SDK's client cost about 1 ms of CPU per call around that, a quarter of a
scoring job's (ADR 0017, docs/performance.md).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import math
import time
from collections.abc import Mapping
from typing import Any

import pydantic

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
from taskscore.integrations.ai.transport import JSONClient

__all__ = ["DEFAULT_BASE_URL", "InvalidAIOutput", "OpenAIProvider", "parse_retry_after"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Statuses that describe the server's state rather than our request: a later try may succeed.
_RETRYABLE_STATUSES = frozenset({408, 409, 429})
_MAX_CONNECT_TIMEOUT_SECONDS = 5.0
_MESSAGE_EXCERPT_CHARS = 300
# The answer `parse_assessment_output` accepts, as a strict structured-outputs schema.
_STRUCTURED_RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
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
}
_JSON_MODE_RESPONSE_FORMAT: dict[str, Any] = {"type": "json_object"}


class OpenAIProvider:
    """An `AIProvider` backed by a chat-completions endpoint. Thread-safe: one instance serves
    every worker thread, each over its own kept-alive connection."""

    name = "openai"

    def __init__(self, config: AIConfig) -> None:
        self.model = config.model
        self._config = config
        self._response_format = (
            _STRUCTURED_RESPONSE_FORMAT if config.structured_output else _JSON_MODE_RESPONSE_FORMAT
        )
        timeout = config.timeout_seconds
        headers = {"User-Agent": "taskscore"}
        if config.api_key:
            # Local OpenAI-compatible servers need none.
            headers["Authorization"] = f"Bearer {config.api_key}"
        self._client = JSONClient(
            config.base_url or DEFAULT_BASE_URL,
            timeout=timeout,
            connect_timeout=min(_MAX_CONNECT_TIMEOUT_SECONDS, timeout),
            headers=headers,
        )

    def close(self) -> None:
        """Close the kept-alive connections."""
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
        body = json.dumps(request, ensure_ascii=False).encode()
        started = time.perf_counter()
        try:
            response = self._client.post("chat/completions", body)
        except TimeoutError as exc:
            raise RetryableAIError(
                f"OpenAI request timed out (timeout {self._config.timeout_seconds:g}s)"
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise RetryableAIError(f"OpenAI connection error: {type(exc).__name__}: {exc}") from exc
        latency_ms = round((time.perf_counter() - started) * 1000)
        if response.status >= 400:
            raise _status_error(response.status, response.headers, response.body)
        text = response.body.decode("utf-8", errors="replace")

        completion = _completion_from_body(text)
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


def _status_error(
    status: int, headers: Mapping[str, str], body: bytes
) -> RetryableAIError | PermanentAIError:
    message = f"OpenAI returned HTTP {status}: {_server_message(status, body)}"
    if status in _RETRYABLE_STATUSES or status >= 500:
        return RetryableAIError(message, retry_after=parse_retry_after(headers))
    return PermanentAIError(message)


def _server_message(status: int, body: bytes) -> str:
    """The error's message as the server put it: `{"error": {"message": ...}}` (OpenAI and most
    compatible servers), a top-level `message`, or the body's text; else the status's name."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        error = data.get("error")
        for holder in (error, data):
            if isinstance(holder, Mapping) and isinstance(holder.get("message"), str):
                return excerpt(holder["message"], _MESSAGE_EXCERPT_CHARS)
        if isinstance(error, str) and error.strip():
            return excerpt(error, _MESSAGE_EXCERPT_CHARS)
    if text.strip():
        return excerpt(text, _MESSAGE_EXCERPT_CHARS)
    return http.client.responses.get(status, "error")


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
