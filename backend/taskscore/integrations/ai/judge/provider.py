"""The embedded `local` AI provider: Taskscore's trained offline judge (see model.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from taskscore.integrations.ai import minilm
from taskscore.integrations.ai.base import AIAssessment, AIConfig, PermanentAIError, Rubric
from taskscore.integrations.ai.judge.model import Judge, load_judge
from taskscore.integrations.ai.local_provider import (
    AnchorCache,
    rating_from_margin,
    rubric_anchors,
)

PROVIDER_NAME = "local"
ANCHOR_CACHE_SIZE = 256

_judge_lock = threading.Lock()
_judge: Judge | None = None
_anchors = AnchorCache(ANCHOR_CACHE_SIZE)


def judge() -> Judge:
    """The judge of this process, loaded from weights.json once."""
    global _judge
    if _judge is None:
        with _judge_lock:
            if _judge is None:
                _judge = load_judge()
    return _judge


def model_label() -> str:
    return f"taskscore-{judge().version} ({minilm.MODEL_NAME} + text features, trained)"


class JudgeProvider:
    """Rates offline, in milliseconds, with the judge trained on people's ratings; costs nothing.
    The MiniLM model and the judge's weights load on the first `assess`, once per process."""

    name: str = PROVIDER_NAME

    def __init__(self, config: AIConfig, *, model_dir: Path | None = None) -> None:
        self.config = config
        self.model_dir = model_dir
        self.model = model_label()

    def _encoder(self) -> minilm.Encoder:
        try:
            return minilm.encoder_for(self.model_dir)
        except minilm.ModelUnavailableError as error:
            raise PermanentAIError(str(error)) from error

    def assess(self, *, rubric: Rubric, task_text: str) -> AIAssessment:
        started = time.perf_counter()
        encoder = self._encoder()
        the_judge = judge()
        task = the_judge.embed(encoder, task_text)
        high_text, low_text, _, _ = rubric_anchors(rubric)
        high = _anchors.get_or_encode(encoder, high_text)
        low = _anchors.get_or_encode(encoder, low_text)
        similarity_high = float(np.dot(task.vector, high.vector))
        similarity_low = float(np.dot(task.vector, low.vector))
        verdict = the_judge.rate(
            rubric=rubric,
            text=task_text,
            encoder=encoder,
            anchor_rating=rating_from_margin(similarity_high - similarity_low),
            high_anchor_similarity=similarity_high,
        )
        return AIAssessment(
            rating=verdict.rating,
            rationale=verdict.rationale,
            provider=self.name,
            model=self.model,
            input_tokens=task.token_count,
            output_tokens=0,
            latency_ms=round((time.perf_counter() - started) * 1000),
            cost_usd=0.0,
        )
