"""How well ratings agree with people's: rank correlation, error, bias, and the share of clearly
different pairs put in the right order."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Pairs whose human ratings differ by at least this are "obvious": a judge must order them right.
PAIR_GAP = 4


def ranks(values: Sequence[float]) -> list[float]:
    """Average ranks (ties share the mean of their positions), 1-based."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return result


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) < 2:
        return float("nan")
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    var = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return cov / var if var else float("nan")


def pairwise_accuracy(
    human: Sequence[float], machine: Sequence[float], gap: float = PAIR_GAP
) -> tuple[float, int]:
    """The share of pairs whose human ratings differ by at least `gap` that the machine orders the
    same way (a tie counts half), and how many such pairs there were."""
    right = 0.0
    pairs = 0
    for i in range(len(human)):
        for j in range(i + 1, len(human)):
            if abs(human[i] - human[j]) < gap:
                continue
            pairs += 1
            direction = (human[i] - human[j]) * (machine[i] - machine[j])
            right += 1.0 if direction > 0 else 0.5 if machine[i] == machine[j] else 0.0
    return (right / pairs if pairs else float("nan")), pairs


@dataclass(frozen=True)
class Agreement:
    labels: int
    spearman: float
    mae: float
    bias: float  # mean of machine − human: positive rates higher than people do
    pairwise_accuracy: float
    pairs: int

    def as_dict(self) -> dict[str, float | int]:
        def rounded(x: float) -> float:
            return round(x, 3) if not math.isnan(x) else x

        return {
            "labels": self.labels,
            "spearman": rounded(self.spearman),
            "mae": rounded(self.mae),
            "bias": rounded(self.bias),
            "pairwise_accuracy": rounded(self.pairwise_accuracy),
            "pairs": self.pairs,
        }


def agreement(human: Sequence[float], machine: Sequence[float]) -> Agreement:
    n = len(human)
    accuracy, pairs = pairwise_accuracy(human, machine)
    return Agreement(
        labels=n,
        spearman=spearman(human, machine),
        mae=sum(abs(m - h) for h, m in zip(human, machine, strict=True)) / n if n else float("nan"),
        bias=sum(m - h for h, m in zip(human, machine, strict=True)) / n if n else float("nan"),
        pairwise_accuracy=accuracy,
        pairs=pairs,
    )
