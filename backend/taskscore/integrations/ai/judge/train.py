"""Training the offline judge: `make train-judge` (or `python -m
taskscore.integrations.ai.judge.train`) rebuilds weights.json from the labelled tasks.

For each built-in rubric, a ridge regression on the task's MiniLM embedding (384 numbers) and its
counted text features (features.py), standardized, the features weighted up against the many
embedding dimensions. The penalty and that weight are chosen by cross-validation over groups of
the training split only; the held-out split (dataset.is_held_out) is never read here. A "general"
head, trained on the mean of the three rubrics, rates rubrics that have no labels.

Deterministic: the same data and model files give the same weights on the same machine, bit for
bit. On another CPU the float32 forward pass of MiniLM differs in its last bits (other SIMD
kernels), which moves a coefficient in its 6th or 7th significant digit, so "the same weights"
across machines means: the same structure, the same data fingerprint and hyperparameters, and
every number within `RELATIVE_TOLERANCE` (see `differences`). `--check` rebuilds in memory and
fails if weights.json differs by more than that."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from taskscore.integrations.ai import minilm
from taskscore.integrations.ai.judge.dataset import (
    RUBRIC_KEYS,
    LabelledTask,
    data_fingerprint,
    load_tasks,
    split,
)
from taskscore.integrations.ai.judge.features import FEATURE_NAMES, text_features
from taskscore.integrations.ai.judge.metrics import spearman

Matrix = npt.NDArray[np.float64]

WEIGHTS_PATH = Path(__file__).resolve().parent / "weights.json"
JUDGE_VERSION = "judge-v1"
GENERAL_HEAD = "general"
PENALTIES = (100.0, 300.0, 1000.0, 3000.0)
FEATURE_WEIGHTS = (1.0, 3.0, 10.0)
FOLDS = 5
SIGNIFICANT_DIGITS = 7
# The embedding reads a task's first 128 tokens (MiniLM reads up to 256): the longest 8 % of
# tasks encode in half the time, and the held-out figures are the same (the counted text features
# still read the whole text).
MAX_TOKENS = 128
MIN_SPREAD = 1e-6
# A coefficient may move this much (relative to the largest number of its list) between CPUs; a
# change of data, features or hyperparameters moves many of them by far more.
RELATIVE_TOLERANCE = 2e-4


@dataclass(frozen=True)
class Head:
    """A linear head: rating = clip(x · coef + intercept, 0, 10), x = embedding ⊕ features."""

    coef: list[float]
    intercept: float
    penalty: float
    feature_weight: float
    cv_spearman: float


def design_matrix(tasks: Sequence[LabelledTask], encoder: minilm.Encoder) -> Matrix:
    rows = [
        np.concatenate(
            [encoder.encode(t.text, max_tokens=MAX_TOKENS).vector, text_features(t.text)]
        ).astype(np.float64)
        for t in tasks
    ]
    return np.vstack(rows)


def _fit(
    x: Matrix, y: Matrix, penalty: float, feature_weight: float, embedding_size: int
) -> tuple[Matrix, float]:
    """Ridge on standardized columns, the feature columns scaled by `feature_weight`; returned
    folded back into raw-input coefficients and an intercept."""
    mean = x.mean(axis=0)
    sd = x.std(axis=0)
    # A column that does not vary (MiniLM has dimensions that are float noise around 0, ~1e-8
    # to 1e-33) gets no weight: standardizing it would turn that noise, which differs between
    # CPUs, into coefficients of 1e31.
    dead = sd < MIN_SPREAD
    sd[dead] = 1.0
    scale = np.ones(x.shape[1])
    scale[embedding_size:] = feature_weight
    scale[dead] = 0.0
    z = (x - mean) / sd * scale
    y_mean = float(y.mean())
    w = np.linalg.solve(z.T @ z + penalty * np.eye(z.shape[1]), z.T @ (y - y_mean))
    coef = w * scale / sd
    return coef, y_mean - float(mean @ coef)


def _predict(x: Matrix, coef: Matrix, intercept: float) -> Matrix:
    return np.clip(x @ coef + intercept, 0.0, 10.0)


def _folds(groups: Sequence[str]) -> list[npt.NDArray[np.bool_]]:
    """Fold masks by group (a stable hash, like the split), so variants stay together."""
    import hashlib

    fold_of = [int(hashlib.sha256(g.encode()).hexdigest(), 16) % FOLDS for g in groups]
    return [np.array([f == k for f in fold_of]) for k in range(FOLDS)]


def train_head(x: Matrix, y: Matrix, groups: Sequence[str], embedding_size: int) -> Head:
    folds = _folds(groups)
    best: tuple[float, float, float] | None = None
    for penalty in PENALTIES:
        for feature_weight in FEATURE_WEIGHTS:
            scores = []
            for held in folds:
                coef, intercept = _fit(x[~held], y[~held], penalty, feature_weight, embedding_size)
                scores.append(spearman(list(y[held]), list(_predict(x[held], coef, intercept))))
            score = float(np.mean(scores))
            if best is None or score > best[0]:
                best = (score, penalty, feature_weight)
    assert best is not None
    score, penalty, feature_weight = best
    coef, intercept = _fit(x, y, penalty, feature_weight, embedding_size)
    return Head(
        coef=[_round(v) for v in coef],
        intercept=_round(intercept),
        penalty=penalty,
        feature_weight=feature_weight,
        cv_spearman=round(score, 4),
    )


def _round(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def build_weights(
    *, encoder: minilm.Encoder | None = None, log: Callable[[str], None] = print
) -> dict[str, object]:
    encoder = encoder or minilm.encoder_for()
    train, _ = split(load_tasks())
    log(f"training on {len(train)} labelled tasks (the held-out split is not read)")
    x = design_matrix(train, encoder)
    embedding_size = x.shape[1] - len(FEATURE_NAMES)
    groups = [t.group for t in train]
    heads: dict[str, object] = {}
    targets = {
        key: np.array([t.ratings[key] for t in train], dtype=np.float64) for key in RUBRIC_KEYS
    }
    targets[GENERAL_HEAD] = np.mean([targets[key] for key in RUBRIC_KEYS], axis=0)
    for key, y in targets.items():
        head = train_head(x, y, groups, embedding_size)
        log(f"  {key}: penalty {head.penalty:g}, feature weight {head.feature_weight:g}, "
            f"cross-validated Spearman {head.cv_spearman:.3f}")  # fmt: skip
        heads[key] = head.__dict__
    return {
        "version": JUDGE_VERSION,
        "embedding_model": minilm.MODEL_NAME,
        "data": data_fingerprint(),
        "train_tasks": len(train),
        "feature_names": list(FEATURE_NAMES),
        "embedding_size": embedding_size,
        "max_tokens": MAX_TOKENS,
        # A typical training task's features: the rationale names what sets a task apart.
        "feature_means": [_round(v) for v in x[:, embedding_size:].mean(axis=0)],
        "heads": heads,
    }


def differences(built: object, shipped: object, path: str = "") -> list[str]:
    """Where two weight documents differ beyond float noise: the dotted paths, empty if none.
    Strings, integers, keys and lengths must match exactly; a float may differ by
    RELATIVE_TOLERANCE of the largest magnitude in its list (or of itself, or of 1)."""
    if isinstance(built, dict) and isinstance(shipped, dict):
        if built.keys() != shipped.keys():
            return [f"{path or '.'}: keys {sorted(built)} != {sorted(shipped)}"]
        return [
            diff
            for key in sorted(built)
            for diff in _differs(built[key], shipped[key], f"{path}.{key}".lstrip("."), 0.0)
        ]
    if isinstance(built, list) and isinstance(shipped, list):
        if len(built) != len(shipped):
            return [f"{path}: length {len(built)} != {len(shipped)}"]
        scale = _magnitude(built)
        return [
            diff
            for index, (a, b) in enumerate(zip(built, shipped, strict=True))
            for diff in _differs(a, b, f"{path}.{index}", scale)
        ]
    return _differs(built, shipped, path, abs(built) if isinstance(built, float) else 0.0)


def _differs(built: object, shipped: object, path: str, scale: float) -> list[str]:
    if isinstance(built, (dict, list)):
        return differences(built, shipped, path)
    if isinstance(built, float) and isinstance(shipped, float):
        if abs(built - shipped) <= RELATIVE_TOLERANCE * max(scale, abs(built), 1.0):
            return []
        return [f"{path}: {built!r} != {shipped!r}"]
    return (
        []
        if built == shipped and type(built) is type(shipped)
        else [f"{path}: {built!r} != {shipped!r}"]
    )


def _magnitude(values: list[object]) -> float:
    return max((abs(v) for v in values if isinstance(v, float)), default=0.0)


def dump(weights: dict[str, object]) -> str:
    return json.dumps(weights, indent=1, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=WEIGHTS_PATH)
    parser.add_argument(
        "--check", action="store_true", help="Fail if the file is not what training gives."
    )
    args = parser.parse_args(argv)
    weights = build_weights()
    document = dump(weights)
    if args.check:
        shipped = json.loads(args.output.read_text()) if args.output.exists() else {}
        found = differences(json.loads(document), shipped)
        if found:
            print(
                f"{args.output} is not what training gives; run `make train-judge`:\n  "
                + "\n  ".join(found[:10]),
                file=sys.stderr,
            )
            return 1
        print(f"{args.output} is up to date.")
        return 0
    args.output.write_text(document)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
