"""`make bench-instructions`: the CPU instructions one API request costs, counted, not timed.

A request through the whole Django stack in this process (Django's test client: the middleware,
API-key or session authentication, the permission cache, the rate limiter, the view, the
presenters), against the real Postgres and Redis, with the production settings. Valgrind's
callgrind counts the instructions this process executes while the requests run and nothing else
(instrumentation is switched on around them): the same build gives the same count within a
fraction of a percent, whatever else the machine is doing. So two commits compare exactly on a
noisy or slower machine, where `make bench-api`'s rates move by a third from run to run. What it
leaves out: gunicorn, the kernel's loopback and the waits; `make bench-api` measures those.

Endpoints (each warmed first, so a kept body is kept): `bare` (GET /healthz), `get_task` (50 tasks
in turn), `list_tasks` (50 items), `poll` (the list with a browser session and If-None-Match: a
304, as the web app polls), `submit_task` (POST; no worker runs, the org's new tasks are ended
afterwards). Prints `<endpoint>_instructions` (per request) and each one's `_ratio_to_bare`.

And one scoring job, `scoring_job_instructions`: `task_score_run` in this process (no Celery) on
a task of its own with a distinct title, against a fake OpenAI-compatible server on loopback
that answers at once (run natively: valgrind follows no child) — the claim, the allowance, the
AI call through the result cache, the score and the end of the task. Then as many jobs on tasks
with the same titles, answered by the cache (`scoring_job_cached_instructions`: a duplicate).

BENCH_INSTRUCTIONS_N (100 requests per endpoint). Needs valgrind (every machine kind has it).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import (
    NO_RATE_LIMITS,
    bench_env,
    django_setup,
    emit,
    fake_ai_env,
    org_create,
    production_env,
)

N = int(os.environ.get("BENCH_INSTRUCTIONS_N", "100"))
ENDPOINTS = ("bare", "get_task", "list_tasks", "poll", "submit_task")
UNDER_VALGRIND = "BENCH_INSTRUCTIONS_CHILD"


def callgrind(*args: str) -> None:
    """Tell the callgrind running this process to do something (`callgrind_control`)."""
    control = shutil.which("callgrind_control")
    assert control is not None, "valgrind's callgrind_control is not on the PATH"
    subprocess.run([control, *args, str(os.getpid())], check=True, capture_output=True)


def measure() -> None:
    """Under callgrind: set up, then each endpoint's N requests counted in a dump of its own."""
    from taskscore.testing.processes import free_port, start_fake_ai

    ai_port = free_port()
    env = bench_env(
        "instructions",
        DJANGO_SECRET_KEY=secrets.token_hex(32),
        **fake_ai_env(ai_port, timeout_s=10),
        **NO_RATE_LIMITS,
    )
    django_setup(production_env(env, log_level="WARNING") | {"MAIL_OUTBOX_DIR": ""})
    fake_ai = start_fake_ai(port=ai_port, log_dir=Path(tempfile.mkdtemp(prefix="bench-instr-")))

    from django.test import Client

    from taskscore.accounts.models import User
    from taskscore.tasks.models import Task, TaskStatus

    seed = secrets.token_hex(3)
    created = org_create(f"Instructions {seed}", f"owner-{seed}@bench.test")
    slug = created["org"]["slug"]
    proxy: dict[str, Any] = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "127.0.0.1"}
    key = Client(**proxy, HTTP_AUTHORIZATION=f"Bearer {created['api_key']['token']}")
    browser = Client(**proxy)
    browser.force_login(User.objects.get(pk=created["owner"]["id"]))
    tasks = f"/api/v2/orgs/{slug}/tasks"
    items = [
        {"title": f"Counted {i}: faster CSV export", "description": "Bench seed.",
         "attributes": {"reach": 100 + i, "impact": 2, "confidence": 80, "effort": 3}}
        for i in range(60)
    ]  # fmt: skip
    page = key.post(f"{tasks}/batch", data={"tasks": items}, content_type="application/json")
    ids = [item["id"] for item in page.json()["items"]]
    try:
        # No worker scores them: as finished tasks, they stay as they are while counted.
        Task.objects.filter(org__slug=slug).update(status=TaskStatus.FAILED, enqueued_at=None)
        etag = browser.get(f"{tasks}?limit=50")["ETag"]
        body = {"title": "Counted submission", "description": "", "attributes": {"reach": 3}}

        def request(name: str, n: int) -> None:
            if name == "bare":
                response = key.get("/healthz")
            elif name == "get_task":
                response = key.get(f"{tasks}/{ids[n % 50]}")
            elif name == "list_tasks":
                response = key.get(f"{tasks}?limit=50")
            elif name == "poll":
                response = browser.get(f"{tasks}?limit=50", HTTP_IF_NONE_MATCH=etag)
            else:
                response = key.post(tasks, data=body, content_type="application/json")
            expected = {"poll": 304, "submit_task": 201}.get(name, 200)
            assert response.status_code == expected, (name, response.status_code)

        for name in ENDPOINTS:
            for n in range(60):  # warm: every task's body kept, connections open
                request(name, n)
            callgrind("--zero")
            callgrind("--instr=on")
            for n in range(N):
                request(name, n)
            callgrind("--instr=off")
            callgrind(f"--dump={name}")
        from taskscore.tasks.services import task_score_run

        org_id = Task.objects.filter(org__slug=slug).values_list("org_id", flat=True)[0]
        jobs = [
            str(task.pk)
            for task in Task.objects.bulk_create(
                Task(org_id=org_id, title=f"Job {i} {seed}: export reports", description="",
                     attributes={"reach": 100})
                for i in range(60 + N)
            )
        ]  # fmt: skip
        for task_id in jobs[:60]:  # warm: connections, the provider, the version's criteria
            assert task_score_run(task_id=task_id)
        callgrind("--zero")
        callgrind("--instr=on")
        for task_id in jobs[60:]:
            task_score_run(task_id=task_id)
        callgrind("--instr=off")
        callgrind("--dump=scoring_job")
        # The same titles again: each job's answer is in the result cache (a duplicate task).
        cached = [
            str(task.pk)
            for task in Task.objects.bulk_create(
                Task(org_id=org_id, title=title, description="", attributes={"reach": 100})
                for title in Task.objects.filter(pk__in=jobs[60:]).values_list("title", flat=True)
            )
        ]
        callgrind("--zero")
        callgrind("--instr=on")
        for task_id in cached:
            task_score_run(task_id=task_id)
        callgrind("--instr=off")
        callgrind("--dump=scoring_job_cached")
        jobs += cached
        assert Task.objects.filter(pk__in=jobs, status=TaskStatus.SCORED).count() == len(jobs)
    finally:
        fake_ai.stop()
        Task.objects.filter(
            org__slug=slug, status__in=(TaskStatus.QUEUED, TaskStatus.SCORING)
        ).update(status=TaskStatus.FAILED, enqueued_at=None)


