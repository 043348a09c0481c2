"""`make calibrate`: every AI provider available offline, evaluated on the held-out split of the
labelled tasks (which training never reads), one JSON line per provider and rubric:
`{"provider", "model", "rubric", "labels", "spearman", "mae", "bias", "pairwise_accuracy",
"pairs"}`; pairwise accuracy is over the pairs whose human ratings differ by at least 4.

Providers: `local` (the trained judge, the default), `local (no labels)` (what the judge does for a
rubric it has no labels for, measured honestly: its general head retrained without the rubric in
question, blended with that rubric's anchors), and `local-anchor` (anchor similarity, the former
default). The judge's own figures are written to calibration.json, which the product shows next
to each AI criterion and quotes in rationales."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from taskscore.integrations.ai import minilm
from taskscore.integrations.ai.base import AIConfig, Rubric
from taskscore.integrations.ai.judge.dataset import (
    BUILTIN_ANCHORS,
    BUILTIN_QUESTIONS,
    RUBRIC_KEYS,
    load_tasks,
    split,
)
from taskscore.integrations.ai.judge.features import FEATURE_NAMES
from taskscore.integrations.ai.judge.metrics import agreement
from taskscore.integrations.ai.judge.model import (
    CALIBRATION_PATH,
    GENERAL_SHARE,
    WEIGHTS_PATH,
    weights_fingerprint,
)
from taskscore.integrations.ai.judge.provider import JudgeProvider
from taskscore.integrations.ai.judge.train import design_matrix, train_head
from taskscore.integrations.ai.local_provider import AnchorSimilarityProvider

# Targets for the default provider on the held-out split (the issue that introduced the judge).
TARGET_SPEARMAN = 0.7
TARGET_PAIRWISE = 0.9


def builtin_rubric(key: str) -> Rubric:
    high, low = BUILTIN_ANCHORS[key]
    return Rubric(question=BUILTIN_QUESTIONS[key], high_anchor=high, low_anchor=low)


def evaluate(*, write: bool = True) -> list[dict[str, Any]]:
    tasks = load_tasks()
    train, held_out = split(tasks)
    config = AIConfig(provider="local", model="")
    judge = JudgeProvider(config)
    anchors = AnchorSimilarityProvider(config)
    lines: list[dict[str, Any]] = []
    figures: dict[str, dict[str, Any]] = {}
    for key in RUBRIC_KEYS:
        rubric = builtin_rubric(key)
        human = [t.ratings[key] for t in held_out]
        judged = [judge.assess(rubric=rubric, task_text=t.text).rating for t in held_out]
        result = agreement(human, judged)
        figures[key] = result.as_dict()
        lines.append({"provider": "local", "model": judge.model, "rubric": key, **result.as_dict()})
        anchored = [anchors.assess(rubric=rubric, task_text=t.text).rating for t in held_out]
        lines.append(
            {"provider": "local-anchor", "model": anchors.model, "rubric": key}
            | agreement(human, anchored).as_dict()
        )
    # A rubric without labels: the general head retrained without the rubric at hand, blended
    # with that rubric's anchor rating, as the judge rates any rubric it has no labels for.
    encoder = minilm.encoder_for()
    x_train = design_matrix(train, encoder)
    x_held = design_matrix(held_out, encoder)
    embedding_size = x_train.shape[1] - len(FEATURE_NAMES)
    groups = [t.group for t in train]
    for key in RUBRIC_KEYS:
        others = [k for k in RUBRIC_KEYS if k != key]
        y = np.mean([[t.ratings[k] for t in train] for k in others], axis=0)
        head = train_head(x_train, np.asarray(y, dtype=np.float64), groups, embedding_size)
        general = np.clip(x_held @ np.asarray(head.coef) + head.intercept, 0, 10)
        rubric = builtin_rubric(key)
        anchored = [anchors.assess(rubric=rubric, task_text=t.text).rating for t in held_out]
        blended = [
            GENERAL_SHARE * g + (1 - GENERAL_SHARE) * a
            for g, a in zip(general, anchored, strict=True)
        ]
        result = agreement([t.ratings[key] for t in held_out], [round(v, 1) for v in blended])
        figures.setdefault("general", {})[key] = result.as_dict()
        lines.append(
            {"provider": "local (no labels)", "model": judge.model, "rubric": key}
            | result.as_dict()
        )
    if write:
        weights = json.loads(WEIGHTS_PATH.read_text())
        document = {
            "weights": weights_fingerprint(weights),
            "held_out_tasks": len(held_out),
            "heads": {key: figures[key] for key in RUBRIC_KEYS}
            | {"general": _mean_figures(figures["general"])},
            "general_by_rubric": figures["general"],
        }
        CALIBRATION_PATH.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return lines


def _mean_figures(by_rubric: dict[str, dict[str, Any]]) -> dict[str, Any]:
    keys = ("spearman", "mae", "bias", "pairwise_accuracy")
    mean = {k: round(float(np.mean([f[k] for f in by_rubric.values()])), 3) for k in keys}
    return mean | {"labels": sum(f["labels"] for f in by_rubric.values())}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="Do not update calibration.json.")
    args = parser.parse_args(argv)
    lines = evaluate(write=not args.no_write)
    for line in lines:
        print(json.dumps(line))
    misses = [
        line["rubric"]
        for line in lines
        if line["provider"] == "local"
        and (line["spearman"] < TARGET_SPEARMAN or line["pairwise_accuracy"] < TARGET_PAIRWISE)
    ]
    if misses:
        print(f"below target on: {', '.join(misses)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
