"""`make bench-scoring`: how many AI-bound scoring jobs one worker host keeps in flight.

A fake OpenAI-compatible server answers after a latency uniform in 0.2–2.0 s. TASKS tasks (30%
of them exact duplicates of earlier ones) are inserted and their jobs enqueued at once; workers
(threads pool) score them. Little's law bounds throughput at in_flight / mean latency; `ratio`
says how close the pipeline gets. With the result cache, duplicates cost no AI call, so
`ai_calls` should equal `unique_prompts`.

Environment knobs: BENCH_TASKS (3000), BENCH_WORKERS (worker processes, 2), BENCH_CONCURRENCY
(threads per worker, 100), BENCH_DUPLICATES (0.3), BENCH_LATENCY ("0.2:2.0").
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
import urllib.request
from pathlib import Path

from common import bench_env, cpu_seconds, django_setup, emit, wait_until

TASKS = int(os.environ.get("BENCH_TASKS", "3000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "100"))
DUPLICATES = float(os.environ.get("BENCH_DUPLICATES", "0.3"))
LATENCY = os.environ.get("BENCH_LATENCY", "0.2:2.0")


def main() -> None:
    from taskscore.testing.processes import free_port, start_fake_ai, start_worker

    log_dir = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    ai_port = free_port()
    env = bench_env(
        "scoring",
        AI_PROVIDER="openai",
        AI_BASE_URL=f"http://127.0.0.1:{ai_port}/v1",
        AI_MODEL="fake-model",
        AI_TIMEOUT_SECONDS="10",
        DATABASE_POOL_MAX_SIZE=os.environ.get("BENCH_DB_POOL", "20"),
    )
    django_setup(env)
    from taskscore.orgs.models import Organization
    from taskscore.scoring.models import TaskScore
    from taskscore.scoring.services import version_active_get_or_create
    from taskscore.tasks.jobs import task_score
    from taskscore.tasks.models import Task, TaskStatus

    fake_ai = start_fake_ai(port=ai_port, log_dir=log_dir, latency=LATENCY)
    workers = [
        start_worker(env, log_dir=log_dir, name=f"worker{i}", concurrency=CONCURRENCY)
        for i in range(WORKERS)
    ]
    try:
        org = Organization.objects.create(name="bench", slug=f"bench-{time.time_ns()}")
        version_active_get_or_create(org_id=org.pk)
        rng = random.Random(1)
        texts: list[str] = []
        for i in range(TASKS):
            if texts and rng.random() < DUPLICATES:
                texts.append(rng.choice(texts))
            else:
                texts.append(f"Task {i}: {org.slug} improve export of reports #{i}")
        unique = len(set(texts))
        tasks = Task.objects.bulk_create(
            Task(org=org, title=t, description="", attributes={"reach": 100}) for t in texts
        )
        cpu_before = {w.popen.pid: cpu_seconds(w.popen.pid) for w in workers}
        started = time.monotonic()
        for task in tasks:
            task_score.delay(str(task.pk))
        done = wait_until(
            lambda: (
                not Task.objects.filter(
                    org=org, status__in=[TaskStatus.QUEUED, TaskStatus.SCORING]
                ).exists()
            ),
            timeout=600,
            interval=0.1,
        )
        elapsed = time.monotonic() - started
        cpu = sum(cpu_seconds(pid) - before for pid, before in cpu_before.items())
        with urllib.request.urlopen(f"http://127.0.0.1:{ai_port}/_control/stats") as response:
            stats = json.load(response)
        scored = Task.objects.filter(org=org, status=TaskStatus.SCORED).count()
        spent = TaskScore.objects.filter(task__org=org, ai_calls__gt=0)
        latencies = [s.ai_latency_ms / 1000 for s in spent]
        low, high = (float(x) for x in LATENCY.split(":"))
        mean_latency = (low + high) / 2
        in_flight = WORKERS * CONCURRENCY
        bound = in_flight / mean_latency
        rate = scored / elapsed
        emit(
            {
                "tasks": TASKS,
                "scored": scored,
                "completed": done,
                "workers": WORKERS,
                "threads_per_worker": CONCURRENCY,
                "in_flight": in_flight,
                "ai_latency_mean_s": round(mean_latency, 3),
                "ai_latency_measured_mean_s": round(sum(latencies) / len(latencies), 3)
                if latencies
                else None,
                "elapsed_s": round(elapsed, 2),
                "tasks_per_s": round(rate, 1),
                "littles_law_bound": round(bound, 1),
                "ratio": round(rate / bound, 3),
                "worker_cpu_percent": round(100 * cpu / elapsed, 1),
                "ai_calls": stats["calls"],
                "unique_prompts": unique,
                "duplicate_share": DUPLICATES,
            }
        )
    finally:
        for worker in workers:
            worker.stop()
        fake_ai.stop()


if __name__ == "__main__":
    main()
