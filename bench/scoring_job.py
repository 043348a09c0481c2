"""One scoring job's own cost, in this process: CPU and SQL statements per `task_score_run`.

No Celery and no waiting: a fake OpenAI-compatible server on loopback answering at once, and N
tasks (distinct texts, so each makes its AI call) scored one after another in this thread. The
figures are deterministic enough to compare two commits: `statements_per_job` exactly,
`cpu_ms_per_job` within the machine's noise. The top functions by own and cumulative time go
before the JSON line (cProfile; its overhead is left out of the CPU figure, measured apart).

`make bench-scoring-job`; BENCH_TASKS (300).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path

from common import bench_env, django_setup, emit, fake_ai_env

TASKS = int(os.environ.get("BENCH_TASKS", "300"))


def main() -> None:
    from taskscore.testing.processes import free_port, start_fake_ai

    ai_port = free_port()
    env = bench_env(
        "scoring-job",
        **fake_ai_env(ai_port, timeout_s=10),
    )
    django_setup(env)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from taskscore.billing.services import billing_plan_grant, plans_seed
    from taskscore.orgs.models import Organization
    from taskscore.rbac.callers import OPERATOR
    from taskscore.scoring.services import version_active_get_or_create
    from taskscore.tasks.models import Task, TaskStatus
    from taskscore.tasks.services import task_score_run

    fake_ai = start_fake_ai(port=ai_port, log_dir=Path(tempfile.mkdtemp(prefix="bench-job-")))
    try:
        org = Organization.objects.create(name="bench", slug=f"bench-job-{time.time_ns()}")
        plans_seed()
        billing_plan_grant(org_id=org.pk, plan_code="business", caller=OPERATOR)
        version_active_get_or_create(org_id=org.pk)

        def batch(label: str, count: int) -> list[str]:
            tasks = Task.objects.bulk_create(
                Task(org=org, title=f"{label} {i}: {org.slug} export reports", description="",
                     attributes={"reach": 100})
                for i in range(count)
            )  # fmt: skip
            return [str(t.pk) for t in tasks]

        # Connections, caches, imports. Every task made is scored: one left `queued` in the
        # shared bench database would be requeued by the next benchmark that runs the sweeper
        # (`make chaos`), whose AI calls it would then inflate.
        for task_id in batch("warm", 20):
            task_score_run(task_id=task_id)
        ids = batch("timed", TASKS)
        with CaptureQueriesContext(connection) as queries:
            task_score_run(task_id=ids[0])
        statements = [q["sql"] for q in queries.captured_queries]
        started = time.process_time()
        for task_id in ids[1 : TASKS // 2]:
            task_score_run(task_id=task_id)
        cpu_ms = 1000 * (time.process_time() - started) / (TASKS // 2 - 1)
        profiler = cProfile.Profile()
        profiler.enable()
        for task_id in ids[TASKS // 2 :]:
            task_score_run(task_id=task_id)
        profiler.disable()
        scored = Task.objects.filter(org=org, status=TaskStatus.SCORED).count()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(15)
        stats.sort_stats("cumtime").print_stats(r"taskscore", 30)
        print(f"{len(statements)} statements in one job:")
        for sql in statements:
            print("  ", sql[:160])
        emit(
            {
                "jobs": TASKS - 1,
                "scored": scored - 20,
                "cpu_ms_per_job": round(cpu_ms, 2),
                "statements_per_job": len(statements),
            }
        )
    finally:
        fake_ai.stop()


if __name__ == "__main__":
    main()
