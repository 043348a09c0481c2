from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AIAssessment:
    """A model's answer to one rubric question about one task."""

    rating: float  # 0..10
    rationale: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: int = 0


class RetryableAIError(Exception):
    """A transient failure (timeout, 429, 5xx): try again later, after `retry_after` if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentAIError(Exception):
    """A failure that retrying cannot fix (bad request, unusable output)."""


class AIProvider(Protocol):
    name: str

    def assess(self, *, rubric: str, task_text: str) -> AIAssessment: ...
