"""The AI seam: what the scoring engine asks of a model, and the errors a provider may raise.

Providers implement `AIProvider`; `taskscore.integrations.ai.providers.provider_from_config` picks
one from configuration. Nothing here imports Django models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Rubric:
    """One AI criterion's question, rated 0–10. The optional anchors say what a 10 and a 0 look
    like; the local provider compares the task against them, LLM providers show them as guidance."""

    question: str
    high_anchor: str = ""
    low_anchor: str = ""


@dataclass(frozen=True)
class AIAssessment:
    """A model's answer to one rubric question about one task."""

    rating: float  # 0..10
    rationale: str
    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: int = 0
    cost_usd: float = 0.0
    cached: bool = False  # served from the result cache: no call was made, nothing was spent


@dataclass(frozen=True)
class AIConfig:
    """Provider settings, read from the environment by Django settings and passed in."""

    provider: str  # "openai" or "local"
    model: str
    base_url: str = ""
    api_key: str = ""
    timeout_seconds: float = 30.0
    price_input_per_mtok: float = 0.0  # USD per million input tokens, for the cost estimate
    price_output_per_mtok: float = 0.0
    # Ask for a JSON-schema answer (OpenAI structured outputs); off: JSON mode only, for servers
    # that lack it. The answer is parsed strictly either way.
    structured_output: bool = True


class AIError(Exception):
    """Base of provider errors."""


class RetryableAIError(AIError):
    """A transient failure (timeout, connection error, 408/409/429, 5xx, unusable output that a
    new sample may fix): try again later, not before `retry_after` seconds when given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentAIError(AIError):
    """A failure that retrying cannot fix (bad request, authentication, unknown model)."""


class AIProvider(Protocol):
    name: str
    model: str

    def assess(self, *, rubric: Rubric, task_text: str) -> AIAssessment: ...
