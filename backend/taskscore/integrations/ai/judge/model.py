"""The trained judge at rating time: weights.json's linear heads over the task's MiniLM embedding
and counted text features.

A built-in rubric (clarity, scope, value: recognised by its question) is rated by its own head,
trained on people's ratings. Any other rubric has no labels: it is rated by the general head
(how well a task is specified, trained on the three) blended with the task's closeness to the
rubric's own anchors, and the rationale says so. A task that restates the rubric's description of
a 10 instead of describing work is flagged and capped."""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from taskscore.integrations.ai import minilm
from taskscore.integrations.ai.base import Rubric
from taskscore.integrations.ai.judge.dataset import BUILTIN_QUESTIONS
from taskscore.integrations.ai.judge.features import FEATURE_NAMES, gaming_signals, text_features

WEIGHTS_PATH = Path(__file__).resolve().parent / "weights.json"
CALIBRATION_PATH = Path(__file__).resolve().parent / "calibration.json"
GENERAL_HEAD = "general"
# How much of an unlabelled rubric's rating comes from the general head; the rest from the
# rubric's anchors (measured: see `make calibrate`, the zero-shot rows).
GENERAL_SHARE = 0.75
# A task this close to the rubric's description of a 10 restates it rather than describing work.
RESTATEMENT_SIMILARITY = 0.7
RESTATEMENT_CAP = 2.0
EMBEDDING_CACHE_SIZE = 512

Vector = npt.NDArray[np.float64]

# What each feature means to a reader, for the rationale: (when it raises the rating, when it
# lowers it). Only the most telling ones are named.
_FEATURE_WORDS: dict[str, tuple[str, str]] = {
    "words_log": ("enough detail", "too little said"),
    "description_words_log": ("a description", "no description"),
    "has_description": ("a description", "no description"),
    "list_lines_log": ("a list of what is in it", "no list of what is in it"),
    "numbers_log": ("numbers", "no numbers"),
    "money_or_percent": ("figures (money, shares)", "no figures"),
    "code_refs_log": ("the places it touches", "no place it touches"),
    "done_markers_log": ("a definition of done", "no definition of done"),
    "goal_markers_log": ("a stated goal", "no stated goal"),
    "who_markers_log": ("who it is for", "no one it is for"),
    "value_markers_log": ("a reason that matters to the business", "no business reason"),
    "vague_markers_log": ("few vague words", "vague wording"),
    "vague_share": ("few vague words", "vague wording"),
    "big_markers_log": ("a bounded scope", "a sprawling scope"),
    "small_markers_log": ("a small, bounded change", "no bounded change"),
    "time_markers_log": ("a date or deadline", "no date"),
    "gaming_markers": ("", "it addresses the rater"),
    "jsonish": ("", "it carries its own rating"),
}


