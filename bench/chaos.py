"""`make chaos`: thousands of tasks through the API while the pipeline is being broken.

Set-up (all real processes on loopback): a private Redis (broker and cache, no persistence), the
API under gunicorn, two Celery workers, beat running the sweeper, and the fake AI failing a share
of calls (500/429). While CHAOS_TASKS tasks are submitted over HTTP, a worker is SIGKILLed every
5–15 s (and restarted), and Redis is restarted twice (every queued job in it is lost). Then we
wait until every task is terminal and count: `lost` (submitted but never terminal) and
`duplicate_scores` (tasks with more than one score) must be 0.

Knobs: CHAOS_TASKS (2000), CHAOS_SUBMITTERS (8 threads), CHAOS_SUBMIT_RATE (30/s),
CHAOS_AI_FAIL_RATE (0.1), CHAOS_RECOVERY_TIMEOUT (120 s after the last fault).
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import bench_env, django_setup, emit, fake_ai_env

TASKS = int(os.environ.get("CHAOS_TASKS", "2000"))
SUBMITTERS = int(os.environ.get("CHAOS_SUBMITTERS", "8"))
FAIL_RATE = float(os.environ.get("CHAOS_AI_FAIL_RATE", "0.1"))
RECOVERY_TIMEOUT = float(os.environ.get("CHAOS_RECOVERY_TIMEOUT", "120"))
# Submissions are paced so that the faults land throughout: 2,000 at 30/s take ~67 s.
SUBMIT_RATE = float(os.environ.get("CHAOS_SUBMIT_RATE", "30"))


def main() -> None:
    from taskscore.testing.processes import (
        free_port,
        spawn,
        start_fake_ai,
        start_gunicorn,
        start_redis,
        start_worker,
    )

    log_dir = Path(tempfile.mkdtemp(prefix="bench-chaos-"))
    redis_port, api_port, ai_port = free_port(), free_port(), free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    env = bench_env(
        "chaos",
        REDIS_URL=broker,
        CELERY_BROKER_URL=broker,
        **fake_ai_env(ai_port, timeout_s=5),
        TASK_REQUEUE_AFTER_SECONDS="10",
        TASK_CLAIM_LEASE_SECONDS="15",
        TASK_SWEEP_INTERVAL_SECONDS="3",
        TASK_MAX_ATTEMPTS="10",
        TASK_RETRY_BASE_SECONDS="0.5",
        TASK_RETRY_MAX_SECONDS="5",
        WEB_WORKERS="4",
        # A reliability run, not a quota or rate-limit test: no limits get in the way.
        RATE_LIMIT_PER_CALLER_PER_MINUTE="1000000",
        RATE_LIMIT_PER_ORG_PER_MINUTE="1000000",
    )
    django_setup(env)
    from django.db.models import Count

    from taskscore.billing.models import OrgBilling, Plan
    from taskscore.orgs.models import Organization
    from taskscore.orgs.services import api_key_create
    from taskscore.rbac.callers import OPERATOR
    from taskscore.scoring.models import TaskScore
    from taskscore.tasks.models import Task, TaskStatus

    # Redis first: creating the key invalidates its (empty) permission-cache entry there.
    redis = start_redis(port=redis_port, log_dir=log_dir)
    org = Organization.objects.create(name="chaos", slug=f"chaos-{time.time_ns()}")
    token = api_key_create(org=org, name="chaos", role_key="owner", caller=OPERATOR).token
    # On the unlimited plan, so the quota never refuses a submission.
    OrgBilling.objects.update_or_create(
        org=org, defaults={"plan": Plan.objects.get(code="business"), "status": "active"}
    )

    fake_ai = start_fake_ai(
        port=ai_port, log_dir=log_dir, latency="0.05:0.5", fail_rate=FAIL_RATE, seed=7
    )
    api = start_gunicorn(env, port=api_port, log_dir=log_dir, workers=4)
    workers = [
        start_worker(env, log_dir=log_dir, name=f"worker{i}", concurrency=50) for i in range(2)
    ]
    beat = spawn(
        "beat",
        [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "warning",
         "-s", str(log_dir / "beat-schedule")],
        env=env,
        log_dir=log_dir,
    )  # fmt: skip
    submitted: list[str] = []
    submit_errors = 0
    lock = threading.Lock()
    faults = {"worker_kills": 0, "redis_restarts": 0}
    last_fault = time.monotonic()
    stop = threading.Event()

    def submit(i: int) -> None:
        nonlocal submit_errors
        time.sleep(max(0.0, started + i / SUBMIT_RATE - time.monotonic()))
        body = json.dumps({"title": f"Chaos task {i % 1500}", "attributes": {"reach": i % 1000}})
        request = urllib.request.Request(
            f"http://127.0.0.1:{api_port}/api/v1/tasks",
            data=body.encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        for _ in range(5):  # a client retries on a connection error or a 5xx
            try:
                with urllib.request.urlopen(request, timeout=15) as response:
                    task_id = json.load(response)["id"]
                with lock:
                    submitted.append(task_id)
                return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:  # refused: retrying the same request will not help
                    break
                time.sleep(0.5)
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                time.sleep(0.5)
        with lock:
            submit_errors += 1

    def chaos_monkey() -> None:
        nonlocal last_fault, redis
        rng = random.Random(3)
        restarts_at = {TASKS * 0.3, TASKS * 0.6}
        next_kill = time.monotonic() + rng.uniform(5, 15)
        while not stop.is_set():
            time.sleep(0.2)
            with lock:
                progress = len(submitted)
            for mark in sorted(restarts_at):
                if progress >= mark:
                    restarts_at.discard(mark)
                    redis.kill()
                    time.sleep(1)
                    redis = start_redis(port=redis_port, log_dir=log_dir)
                    faults["redis_restarts"] += 1
                    last_fault = time.monotonic()
            if time.monotonic() >= next_kill:
                victim = rng.randrange(len(workers))
                workers[victim].kill()
                workers[victim] = start_worker(
                    env, log_dir=log_dir, name=f"worker{victim}-{faults['worker_kills']}",
                    concurrency=50,
                )  # fmt: skip
                faults["worker_kills"] += 1
                last_fault = time.monotonic()
                next_kill = time.monotonic() + rng.uniform(5, 15)

    monkey = threading.Thread(target=chaos_monkey, daemon=True)
    started = time.monotonic()
    monkey.start()
    try:
        with ThreadPoolExecutor(SUBMITTERS) as pool:
            list(pool.map(submit, range(TASKS)))
        # keep breaking things until both Redis restarts happened and a few kills more
        while faults["redis_restarts"] < 2 and time.monotonic() - started < 300:
            time.sleep(0.5)
        stop.set()
        monkey.join()
        fault_end = last_fault
        pending = [TaskStatus.QUEUED, TaskStatus.SCORING]
        deadline = fault_end + RECOVERY_TIMEOUT
        while time.monotonic() < deadline:
            if not Task.objects.filter(org=org, status__in=pending).exists():
                break
            time.sleep(0.5)
        recovered_at = time.monotonic()
        ids = set(submitted)
        statuses = dict(
            Task.objects.filter(pk__in=ids)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )

        duplicate_scores = (
            TaskScore.objects.filter(task__org=org)
            .values("task_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        scored = statuses.get(TaskStatus.SCORED, 0)
        failed = statuses.get(TaskStatus.FAILED, 0)
        with urllib.request.urlopen(f"http://127.0.0.1:{ai_port}/_control/stats") as response:
            ai_stats = json.load(response)
        emit(
            {
                "submitted": len(ids),
                "submit_errors": submit_errors,
                "scored": scored,
                "failed": failed,
                "lost": len(ids) - scored - failed,
                "duplicate_scores": duplicate_scores,
                "worker_kills": faults["worker_kills"],
                "redis_restarts": faults["redis_restarts"],
                "ai_calls": ai_stats["calls"],
                "ai_failures_injected": sum(
                    n for b, n in ai_stats.get("by_behaviour", {}).items() if b != "ok"
                ),
                "recovery_s": round(recovered_at - fault_end, 1),
                "elapsed_s": round(recovered_at - started, 1),
            }
        )
    finally:
        stop.set()
        beat.stop()
        for worker in workers:
            worker.stop()
        api.stop()
        fake_ai.stop()
        redis.stop()


if __name__ == "__main__":
    main()
