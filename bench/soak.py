"""`make soak`: a mixed workload for SOAK_DURATION_S (600) with a worker and Redis restart in the
middle; lost work, 5xx outside the faults, and memory growth per process.

The stack, as `bench/api.py` starts it: gunicorn with `config/gunicorn.conf.py` and the
production settings (SOAK_WEB_WORKERS sync workers), two Celery workers as the Procfile starts
them (threads pool, 100 threads), beat (the sweeper, which re-enqueues what a lost broker message
left queued, with the production intervals), a fake AI answering in 0.2–1.0 s, Postgres, and a
private Redis (broker and cache, nothing on disk: its restart loses every queued message) — its
own `taskscore_bench` database, queue and cache prefixes. An org on Business with an owner API
key and an owner's browser session; SOAK_WEBHOOK_ORGS orgs with a Stripe customer for the
webhooks. Rate limits are raised so that none refuses.

The load: locust, headless, in its own process on loopback (`bench/soak_locustfile.py`):
SOAK_USERS users (browsers polling the task list with If-None-Match, opening tasks, the billing
summary and /api/v2/me; API clients submitting tasks with an Idempotency-Key and reading them
back; Stripe sending signed webhook events with duplicates), ramped at SOAK_SPAWN_RATE/s.

The faults, each with its time window recorded:

- at 40% of the run, one Celery worker is restarted: SIGTERM (Celery's warm shutdown: it stops
  taking jobs, finishes those it runs, gives back the ones it had reserved), then a new one. A
  deploy or an autoscaler restarts workers this way, and that is what a soak should see again
  and again; `make chaos` covers SIGKILL (a crashed host), where a claimed job waits for the
  sweeper's lease (15 min in production), which would not fit in a soak's drain.
- at 60%, Redis is SIGKILLed and started again empty, as `make chaos` does.

A 5xx (or connection error) between a fault's start and SOAK_FAULT_GRACE_S (5) after its end is
counted as inside the fault; `errors_5xx_outside_faults` counts the others.

Memory: VmRSS of the gunicorn master and each of its workers, each Celery worker and beat, every
10 s. `rss_growth_mb` is per process, from its sample at 20% of the run (for a process started
later, 20% of the run after its start) to the end of the load. Not from the start: the first
minutes fill what a process keeps for good — modules imported on first use, the database
connection pool, in-process caches, the allocator's arenas at the concurrency's working set,
the stacks of 100 worker threads touched as each first runs — which is warm-up, not a leak; a
leak is growth that goes on after that.

After the load, every acknowledged task (each 201 an API client got) must end scored or failed
within SOAK_DRAIN_TIMEOUT_S (300): `lost_tasks` counts the others (missing or never terminal),
`duplicate_scores` the tasks with more than one score. Exits 1 if either is not 0.
`unexpected_exits` names the processes of the stack that died on their own during the load (a
Celery worker can, at the Redis restart: docs/reliability.md "Soak").

Knobs: SOAK_DURATION_S (600), SOAK_USERS (40), SOAK_SPAWN_RATE (4), SOAK_WEB_WORKERS (2),
SOAK_WEBHOOK_ORGS (150), SOAK_FAULT_GRACE_S (5), SOAK_DRAIN_TIMEOUT_S (300).
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import (
    NO_RATE_LIMITS,
    ROOT,
    bench_env,
    child_pids,
    django_setup,
    emit,
    fake_ai_env,
    org_create,
    production_env,
    rss_mb,
    wait_until,
)

DURATION_S = float(os.environ.get("SOAK_DURATION_S", "600"))
USERS = int(os.environ.get("SOAK_USERS", "40"))
SPAWN_RATE = float(os.environ.get("SOAK_SPAWN_RATE", "4"))
WEB_WORKERS = int(os.environ.get("SOAK_WEB_WORKERS", "2"))
WEBHOOK_ORGS = int(os.environ.get("SOAK_WEBHOOK_ORGS", "150"))
FAULT_GRACE_S = float(os.environ.get("SOAK_FAULT_GRACE_S", "5"))
DRAIN_TIMEOUT_S = float(os.environ.get("SOAK_DRAIN_TIMEOUT_S", "300"))
AI_LATENCY = "0.2:1.0"
SAMPLE_EVERY_S = 10.0
WARM_UP_SHARE = 0.2


class RssSampler:
    """VmRSS of the named processes every SAMPLE_EVERY_S, by name, with when each was first seen."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.samples: dict[str, list[tuple[float, float]]] = {}
        self.first_seen: dict[str, float] = {}
        self.first_sample_at: float | None = None
        self._gunicorn_names: dict[int, str] = {}
        self._lock = threading.Lock()

    def sample(self, processes: dict[str, int], gunicorn_master: int) -> None:
        now = time.monotonic() - self.started
        if self.first_sample_at is None:
            self.first_sample_at = now
        named = dict(processes)
        named["gunicorn-master"] = gunicorn_master
        for pid in child_pids(gunicorn_master):
            if pid not in self._gunicorn_names:
                self._gunicorn_names[pid] = f"gunicorn-worker-{len(self._gunicorn_names) + 1}"
            named[self._gunicorn_names[pid]] = pid
        with self._lock:
            for name, pid in named.items():
                value = rss_mb(pid)
                if value is None:
                    continue
                self.first_seen.setdefault(name, now)
                self.samples.setdefault(name, []).append((now, value))

    def growth(self, warm_up_s: float) -> dict[str, float | None]:
        result: dict[str, float | None] = {}
        with self._lock:
            for name, series in self.samples.items():
                # a process of the stack from the outset: its sample at 20% of the run; one
                # started later (the restarted worker): 20% of the run after its start
                late = self.first_seen[name] > (self.first_sample_at or 0.0)
                since = self.first_seen[name] + warm_up_s if late else warm_up_s
                base = next((mb for at, mb in series if at >= since), None)
                result[name] = None if base is None else round(series[-1][1] - base, 1)
        return result


