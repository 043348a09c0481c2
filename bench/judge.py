"""`make bench-judge`: how long the embedded judge (provider `local`) takes to rate a task, next
to a bare MiniLM encode of the same text in the same run.

Each of BENCH_TASKS distinct labelled tasks is rated on the three built-in rubrics: the first
rubric pays for encoding the task (`first_ms`), the others reuse its embedding (`next_ms`).
`bare_encode_ms` is `minilm.Encoder.encode` of the same texts, read up to the same
`train.MAX_TOKENS` as the judge reads, with a fresh encoder cache, so `ratio_first_to_encode` is
what the judge adds to the unavoidable encode. The issue's budget is
≤ 50 ms per assessment on this machine class; `within_budget_share` is the share of first
assessments under it.

Knobs: BENCH_TASKS (200).
"""

from __future__ import annotations

import os
import statistics
import time

from common import emit

from taskscore.integrations.ai import minilm
from taskscore.integrations.ai.base import AIConfig
from taskscore.integrations.ai.judge import calibrate, dataset, train
from taskscore.integrations.ai.judge.provider import JudgeProvider

TASKS = int(os.environ.get("BENCH_TASKS", "200"))
BUDGET_MS = 50.0


def _quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


def main() -> None:
    tasks = dataset.load_tasks()[:TASKS]
    rubrics = [calibrate.builtin_rubric(key) for key in dataset.RUBRIC_KEYS]
    judge = JudgeProvider(AIConfig(provider="local", model=""))
    judge.assess(rubric=rubrics[0], task_text="warm up: load the model and weights")
    encoder = minilm.encoder_for()

    bare: list[float] = []
    first: list[float] = []
    following: list[float] = []
    for index, task in enumerate(tasks):
        # A suffix no other run has seen, so neither the judge nor the encode hits a cache.
        text = f"{task.text}\n\n(run {index})"
        started = time.perf_counter()
        encoder.encode(text + " ", max_tokens=train.MAX_TOKENS)
        bare.append((time.perf_counter() - started) * 1000)
        for position, rubric in enumerate(rubrics):
            started = time.perf_counter()
            judge.assess(rubric=rubric, task_text=text)
            elapsed = (time.perf_counter() - started) * 1000
            (first if position == 0 else following).append(elapsed)

    print(f"rated {len(tasks)} tasks on {len(rubrics)} rubrics")
    emit(
        {
            "bench": "judge",
            "tasks": len(tasks),
            "first_ms_p50": _quantile(first, 0.5),
            "first_ms_p95": _quantile(first, 0.95),
            "next_ms_p50": _quantile(following, 0.5),
            "next_ms_p95": _quantile(following, 0.95),
            "bare_encode_ms_p50": _quantile(bare, 0.5),
            "ratio_first_to_encode": round(statistics.median(first) / statistics.median(bare), 2),
            "within_budget_share": round(sum(ms <= BUDGET_MS for ms in first) / len(first), 3),
        }
    )


if __name__ == "__main__":
    main()