def normalize_question(question: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", question.lower()).strip()


@dataclass(frozen=True)
class Verdict:
    rating: float
    head: str  # the rubric key whose labels trained it, or "general"
    rationale: str
    flags: tuple[str, ...] = ()


class _EmbeddingCache:
    """Recently encoded texts: a task is rated on several rubrics, and encoded once."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[Path, str], minilm.Embedding] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, encoder: minilm.Encoder, text: str, max_tokens: int | None) -> minilm.Embedding:
        key = (encoder.model_dir, text)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        embedding = encoder.encode(text, max_tokens=max_tokens)
        with self._lock:
            self._items[key] = embedding
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return embedding


class Judge:
    """Rates a task on a rubric with the trained heads. Immutable once loaded; thread-safe."""

    def __init__(
        self, weights: dict[str, Any], *, calibration: dict[str, Any] | None = None
    ) -> None:
        if list(weights["feature_names"]) != list(FEATURE_NAMES):
            raise ValueError("weights.json was trained with other features; run `make train-judge`")
        self.version: str = weights["version"]
        self.embedding_size: int = weights["embedding_size"]
        self.train_tasks: int = weights["train_tasks"]
        self.heads: dict[str, tuple[Vector, float]] = {
            key: (np.asarray(head["coef"], dtype=np.float64), float(head["intercept"]))
            for key, head in weights["heads"].items()
        }
        self.feature_means = np.asarray(weights["feature_means"], dtype=np.float64)
        # The task's first tokens the embedding reads (what training read too).
        self.max_tokens: int | None = weights.get("max_tokens")
        self.calibration = calibration or {}
        self._embeddings = _EmbeddingCache(EMBEDDING_CACHE_SIZE)

    def head_for(self, rubric: Rubric) -> str:
        """The built-in rubric whose labels trained a head for this question, or "general"."""
        wanted = normalize_question(rubric.question)
        for key, question in BUILTIN_QUESTIONS.items():
            if normalize_question(question) == wanted and key in self.heads:
                return key
        return GENERAL_HEAD

    def embed(self, encoder: minilm.Encoder, text: str) -> minilm.Embedding:
        return self._embeddings.get(encoder, text, self.max_tokens)

    def rate(
        self,
        *,
        rubric: Rubric,
        text: str,
        encoder: minilm.Encoder,
        anchor_rating: float | None,
        high_anchor_similarity: float,
    ) -> Verdict:
        """The rating of `text` on `rubric`. `anchor_rating` (the anchor-similarity rating) and
        the task's similarity to the high anchor come from the caller, who holds the anchors."""
        embedding = self.embed(encoder, text)
        features = text_features(text).astype(np.float64)
        x = np.concatenate([embedding.vector.astype(np.float64), features])
        head = self.head_for(rubric)
        coef, intercept = self.heads[head]
        learned = float(np.clip(x @ coef + intercept, 0.0, 10.0))
        rating = learned
        if head == GENERAL_HEAD and anchor_rating is not None:
            rating = GENERAL_SHARE * learned + (1 - GENERAL_SHARE) * anchor_rating
        flags: list[str] = []
        if rubric.high_anchor.strip() and high_anchor_similarity >= RESTATEMENT_SIMILARITY:
            flags.append("restates the rubric's description of a 10 instead of describing work")
            rating = min(rating, RESTATEMENT_CAP)
        flags += gaming_signals(text)
        rating = round(rating, 1)
        return Verdict(
            rating=rating,
            head=head,
            flags=tuple(flags),
            rationale=self._rationale(head, rating, coef, features, flags, embedding),
        )

    def _reasons(self, coef: Vector, features: Vector) -> tuple[list[str], list[str]]:
        """The features that moved this rating most, each way, in words."""
        weights = coef[self.embedding_size :]
        centered = features - self.feature_means
        pushes = weights * centered
        order = np.argsort(pushes)
        up: list[str] = []
        down: list[str] = []
        for index in order[::-1][:6]:
            word = _FEATURE_WORDS.get(FEATURE_NAMES[index], ("", ""))[0]
            if pushes[index] > 0.05 and word and word not in up:
                up.append(word)
        for index in order[:6]:
            word = _FEATURE_WORDS.get(FEATURE_NAMES[index], ("", ""))[1]
            if pushes[index] < -0.05 and word and word not in down:
                down.append(word)
        return up[:3], down[:2]

    def _rationale(
        self,
        head: str,
        rating: float,
        coef: Vector,
        features: Vector,
        flags: list[str],
        embedding: minilm.Embedding,
    ) -> str:
        figures = self.calibration.get("heads", {}).get(head, {})
        if head == GENERAL_HEAD:
            source = (
                f"Taskscore's offline judge ({self.version}). This rubric has no labelled "
                "examples, so it is rated by the judge's general sense of how well a task is "
                "specified (learned from people's ratings of clarity, scope and value) and by how "
                "close the task is to the rubric's own anchors: a rough guide"
            )
        else:
            source = (
                f"Taskscore's offline judge ({self.version}), trained on {self.train_tasks} tasks "
                f"people rated for {head}"
            )
        if figures.get("spearman") is not None:
            source += (
                f"; on tasks it never saw it agrees with people at Spearman "
                f"{figures['spearman']:.2f}"
            )
        up, down = self._reasons(coef, features)
        parts = [f"{rating:.1f}/10 from {source}."]
        if up:
            parts.append(f"Raised by {', '.join(up)}.")
        if down:
            parts.append(f"Lowered by {', '.join(down)}.")
        if flags:
            parts.append(f"Flagged: the task {'; '.join(flags)}.")
        if embedding.is_truncated:
            parts.append("Only the first part of a long task was read.")
        return " ".join(parts)


def load_judge(
    weights_path: Path = WEIGHTS_PATH, calibration_path: Path = CALIBRATION_PATH
) -> Judge:
    weights = json.loads(weights_path.read_text())
    calibration = json.loads(calibration_path.read_text()) if calibration_path.exists() else None
    if calibration is not None and calibration.get("weights") != weights_fingerprint(weights):
        calibration = None  # figures of other weights would mislead
    return Judge(weights, calibration=calibration)


def weights_fingerprint(weights: dict[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(weights, sort_keys=True).encode()).hexdigest()[:16]
