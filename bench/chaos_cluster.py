"""`make chaos-cluster`: 5,000 tasks through two API processes and three worker nodes on RabbitMQ
while a node is SIGKILLed, RabbitMQ restarts and Redis restarts.

Set-up (all real processes on loopback): its own database (`taskscore_chaos_cluster`, created
fresh and dropped at the end), RabbitMQ as the broker (CHAOS_CLUSTER_BROKER_URL, default
amqp://guest:guest@127.0.0.1:5672//; `make chaos-cluster` has `scripts/services.sh` start a
project-local node when none answers) with this run's own quorum queue, a private Redis for the
caches (no persistence), the fake AI with a 0.05–0.3 s latency, two gunicorn API processes on
two ports with the production settings (as `bench/api.py` starts them), three Celery worker nodes
(threads pool, distinct `-n` names) and beat running the sweeper every 3 s. An org on Business
with an owner API key.

Submitter threads POST CHAOS_CLUSTER_TASKS tasks to `/api/v2/orgs/<org>/tasks`, paced, spread
over both APIs, each with its own Idempotency-Key: a connection error, a 5xx or a 409 (the same
key still running) is retried with backoff on the other API, so a retried submission makes one
task; `submitted` counts the distinct task ids the APIs acknowledged. Every attempt's latency is
recorded, every 5xx with its time. Meanwhile, one after the other (at 20%, 45% and 70% of the
submissions): a worker node is SIGKILLed and restarted, RabbitMQ is restarted (`rabbitmqctl
stop_app` then `start_app`, through `scripts/services.sh rabbitmqctl`), Redis is killed and
restarted; each fault's window runs from its first action until the service answers again.

Then it waits until every task of the org is `scored` or `failed` and counts: `lost`
(acknowledged, not terminal at the end, or missing), `duplicate_scores` (tasks with more than one
score for one version), `api_errors_5xx`, `api_5xx_outside_faults` (a 5xx not in flight during
a fault's window widened by FAULT_GRACE_S), `api_p99_ms_during_faults` (attempts in flight during
those windows), `api_p99_ms` (all attempts). Exits 1 when `lost` or `duplicate_scores` > 0.

Knobs: CHAOS_CLUSTER_TASKS (5000), CHAOS_CLUSTER_SUBMITTERS (16 threads),
CHAOS_CLUSTER_SUBMIT_RATE (15/s), CHAOS_CLUSTER_WORKER_THREADS (20 per node),
CHAOS_CLUSTER_WEB_WORKERS (2 per API), CHAOS_CLUSTER_AI_LATENCY ("0.05:0.3"),
CHAOS_CLUSTER_RECOVERY_TIMEOUT (180 s after the last fault or submission),
CHAOS_CLUSTER_LOG_LEVEL (WARNING; INFO logs each request and job), CHAOS_CLUSTER_KEEP (1: keep
the database).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from common import (
    NO_RATE_LIMITS,
    ROOT,
    bench_env,
    django_setup,
    emit,
    fake_ai_env,
    org_create,
    production_env,
    wait_until,
)

TASKS = int(os.environ.get("CHAOS_CLUSTER_TASKS", "5000"))
SUBMITTERS = int(os.environ.get("CHAOS_CLUSTER_SUBMITTERS", "16"))
SUBMIT_RATE = float(os.environ.get("CHAOS_CLUSTER_SUBMIT_RATE", "15"))
WORKER_THREADS = int(os.environ.get("CHAOS_CLUSTER_WORKER_THREADS", "20"))
WEB_WORKERS = int(os.environ.get("CHAOS_CLUSTER_WEB_WORKERS", "2"))
AI_LATENCY = os.environ.get("CHAOS_CLUSTER_AI_LATENCY", "0.05:0.3")
RECOVERY_TIMEOUT = float(os.environ.get("CHAOS_CLUSTER_RECOVERY_TIMEOUT", "180"))
KEEP = os.environ.get("CHAOS_CLUSTER_KEEP", "") not in ("", "0")
BROKER_URL = os.environ.get("CHAOS_CLUSTER_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
LOG_LEVEL = os.environ.get("CHAOS_CLUSTER_LOG_LEVEL", "WARNING")  # INFO: access lines, jobs
DATABASE = "taskscore_chaos_cluster"
NODES = 3
# The faults, one after the other, when this share of the tasks has been acknowledged.
FAULTS = (("worker_kill", 0.2), ("rabbitmq_restart", 0.45), ("redis_restart", 0.7))
FAULT_GRACE_S = 5.0  # a fault's window is widened by this much on either side for the 5xx count
SUBMIT_GIVE_UP_S = 180.0  # one submission retries for this long at most
PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}


@dataclass(frozen=True)
class Attempt:
    start: float  # time.monotonic()
    end: float
    status: int  # 0: a connection error or timeout

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


@dataclass(frozen=True)
class Fault:
    kind: str
    start: float
    end: float


def _percentile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 1)


def _database_url(env: dict[str, str]) -> str:
    return urlunsplit(urlsplit(env["DATABASE_URL"])._replace(path=f"/{DATABASE}"))


def _drop_database(url: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _broker_answers() -> bool:
    parts = urlsplit(BROKER_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), 2):
            return True
    except OSError:
        return False


def _rabbitmqctl(*args: str) -> None:
    """rabbitmqctl against the node serving the broker URL (the project-local one if it runs)."""
    subprocess.run(
        [str(ROOT / "scripts" / "services.sh"), "rabbitmqctl", "-q", *args],
        env=dict(os.environ, CELERY_BROKER_URL=BROKER_URL), check=True, timeout=120,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def _delete_queue(queue: str) -> None:
    from kombu import Connection

    with Connection(BROKER_URL, connect_timeout=5) as connection:
        channel = connection.channel()
        channel.queue_delete(queue)
        channel.exchange_delete(queue)


def main() -> None:
    from taskscore.testing.processes import (
        Process,
        free_port,
        port_is_open,
        start_beat,
        start_fake_ai,
        start_gunicorn,
        start_redis,
        start_worker,
    )

    if not _broker_answers():
        sys.exit(
            f"chaos-cluster: no RabbitMQ answers at {urlsplit(BROKER_URL).netloc.split('@')[-1]}"
            f"; run `CELERY_BROKER_URL={BROKER_URL} scripts/services.sh` (or `make chaos-cluster`)"
        )
    log_dir = Path(tempfile.mkdtemp(prefix="bench-chaos-cluster-"))
    redis_port, ai_port = free_port(), free_port()
    api_ports = [free_port(), free_port()]
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = bench_env(
        "chaos-cluster",
        DJANGO_SECRET_KEY=secrets.token_hex(32),
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=BROKER_URL,
        **fake_ai_env(ai_port, timeout_s=5),
        TASK_REQUEUE_AFTER_SECONDS="30",
        TASK_CLAIM_LEASE_SECONDS="15",
        TASK_SWEEP_INTERVAL_SECONDS="3",
        TASK_MAX_ATTEMPTS="10",
        # Native delayed delivery (RabbitMQ) rounds a countdown down to whole seconds and
        # refuses 0: the backoff starts at 1 s at the least (production's starts at 1–2 s).
        TASK_RETRY_BASE_SECONDS="2",
        TASK_RETRY_MAX_SECONDS="5",
        **NO_RATE_LIMITS,
        MAIL_OUTBOX_DIR="",
    )
    env["DATABASE_URL"] = _database_url(env)
    queue = env["CELERY_QUEUE"]
    _drop_database(env["DATABASE_URL"])
    django_setup(env)
    # The servers and workers run as production does (as bench/api.py starts them).
    server_env = production_env(env, log_level=LOG_LEVEL)
    from django.db import connection
    from django.db.models import Count

    from taskscore.scoring.models import TaskScore
    from taskscore.tasks.models import Task, TaskStatus

    processes: dict[str, Process] = {}
    # Redis first: creating the key invalidates its (empty) permission-cache entry there.
    processes["redis"] = start_redis(port=redis_port, log_dir=log_dir)
    seed = secrets.token_hex(3)
    created = org_create(f"Cluster {seed}", f"owner-{seed}@bench.test")
    slug, token = created["org"]["slug"], created["api_key"]["token"]

    attempts: list[Attempt] = []
    acknowledged: dict[int, str] = {}
    refused: dict[int, int] = {}  # submission -> the 4xx that ended it (or 0: gave up)
    faults: list[Fault] = []
    lock = threading.Lock()
    stop = threading.Event()
    fault_error: list[BaseException] = []
    rabbit_stopped = threading.Event()

    def start_node(i: int, suffix: str = "") -> Process:
        """Worker node i (its -n name is node<i>-<ns>@host: distinct, a restart's too)."""
        return start_worker(
            server_env, log_dir=log_dir, name=f"node{i}{suffix}", concurrency=WORKER_THREADS
        )

    def submit(i: int) -> None:
        time.sleep(max(0.0, started + i / SUBMIT_RATE - time.monotonic()))
        body = json.dumps(
            {"title": f"Cluster task {i} ({seed})", "description": "Chaos cluster run.",
             "attributes": {"reach": 100 + i % 900, "impact": 2, "confidence": 80, "effort": 3}}
        ).encode()  # fmt: skip
        headers = PROXY | {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"cluster-{seed}-{i}",
        }
        give_up = time.monotonic() + SUBMIT_GIVE_UP_S
        for attempt in range(1000):
            port = api_ports[(i + attempt) % len(api_ports)]  # a retry goes to the other API
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v2/orgs/{slug}/tasks",
                data=body, headers=headers, method="POST",
            )  # fmt: skip
            began = time.monotonic()
            status = 0
            task_id = None
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status = response.status
                    task_id = json.load(response)["id"]
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
                status = 0  # refused, reset, timed out, cut short: it may or may not have run
            with lock:
                attempts.append(Attempt(began, time.monotonic(), status))
                if task_id is not None:
                    acknowledged[i] = task_id
            if task_id is not None:
                return
            if 400 <= status < 500 and status != 409:  # refused: the same request will not pass
                with lock:
                    refused[i] = status
                return
            if time.monotonic() > give_up:
                break
            time.sleep(min(5.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.0))
        with lock:
            refused[i] = 0

    def progress() -> int:
        with lock:
            return len(acknowledged) + len(refused)

    def chaos_monkey() -> None:
        rng = random.Random(5)  # which node dies
        try:
            for kind, share in FAULTS:
                while progress() < share * TASKS:
                    if stop.wait(0.2):
                        return
                began = time.monotonic()
                if kind == "worker_kill":
                    victim = rng.randrange(NODES)
                    processes[f"node{victim}"].kill()
                    time.sleep(2)  # the host comes back
                    processes[f"node{victim}"] = start_node(victim, "-restarted")
                elif kind == "rabbitmq_restart":
                    rabbit_stopped.set()
                    _rabbitmqctl("stop_app")
                    time.sleep(2)
                    _rabbitmqctl("start_app")
                    rabbit_stopped.clear()
                    wait_until(_broker_answers, timeout=60)
                else:
                    processes["redis"].kill()
                    time.sleep(1)
                    processes["redis"] = start_redis(port=redis_port, log_dir=log_dir)
                    wait_until(lambda: port_is_open(redis_port), timeout=10)
                with lock:
                    faults.append(Fault(kind, began, time.monotonic()))
                print(f"fault {kind}: {time.monotonic() - began:.1f} s", flush=True)
        except BaseException as exc:
            fault_error.append(exc)
            raise

    exit_code = 0
    try:
        processes["fake-ai"] = start_fake_ai(port=ai_port, log_dir=log_dir, latency=AI_LATENCY)
        for i in range(NODES):
            processes[f"node{i}"] = start_node(i)
        for n, port in enumerate(api_ports):
            processes[f"api{n}"] = start_gunicorn(
                server_env, port=port, log_dir=log_dir / f"api{n}", workers=WEB_WORKERS
            )
        # (at INFO: start_beat waits for its "Starting" line)
        processes["beat"] = start_beat(server_env | {"LOG_LEVEL": "INFO"}, log_dir=log_dir)
        print(f"chaos-cluster: logs in {log_dir}, queue {queue}", flush=True)
        # Warm-up, not measured: each gunicorn worker's first requests load what is loaded lazily.
        for port in api_ports:
            for _ in range(4 * WEB_WORKERS):
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v2/orgs/{slug}/tasks",
                    headers=PROXY | {"Authorization": f"Bearer {token}"},
                )
                with urllib.request.urlopen(request, timeout=30):
                    pass

        def report() -> None:  # a line every 15 s, for whoever watches
            while not stop.wait(15):
                done = Task.objects.filter(
                    org__slug=slug, status__in=[TaskStatus.SCORED, TaskStatus.FAILED]
                ).count()
                print(f"{time.monotonic() - started:.0f} s: {progress()} submitted, {done} done",
                      flush=True)  # fmt: skip
            connection.close()

        monkey = threading.Thread(target=chaos_monkey, daemon=True)
        reporter = threading.Thread(target=report, daemon=True)
        started = time.monotonic()
        monkey.start()
        reporter.start()
        with ThreadPoolExecutor(SUBMITTERS) as pool:
            list(pool.map(submit, range(TASKS)))
        submitted_at = time.monotonic()
        monkey.join(timeout=300)
        if fault_error or monkey.is_alive():
            raise RuntimeError(f"a fault could not be made: {fault_error}")
        last_fault = max(f.end for f in faults)

        ids = set(acknowledged.values())
        pending = [TaskStatus.QUEUED, TaskStatus.SCORING]
        wait_until(
            lambda: not Task.objects.filter(pk__in=ids, status__in=pending).exists(),
            timeout=max(0.0, max(last_fault, submitted_at) + RECOVERY_TIMEOUT - time.monotonic()),
            interval=0.5,
        )
        recovered_at = time.monotonic()

        statuses = dict(
            Task.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("id"))
        )
        scored = statuses.get(TaskStatus.SCORED, 0)
        failed = statuses.get(TaskStatus.FAILED, 0)
        org_tasks = Task.objects.filter(org__slug=slug).count()
        duplicate_scores = (
            TaskScore.objects.filter(task__org__slug=slug)
            .values("task_id", "version_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        attempts_max = (
            Task.objects.filter(pk__in=ids).order_by("-attempts").values_list("attempts", flat=True)
        ).first()
        with urllib.request.urlopen(f"http://127.0.0.1:{ai_port}/_control/stats") as response:
            ai_stats = json.load(response)

        def during_faults(a: Attempt) -> bool:
            return any(
                a.start <= f.end + FAULT_GRACE_S and a.end >= f.start - FAULT_GRACE_S
                for f in faults
            )

        with open(log_dir / "attempts.csv", "w") as csv:  # every attempt, for a closer look
            csv.write("start_s,ms,status,during_faults\n")
            for a in sorted(attempts, key=lambda a: a.start):
                csv.write(
                    f"{a.start - started:.3f},{a.ms:.1f},{a.status},{int(during_faults(a))}\n"
                )

        def log_lines(pattern: str, marker: str) -> int:
            return sum(
                path.read_text(errors="replace").count(marker) for path in log_dir.glob(pattern)
            )

        errors_5xx = [a for a in attempts if a.status >= 500]
        in_faults = [a for a in attempts if during_faults(a)]
        lost = len(ids) - scored - failed
        figures: dict[str, Any] = {
            "submitted": len(ids),
            "scored": scored,
            "failed": failed,
            "lost": lost,
            "duplicate_scores": duplicate_scores,
            "not_acknowledged": len(refused),
            "unacknowledged_tasks": org_tasks - len(ids),
            "api_requests": len(attempts),
            "api_errors_5xx": len(errors_5xx),
            "api_5xx_outside_faults": sum(1 for a in errors_5xx if not during_faults(a)),
            "api_connection_errors": sum(1 for a in attempts if a.status == 0),
            "api_conflicts_409": sum(1 for a in attempts if a.status == 409),
            "api_p99_ms_during_faults": _percentile([a.ms for a in in_faults], 0.99),
            "api_p99_ms": _percentile([a.ms for a in attempts], 0.99),
            "api_p50_ms": _percentile([a.ms for a in attempts], 0.5),
            "faults": {f.kind: round(f.end - f.start, 1) for f in faults},
            "fault_at_s": {f.kind: round(f.start - started, 1) for f in faults},
            "errors_5xx_at_s": [round(a.end - started, 1) for a in errors_5xx][:20],
            "max_attempts": attempts_max,
            # jobs the APIs could not publish (RabbitMQ down; the sweeper sent them), and
            # deliveries whose ack found the connection gone (RabbitMQ delivered them again)
            "enqueue_failures": log_lines("api*/*.log", "could not enqueue"),
            "acks_lost": log_lines("node*.log", "Couldn't ack"),
            "ai_calls": ai_stats["calls"],
            "ai_unique_prompts": ai_stats["unique_prompts"],
            "ai_max_calls_per_prompt": ai_stats["max_calls_per_prompt"],
            "submit_s": round(submitted_at - started, 1),
            "recovery_s": round(recovered_at - last_fault, 1),
            "drain_s": round(recovered_at - submitted_at, 1),
            "elapsed_s": round(recovered_at - started, 1),
        }
        if lost or duplicate_scores:
            exit_code = 1
        emit(figures)
    finally:
        stop.set()
        if rabbit_stopped.is_set():  # never leave the broker stopped
            subprocess.run(
                [str(ROOT / "scripts" / "services.sh"), "rabbitmqctl", "-q", "start_app"],
                env=dict(os.environ, CELERY_BROKER_URL=BROKER_URL), check=False, timeout=120,
            )  # fmt: skip
        for name in ("beat", "api0", "api1", *(f"node{i}" for i in range(NODES)), "fake-ai"):
            if name in processes:
                processes[name].stop()
        try:
            _delete_queue(queue)
        except Exception as exc:  # noqa: BLE001 - cleaning up; the figures are what matters
            print(f"could not delete the queue {queue}: {exc}", file=sys.stderr)
        processes["redis"].stop()
        connection.close()
        if not KEEP:
            _drop_database(env["DATABASE_URL"])
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