def aggregated(stats_csv: Path) -> dict[str, str]:
    with stats_csv.open() as rows:
        for row in csv.DictReader(rows):
            if row["Name"] == "Aggregated":
                return row
    raise RuntimeError(f"no Aggregated row in {stats_csv}")


def main() -> None:
    from taskscore.testing.processes import (
        Process,
        free_port,
        spawn,
        start_fake_ai,
        start_gunicorn,
        start_redis,
        start_worker,
    )

    log_dir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    redis_port, api_port, ai_port = free_port(), free_port(), free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    webhook_secret = f"whsec_soak_{secrets.token_hex(8)}"
    env = bench_env(
        "soak",
        REDIS_URL=broker,
        CELERY_BROKER_URL=broker,
        DJANGO_SECRET_KEY=secrets.token_hex(32),
        **fake_ai_env(ai_port, timeout_s=30),
        STRIPE_WEBHOOK_SECRET=webhook_secret,
        **NO_RATE_LIMITS,
        MAIL_OUTBOX_DIR="",
    )
    django_setup(env)
    server_env = production_env(env, log_level="WARNING")
    worker_env = server_env | {"DATABASE_POOL_MAX_SIZE": "20"}
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client

    from taskscore.accounts.models import User
    from taskscore.billing.models import OrgBilling, StripeEvent
    from taskscore.billing.services import plans_seed
    from taskscore.orgs.models import Organization
    from taskscore.scoring.models import TaskScore
    from taskscore.tasks.models import Task, TaskStatus

    # Redis first: creating the key invalidates its (empty) permission-cache entry there.
    redis = start_redis(port=redis_port, log_dir=log_dir)
    run = secrets.token_hex(4)
    created = org_create(f"Soak {run}", f"owner-{run}@soak.test")
    slug, token = created["org"]["slug"], created["api_key"]["token"]
    session_client = Client()
    session_client.force_login(User.objects.get(pk=created["owner"]["id"]))
    session_id = session_client.cookies["sessionid"].value

    free = next(plan for plan in plans_seed() if plan.code == "free")
    webhook_orgs = []
    for index in range(WEBHOOK_ORGS):
        prefix = f"s{run}o{index:05d}"
        org = Organization.objects.create(name=f"soak billing {index}", slug=prefix)
        OrgBilling.objects.create(org=org, plan=free, stripe_customer_id=f"cus_{prefix}")
        webhook_orgs.append(
            {"org_id": org.pk, "customer": f"cus_{prefix}", "prefix": prefix,
             "start": 1_800_000_000 + index * 3600}
        )  # fmt: skip

    ids_dir = log_dir / "ids"
    ids_dir.mkdir()
    errors_file = log_dir / "errors.txt"
    errors_file.touch()
    config_path = log_dir / "locust-config.json"
    config_path.write_text(
        json.dumps(
            {
                "slug": slug, "token": token, "session_id": session_id,
                "webhook_secret": webhook_secret, "webhook_orgs": webhook_orgs,
                "pro_price": settings.STRIPE_PRICE_PRO,
                "business_price": settings.STRIPE_PRICE_BUSINESS,
                "ids_dir": str(ids_dir), "errors_file": str(errors_file),
            }
        )
    )  # fmt: skip

    running: list[Process] = [redis]
    try:  # whatever started is stopped if the rest does not start
        fake_ai = start_fake_ai(port=ai_port, log_dir=log_dir, latency=AI_LATENCY)
        running.append(fake_ai)
        workers: list[Process] = []
        for i in range(2):
            workers.append(
                start_worker(worker_env, log_dir=log_dir, name=f"worker{i}", concurrency=100)
            )
            running.append(workers[-1])
        # (not waited for: with LOG_LEVEL=WARNING it logs nothing when it starts)
        beat = spawn(
            "beat",
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "warning",
             "-s", str(log_dir / "beat-schedule")],
            env=worker_env,
            log_dir=log_dir,
        )  # fmt: skip
        running.append(beat)
        server = start_gunicorn(server_env, port=api_port, log_dir=log_dir, workers=WEB_WORKERS)
    except BaseException:
        for process in reversed(running):
            process.stop()
        raise
    worker_names = ["celery-worker0", "celery-worker1"]
    base = f"http://127.0.0.1:{api_port}"
    faults: list[dict[str, Any]] = []
    stop = threading.Event()
    csv_prefix = log_dir / "locust"
    locust_log = (log_dir / "locust.log").open("wb")
    started, started_wall = time.monotonic(), time.time()
    sampler = RssSampler(started)

    def processes() -> dict[str, int]:
        named = {name: w.popen.pid for name, w in zip(worker_names, workers, strict=True)}
        return named | {"celery-beat": beat.popen.pid}

    def sample_loop() -> None:
        while not stop.wait(max(0.0, SAMPLE_EVERY_S - (time.monotonic() - started) % 10)):
            sampler.sample(processes(), server.popen.pid)

    def fault_loop() -> None:
        nonlocal redis
        if stop.wait(max(0.0, started + 0.4 * DURATION_S - time.monotonic())):
            return
        begin = time.time()
        workers[0].stop(timeout=30)  # SIGTERM: warm shutdown, then SIGKILL after 30 s
        stopped = time.time()
        workers[0] = start_worker(
            worker_env, log_dir=log_dir, name="worker0-restarted", concurrency=100
        )
        worker_names[0] = "celery-worker0-restarted"
        faults.append({"fault": "worker_restart", "signal": "SIGTERM", "start": begin,
                       "stopped": stopped, "end": time.time()})  # fmt: skip
        if stop.wait(max(0.0, started + 0.6 * DURATION_S - time.monotonic())):
            return
        begin = time.time()
        redis.kill()
        time.sleep(1)
        redis = start_redis(port=redis_port, log_dir=log_dir)
        faults.append({"fault": "redis_restart", "start": begin, "end": time.time()})

    locust = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "soak_locustfile.py"),
         "--headless", "-u", str(USERS), "-r", str(SPAWN_RATE),
         "--run-time", f"{int(DURATION_S)}s", "--stop-timeout", "30", "--host", base,
         "--csv", str(csv_prefix), "--only-summary", "--loglevel", "WARNING"],
        cwd=ROOT, env=env | {"SOAK_CONFIG": str(config_path)},
        stdout=locust_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    threads = [threading.Thread(target=f, daemon=True) for f in (sample_loop, fault_loop)]
    for thread in threads:
        thread.start()
    try:
        locust_rc = locust.wait(timeout=DURATION_S + 120)
        load_s = time.monotonic() - started
        sampler.sample(processes(), server.popen.pid)
        stop.set()
        # processes that died on their own during the load (the restarted worker is not one)
        unexpected_exits = {
            name: process.popen.returncode
            for name, process in [*zip(worker_names, workers, strict=True),
                                  ("celery-beat", beat), ("gunicorn-master", server)]
            if not process.is_running()
        }  # fmt: skip
        for thread in threads:
            thread.join(timeout=120)
        print(f"locust exited {locust_rc}; logs in {log_dir}", flush=True)

        acknowledged: set[str] = set()
        for path in ids_dir.glob("ids-*.txt"):
            acknowledged.update(line for line in path.read_text().split() if line)
        terminal = [TaskStatus.SCORED, TaskStatus.FAILED]

        def done() -> bool:
            return Task.objects.filter(pk__in=acknowledged, status__in=terminal).count() >= len(
                acknowledged
            )

        drain_started = time.monotonic()
        wait_until(done, timeout=DRAIN_TIMEOUT_S, interval=1.0)
        drain_s = time.monotonic() - drain_started
        statuses = dict(
            Task.objects.filter(pk__in=acknowledged)
            .values("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        scored = statuses.get(TaskStatus.SCORED, 0)
        failed = statuses.get(TaskStatus.FAILED, 0)
        duplicate_scores = (
            TaskScore.objects.filter(task__org__slug=slug)
            .values("task_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        webhook_unsettled = (
            StripeEvent.objects.filter(event_id__startswith=f"evt_s{run}o")
            .exclude(status__in=["applied", "ignored"])
            .count()
        )

        def in_fault(at: float) -> bool:
            return any(f["start"] <= at <= f["end"] + FAULT_GRACE_S for f in faults)

        errors_5xx = errors_outside = connection_errors = connection_outside = 0
        for line in errors_file.read_text().splitlines():
            at, kind = line.split()[:2]
            outside = not in_fault(float(at))
            if kind == "connection":
                connection_errors += 1
                connection_outside += outside
            else:
                errors_5xx += 1
                errors_outside += outside

        stats = aggregated(Path(f"{csv_prefix}_stats.csv"))
        growth = sampler.growth(WARM_UP_SHARE * DURATION_S)
        (log_dir / "rss.json").write_text(json.dumps(sampler.samples))
        measured = [g for g in growth.values() if g is not None]
        figures = {
            "duration_s": round(load_s, 1),
            "users": USERS,
            "requests": int(stats["Request Count"]),
            "failures": int(stats["Failure Count"]),
            "errors_5xx": errors_5xx,
            "errors_5xx_outside_faults": errors_outside,
            "connection_errors": connection_errors,
            "connection_errors_outside_faults": connection_outside,
            "p50_ms": float(stats["50%"]),
            "p99_ms": float(stats["99%"]),
            "rps": round(float(stats["Requests/s"]), 1),
            "acknowledged_tasks": len(acknowledged),
            "scored": scored,
            "failed": failed,
            "lost_tasks": len(acknowledged) - scored - failed,
            "duplicate_scores": duplicate_scores,
            "webhook_events_unsettled": webhook_unsettled,
            "unexpected_exits": unexpected_exits,
            "drain_s": round(drain_s, 1),
            "faults": [
                {
                    "fault": f["fault"],
                    "at_s": round(f["start"] - started_wall, 1),
                    "window_s": round(f["end"] - f["start"], 1),
                }
                for f in faults
            ],
            "rss_growth_mb": growth,
            "max_rss_growth_mb": max(measured) if measured else None,
            "locust_exit_code": locust_rc,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        emit(figures)
        ok = figures["lost_tasks"] == 0 and duplicate_scores == 0
    finally:
        stop.set()
        if locust.poll() is None:
            locust.terminate()
            locust.wait(timeout=30)
        locust_log.close()
        server.stop()
        beat.stop()
        for worker in workers:
            worker.stop()
        fake_ai.stop()
        redis.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