def totals(directory: Path) -> dict[str, int]:
    """Each dump's instruction total, by the name it was dumped with."""
    counted: dict[str, int] = {}
    for dump in directory.glob("callgrind.out.*.*"):
        text = dump.read_text()
        # "desc: Trigger: dump <name>"
        trigger = next(line for line in text.splitlines() if line.startswith("desc: Trigger:"))
        name = trigger.rsplit(" ", 1)[-1]
        total = next(line for line in reversed(text.splitlines()) if line.startswith("totals:"))
        counted[name] = int(total.split()[1])
    return counted


def main() -> None:
    if os.environ.get(UNDER_VALGRIND):
        measure()
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    directory = Path(tempfile.mkdtemp(prefix="bench-instructions-"))
    subprocess.run(
        [valgrind, "--tool=callgrind", "--instr-atstart=no",
         f"--callgrind-out-file={directory}/callgrind.out.%p", sys.executable, __file__],
        env=os.environ | {UNDER_VALGRIND: "1"}, check=True, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    counted = totals(directory)
    figures: dict[str, object] = {"requests": N}
    for name in ENDPOINTS:
        figures[f"{name}_instructions"] = counted[name] // N
    for name in ENDPOINTS[1:]:
        figures[f"{name}_ratio_to_bare"] = round(counted[name] / counted["bare"], 3)
    figures["scoring_job_instructions"] = counted["scoring_job"] // N
    figures["scoring_job_cached_instructions"] = counted["scoring_job_cached"] // N
    shutil.rmtree(directory, ignore_errors=True)
    emit(figures)


if __name__ == "__main__":
    main()
