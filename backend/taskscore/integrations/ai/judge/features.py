"""What a careful reader looks for in a task, counted: the signals a rubric turns on (a goal, a
definition of done, a scope, who benefits, numbers, length) and the ones that should not sway it
(keyword stuffing, instructions to the rater). The judge's model weighs these next to the text's
sentence embedding.

Every feature is a pure function of the text: no randomness, no state."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)?")
_NUMBER = re.compile(
    r"(?<![A-Za-z])\d+(?:[.,]\d+)?\s*(?:%|ms|s\b|k\b|m\b|x\b|€|\$|£|days?|weeks?|hours?|users?)?"
)
_MONEY_OR_PERCENT = re.compile(r"[$€£]\s*\d|\d\s*%|\d+\s*(?:k|m|bn)\b", re.IGNORECASE)
_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)]|\[[ x]\])\s+", re.MULTILINE)
_CODE = re.compile(
    r"`[^`]+`|\b\w+\.(?:py|ts|tsx|js|sql|yml|yaml|json|go|rb|java)\b|/[a-z0-9_-]+(?:/[a-z0-9_{}-]+)+"
)
_IDENTIFIER = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[a-z]+[A-Z][A-Za-z]+\b")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_JSONISH = re.compile(r"[{<]\s*\"?(?:rating|score)\"?\s*[:=]", re.IGNORECASE)


def _phrases(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)


_DONE = _phrases(
    r"done when", r"definition of done", r"acceptance criteria", r"acceptance", r"ac\s*:",
    r"success(?:ful)? (?:when|means|criteria)", r"is done", r"we(?:'ll| will) know",
    r"measured by", r"verify", r"verified", r"expected", r"should (?:return|show|be)",
    r"given", r"then", r"out of scope", r"not in scope", r"in scope", r"deliverables?",
)  # fmt: skip
_GOAL = _phrases(
    r"so that", r"in order to", r"goal", r"because", r"so we", r"to let", r"to allow",
    r"to reduce", r"to increase", r"to stop", r"to avoid", r"we need", r"aim",
)  # fmt: skip
_WHO = _phrases(
    r"users?", r"customers?", r"clients?", r"admins?", r"developers?", r"engineers?",
    r"support", r"finance", r"sales", r"marketing", r"ops", r"managers?", r"team",
    r"as an?", r"buyers?", r"accounts?", r"visitors?", r"candidates?", r"employees?",
)  # fmt: skip
_VALUE = _phrases(
    r"revenue", r"churn", r"conversion", r"retention", r"cost", r"costs", r"saves?",
    r"risk", r"compliance", r"audit", r"security", r"incidents?", r"tickets?", r"complaints?",
    r"deals?", r"arr", r"mrr", r"sla", r"deadline", r"legal", r"fines?", r"outages?",
    r"lost", r"losing", r"blocked", r"asked", r"requested",
)  # fmt: skip
_VAGUE = _phrases(
    r"stuff", r"things?", r"etc", r"somehow", r"something", r"various", r"whatever",
    r"improve", r"better", r"fix it", r"look into", r"figure out", r"clean ?up", r"tbd",
    r"maybe", r"asap", r"some", r"nice", r"\?\?+",
)  # fmt: skip
_BIG = _phrases(
    r"platform", r"entire", r"everything", r"all (?:of )?(?:the )?\w+", r"rebuild",
    r"rewrite", r"redesign", r"overhaul", r"revamp", r"strategy", r"roadmap", r"v2",
    r"from scratch", r"end[- ]to[- ]end", r"company[- ]wide", r"globally", r"market leader",
)  # fmt: skip
_SMALL = _phrases(
    r"only", r"just", r"single", r"one", r"rename", r"typo", r"copy", r"button", r"label",
    r"field", r"column", r"endpoint", r"page", r"flag", r"bump", r"upgrade", r"add an?",
)  # fmt: skip
_TIME = _phrases(
    r"q[1-4]", r"monday|tuesday|wednesday|thursday|friday", r"january|february|march|april|may",
    r"june|july|august|september|october|november|december", r"by (?:end of )?\w+",
    r"\d+ (?:days?|weeks?|sprints?)", r"this (?:week|sprint|month|quarter)",
)  # fmt: skip
_GAMING = _phrases(
    r"rate (?:this|it|me)", r"10\s*/\s*10",
    r"ignore (?:the |all |previous |prior )?(?:instructions|rubric|rules)",
    r"as an ai", r"system prompt", r"you (?:must|should) (?:rate|score|give)",
    r"highest (?:score|rating)",
    r"perfect score", r"score (?:of )?10",
)  # fmt: skip


@dataclass(frozen=True)
class TaskText:
    """A task as the AI sees it (`title\\n\\ndescription`), split back into its parts."""

    title: str
    description: str

    @classmethod
    def parse(cls, text: str) -> TaskText:
        title, _, description = text.strip().partition("\n")
        return cls(title=title.strip(), description=description.strip())

    @property
    def full(self) -> str:
        return f"{self.title}\n\n{self.description}".strip()


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))


def _squash(count: float) -> float:
    """Counts read with diminishing returns: 0, 1, 2 matter; 20 is not ten times 2."""
    return math.log1p(count)


FEATURE_NAMES: tuple[str, ...] = (
    "words_log",
    "title_words_log",
    "description_words_log",
    "has_description",
    "sentences_log",
    "list_lines_log",
    "numbers_log",
    "money_or_percent",
    "code_refs_log",
    "identifiers_log",
    "done_markers_log",
    "goal_markers_log",
    "who_markers_log",
    "value_markers_log",
    "vague_markers_log",
    "big_markers_log",
    "small_markers_log",
    "time_markers_log",
    "gaming_markers",
    "jsonish",
    "question_marks_log",
    "uppercase_ratio",
    "distinct_word_ratio",
    "vague_share",
    "done_per_sentence",
)


def text_features(text: str) -> Vector:
    """The features of a task's text, in the order of FEATURE_NAMES."""
    task = TaskText.parse(text)
    full = task.full
    words = _words(full)
    word_count = len(words)
    lower_words = [w.lower() for w in words]
    letters = [c for c in full if c.isalpha()]
    sentences = max(
        1, _count(_SENTENCE_END, full) + (0 if full.rstrip().endswith((".", "!", "?")) else 1)
    )
    vague = _count(_VAGUE, full)
    done = _count(_DONE, full)
    values = [
        _squash(word_count),
        _squash(len(_words(task.title))),
        _squash(len(_words(task.description))),
        1.0 if task.description else 0.0,
        _squash(sentences),
        _squash(_count(_LIST_LINE, task.description)),
        _squash(_count(_NUMBER, full)),
        1.0 if _MONEY_OR_PERCENT.search(full) else 0.0,
        _squash(_count(_CODE, full)),
        _squash(_count(_IDENTIFIER, full)),
        _squash(done),
        _squash(_count(_GOAL, full)),
        _squash(_count(_WHO, full)),
        _squash(_count(_VALUE, full)),
        _squash(vague),
        _squash(_count(_BIG, full)),
        _squash(_count(_SMALL, full)),
        _squash(_count(_TIME, full)),
        1.0 if _GAMING.search(full) else 0.0,
        1.0 if _JSONISH.search(full) else 0.0,
        _squash(full.count("?")),
        (sum(c.isupper() for c in letters) / len(letters)) if letters else 0.0,
        (len(set(lower_words)) / word_count) if word_count else 0.0,
        vague / word_count if word_count else 0.0,
        done / sentences,
    ]
    return np.asarray(values, dtype=np.float32)


def gaming_signals(text: str) -> list[str]:
    """What in a text addresses the rater instead of describing work (for the rationale)."""
    signals = []
    if _GAMING.search(text):
        signals.append("asks the rater for a rating")
    if _JSONISH.search(text):
        signals.append("carries its own rating")
    return signals
