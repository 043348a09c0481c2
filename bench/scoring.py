"""`make bench-scoring`: how many AI-bound scoring jobs one worker host keeps in flight.

A fake OpenAI-compatible server answers after a latency uniform in 0.2–2.0 s. TASKS tasks (30% of
them exact duplicates of earlier ones) are inserted and their jobs published to a queue that no
worker consumes yet; the clock starts when the workers (threads pool) are told to consume it
(Celery's `add_consumer`), so the pipeline is measured from a full queue, not at the pace this
driver publishes (`enqueue_jobs_per_s`, measured apart; before 2026-12-03 the jobs were published
with the clock running, and on two cores the driver fed the workers slower than they scored). With
the result cache, duplicates cost no AI call, so `ai_calls` should equal `unique_prompts`, and a job
waits on the AI only when it makes the call: at least `mean latency × unique_prompts / tasks` on
average. Little's law bounds throughput at in_flight over that wait (`littles_law_bound`); `ratio`
says how close the pipeline gets over the whole run, `steady_ratio` while the queue still held jobs
(in_flight offered: the bound's own condition; after it, the last in_flight jobs drain one by
one), and `slots_busy` how much of the time the in-flight slots held a job (from its claim to its
end). (Before 2026-12-03 the bound was in_flight / mean latency, as if
every job waited on the AI: looser by the duplicate share, so that the ratios reported before then
read some 1.4× higher than they would against this one.)

CPU per job: before the tasks, as many no-op jobs (`core.noop`: the scoring job's signature and
delivery options, doing nothing) go through the same workers and broker; the workers' CPU time (user
+ system, from /proc) over each phase divided by its jobs gives `noop_cpu_ms_per_task` (Celery's own
bookkeeping) and `cpu_ms_per_task`, and `cpu_ratio_to_noop` compares them in the same run. A phase
ends when the queue and the broker's unacked set hold none of its jobs (they ack late).

Profile: with BENCH_PROFILE=1, py-spy samples the first worker (every thread, idle ones left out)
through the scoring phase (BENCH_PROFILE=gil: only the thread holding the GIL, i.e. where the
worker's Python spends CPU; BENCH_PROFILE=idle: every thread, waiting included); the collapsed
stacks go to the log directory and the top frames by own time and by total time are printed before
the JSON line (docs/performance.md keeps them). Sampling costs the worker CPU, so the figures of a
profiled run are not the benchmark's.

Environment knobs: BENCH_PROFILE (off), BENCH_TASKS (3000), BENCH_WORKERS (worker processes,
2), BENCH_CONCURRENCY (threads per worker, 100), BENCH_DUPLICATES (0.3), BENCH_LATENCY
("0.2:2.0").
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import (
    bench_env,
    cpu_seconds,
    django_setup,
    emit,
    fake_ai_env,
    production_env,
    wait_until,
)

TASKS = int(os.environ.get("BENCH_TASKS", "3000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "100"))
DUPLICATES = float(os.environ.get("BENCH_DUPLICATES", "0.3"))
LATENCY = os.environ.get("BENCH_LATENCY", "0.2:2.0")


def queue_drained(queue: str) -> bool:
    """Nothing waiting in the queue (any priority's list) and nothing delivered but unacked."""
    from django.conf import settings
    from redis import Redis

    redis = Redis.from_url(settings.CELERY_BROKER_URL)
    waiting = sum(int(redis.llen(key)) for key in redis.scan_iter(match=f"{queue}*"))
    # kombu's unacked hash is shared by every queue on this Redis (a killed worker of another run
    # leaves entries there): count this queue's, [message, exchange, routing key] each.
    unacked = sum(json.loads(value)[2] == queue for value in redis.hvals("unacked"))
    return waiting == 0 and unacked == 0


class Steady:
    """When the queue first held no job, and how many tasks were scored by then."""

    def __init__(self, redis: Any, queue: str, started: float) -> None:
        self.redis = redis
        self.queue = queue
        self.started = started
        self.elapsed = 0.0
        self.scored = 0

    def observe(self, scored: Callable[[], int]) -> bool:
        """True once the queue has been seen empty (its figures kept from that first time)."""
        if not self.elapsed and int(self.redis.llen(self.queue)) == 0:
            self.elapsed = time.monotonic() - self.started
            self.scored = scored()
        return bool(self.elapsed)

    @property
    def rate(self) -> float:
        return self.scored / self.elapsed if self.elapsed else 0.0


# BENCH_PROFILE=gil: only the thread holding the GIL; =idle: every thread, waiting included,
# stacks labelled by thread (where Celery's main thread, which fetches and acks, spends its time).
PROFILE_MODES = {"gil": ["--gil"], "idle": ["--idle", "--threads"]}


def profile_start(pid: int, out: Path) -> subprocess.Popen[bytes]:
    py_spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen(
        [str(py_spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "200",
         "--output", str(out), "--nonblocking",
         *PROFILE_MODES.get(os.environ.get("BENCH_PROFILE", ""), [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def profile_report(sampler: subprocess.Popen[bytes], out: Path, top: int = 15) -> None:
    """Stop the sampler and print the top frames by own and by total samples."""
    sampler.send_signal(signal.SIGINT)
    sampler.wait(timeout=60)
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")[1:]  # the first is the thread
        if not frames:
            continue
        samples += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            total[frame] += int(count)
    print(f"profile: {samples} samples of the first worker, collapsed stacks in {out}")
    for title, counter in (("own", own), ("total", total)):
        print(f"top {top} frames by {title} samples:")
        for frame, count in counter.most_common(top):
            print(f"  {100 * count / samples:5.1f}%  {frame}")


def main() -> None:
    from taskscore.testing.processes import free_port, start_fake_ai, start_worker

    log_dir = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    ai_port = free_port()
    env = bench_env(
        "scoring",
        DJANGO_SECRET_KEY=secrets.token_hex(32),
        **fake_ai_env(ai_port, timeout_s=10),
        DATABASE_POOL_MAX_SIZE=os.environ.get("BENCH_DB_POOL", "20"),
    )
    django_setup(env)
    from django.db.models import F, Sum
    from redis import Redis

    from config.celery import app as celery_app
    from taskscore.billing.services import billing_plan_grant, plans_seed
    from taskscore.core.jobs import noop
    from taskscore.orgs.models import Organization
    from taskscore.rbac.callers import OPERATOR
    from taskscore.scoring.models import TaskScore
    from taskscore.scoring.services import version_active_get_or_create
    from taskscore.tasks.jobs import task_score
    from taskscore.tasks.models import Task, TaskStatus

    fake_ai = start_fake_ai(port=ai_port, log_dir=log_dir, latency=LATENCY)
    # The workers run as production runs them (DEBUG off: no query log kept per statement), at
    # the benchmark's log level (WARNING: a job writes no line).
    worker_env = production_env(env, log_level=env["LOG_LEVEL"])
    workers = [
        start_worker(worker_env, log_dir=log_dir, name=f"worker{i}", concurrency=CONCURRENCY)
        for i in range(WORKERS)
    ]
    try:
        org = Organization.objects.create(name="bench", slug=f"bench-{time.time_ns()}")
        # Business: no monthly AI allowance to run out of (Free's 1,000 calls would skip the AI
        # criterion for the rest, and the run would measure less than it claims).
        plans_seed()
        billing_plan_grant(org_id=org.pk, plan_code="business", caller=OPERATOR)
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
        # Celery's own cost per job: as many no-op jobs through the same workers and broker.
        pids = [w.popen.pid for w in workers]
        noop_before = sum(cpu_seconds(pid) for pid in pids)
        noop_started = time.monotonic()
        for task in tasks:
            noop.delay(str(task.pk))
        noop_done = wait_until(
            lambda: queue_drained(env["CELERY_QUEUE"]), timeout=600, interval=0.05
        )
        noop_elapsed = time.monotonic() - noop_started
        noop_cpu = sum(cpu_seconds(pid) for pid in pids) - noop_before

        # The scoring jobs wait in a queue of their own that no worker consumes yet, all of them
        # published before the clock starts: on two cores, this driver's publishing (Celery's
        # apply_async, ~1 ms of CPU a message) competed with the workers and fed them slower
        # than they scored (3,000 messages over 19 of the run's 23 s).
        scoring_queue = f"{env['CELERY_QUEUE']}-scoring"
        enqueue_started = time.monotonic()
        for task in tasks:
            task_score.apply_async((str(task.pk),), queue=scoring_queue)
        enqueued = time.monotonic() - enqueue_started

        profile = log_dir / "worker0.collapsed"
        sampler = profile_start(pids[0], profile) if os.environ.get("BENCH_PROFILE") else None
        cpu_before = {pid: cpu_seconds(pid) for pid in pids}
        started = time.monotonic()
        consuming = celery_app.control.add_consumer(scoring_queue, reply=True, timeout=10)
        if len(consuming) != WORKERS:
            raise RuntimeError(f"{len(consuming)} of {WORKERS} workers took the queue: {consuming}")
        # The steady state: until the queue is empty, every slot a worker frees has a job to take
        # (in_flight are offered); after it, the last in_flight jobs drain and the slots empty
        # one by one, whatever the pipeline. Seen every 0.1 s; the tasks scored by then counted.
        steady = Steady(Redis.from_url(celery_app.conf.broker_url), scoring_queue, started)
        done = wait_until(
            lambda: (
                steady.observe(
                    lambda: Task.objects.filter(org=org, status=TaskStatus.SCORED).count()
                )
                and not Task.objects.filter(
                    org=org, status__in=[TaskStatus.QUEUED, TaskStatus.SCORING]
                ).exists()
            ),
            timeout=600,
            interval=0.1,
        )
        elapsed = time.monotonic() - started
        if sampler is not None:
            profile_report(sampler, profile)
        cpu = sum(cpu_seconds(pid) - before for pid, before in cpu_before.items())
        with urllib.request.urlopen(f"http://127.0.0.1:{ai_port}/_control/stats") as response:
            stats = json.load(response)
        scored = Task.objects.filter(org=org, status=TaskStatus.SCORED).count()
        # How full the in-flight slots were: each job's time from its claim to its end, over the
        # run's slot-seconds (what is missing was spent between jobs: fetching, acking, waiting).
        busy = Task.objects.filter(org=org, status=TaskStatus.SCORED).aggregate(
            busy=Sum(F("updated_at") - F("claimed_at"))
        )["busy"]
        spent = TaskScore.objects.filter(task__org=org, ai_calls__gt=0)
        latencies = [s.ai_latency_ms / 1000 for s in spent]
        low, high = (float(x) for x in LATENCY.split(":"))
        mean_latency = (low + high) / 2
        in_flight = WORKERS * CONCURRENCY
        ai_wait_per_job = mean_latency * unique / TASKS
        bound = in_flight / ai_wait_per_job
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
                "ai_wait_per_job_s": round(ai_wait_per_job, 3),
                "elapsed_s": round(elapsed, 2),
                "enqueue_jobs_per_s": round(TASKS / enqueued, 1),
                "tasks_per_s": round(rate, 1),
                "littles_law_bound": round(bound, 1),
                "ratio": round(rate / bound, 3),
                "steady_s": round(steady.elapsed, 2),
                "steady_tasks_per_s": round(steady.rate, 1),
                "steady_ratio": round(steady.rate / bound, 3),
                "slots_busy": round(busy.total_seconds() / (elapsed * in_flight), 3)
                if busy
                else None,
                "worker_cpu_percent": round(100 * cpu / elapsed, 1),
                "cpu_ms_per_task": round(1000 * cpu / TASKS, 2),
                "noop_cpu_ms_per_task": round(1000 * noop_cpu / TASKS, 2),
                "cpu_ratio_to_noop": round(cpu / noop_cpu, 2) if noop_cpu else None,
                "noop_jobs_per_s": round(TASKS / noop_elapsed, 1),
                "noop_completed": noop_done,
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
