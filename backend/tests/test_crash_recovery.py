"""Crashes the pipeline must survive, with real processes: a worker SIGKILLed in the middle of
scoring, and the broker (Redis, no persistence) restarted with jobs still queued. Each test runs
its own workers (no shared worker is running in this module)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import test_process_env
from taskscore.orgs.services import CreatedKey
from taskscore.scoring.models import TaskScore
from taskscore.tasks.models import Task, TaskStatus
from taskscore.tasks.services import tasks_requeue_stuck
from taskscore.testing.fake_ai import FakeAIServer
from taskscore.testing.processes import (
    BACKEND_DIR,
    Process,
    free_port,
    start_gunicorn,
    start_redis,
    start_worker,
)
from tests.helpers import submit_task, wait_terminal

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Every process a test starts goes here and is stopped afterwards, whatever happens."""
    started: list[Process] = []
    yield started
    for process in reversed(started):
        process.stop()


def test_a_worker_killed_while_scoring_loses_nothing_and_doubles_nothing(
    owner_key: CreatedKey,
    fake_ai: FakeAIServer,
    processes: list[Process],
    tmp_path: Path,
    settings: Any,
) -> None:
    # given a worker in the middle of a slow AI call. The lease outlasts a job, as production's
    # settings require (TASK_CLAIM_LEASE_SECONDS > AI_TIMEOUT_SECONDS per AI criterion), and the
    # dead worker's single-flight lock in the AI cache (AI_TIMEOUT_SECONDS + 5): a job that the
    # sweeper hands on before that lock expires would wait for it past its own lease.
    fake_ai.configure(latency=(3.0, 3.0))
    settings.TASK_CLAIM_LEASE_SECONDS = 9  # the sweeper's (this process)
    env = test_process_env() | {"AI_TIMEOUT_SECONDS": "3.5", "TASK_CLAIM_LEASE_SECONDS": "9"}
    processes.append(start_worker(env, log_dir=tmp_path, name="doomed"))
    task_id = submit_task(owner_key.token, title=f"Killed {uuid.uuid4()}")
    deadline = time.monotonic() + 10
    while Task.objects.get(pk=task_id).status != TaskStatus.SCORING:
        assert time.monotonic() < deadline, "the worker never claimed the task"
        time.sleep(0.05)
    # (its AI call made: the single-flight lock is taken before it)
    while fake_ai.stats().calls == 0:
        assert time.monotonic() < deadline, "the worker never called the AI"
        time.sleep(0.02)

    # when the worker is SIGKILLed (its message stays unacknowledged in Redis) and another starts
    processes[0].kill()
    fake_ai.configure(latency=(0.0, 0.0))
    processes.append(start_worker(env, log_dir=tmp_path, name="survivor"))

    # then the sweeper hands the task on once the claim's lease expired, and it is scored once
    task = wait_terminal(task_id, timeout=30, tick=tasks_requeue_stuck)
    assert task.status == TaskStatus.SCORED
    assert task.attempts == 2
    assert TaskScore.objects.filter(task_id=task_id).count() == 1


def _post_task(api: str, token: str, title: str) -> str:
    request = urllib.request.Request(
        f"{api}/api/v1/tasks",
        data=json.dumps({"title": title, "attributes": {"reach": 10}}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        task_id: str = json.load(response)["id"]
        return task_id


def _sweep(env: dict[str, str]) -> None:
    """The sweeper as beat runs it: in its own process, on the broker `env` names."""
    subprocess.run(
        [sys.executable, "manage.py", "sweep"], cwd=BACKEND_DIR, env=env, check=True,
        capture_output=True,
    )  # fmt: skip


def test_a_broker_restart_loses_queued_jobs_and_the_sweeper_recovers_them_all(
    owner_key: CreatedKey, processes: list[Process], tmp_path: Path
) -> None:
    # given an API and a worker on a private Redis broker, and 20 tasks submitted while no
    # worker runs, so their jobs wait in the broker
    redis_port, api_port = free_port(), free_port()
    processes.append(start_redis(port=redis_port, log_dir=tmp_path))
    broker = f"redis://127.0.0.1:{redis_port}/0"
    env = test_process_env() | {"CELERY_BROKER_URL": broker, "REDIS_URL": broker}
    processes.append(start_gunicorn(env, port=api_port, log_dir=tmp_path))
    api = f"http://127.0.0.1:{api_port}"
    ids = [_post_task(api, owner_key.token, f"Queued {i}") for i in range(20)]
    assert Task.objects.filter(pk__in=ids, status=TaskStatus.QUEUED).count() == 20

    # when Redis restarts (it keeps nothing on disk: every queued job is gone)
    processes[0].kill()
    processes[0] = start_redis(port=redis_port, log_dir=tmp_path)
    processes.append(start_worker(env, log_dir=tmp_path))
    time.sleep(1)
    assert Task.objects.filter(pk__in=ids, status=TaskStatus.QUEUED).count() == 20

    # then the sweeper (as beat runs it, on the same broker) re-enqueues them after the deadline
    time.sleep(2.1)  # TASK_REQUEUE_AFTER_SECONDS in test settings
    _sweep(env)
    for task_id in ids:
        assert wait_terminal(task_id, timeout=30).status == TaskStatus.SCORED
    assert TaskScore.objects.filter(task_id__in=ids).count() == 20


def test_a_worker_lives_through_redis_restarts_while_it_scores(
    owner_key: CreatedKey, fake_ai: FakeAIServer, processes: list[Process], tmp_path: Path
) -> None:
    # given an API and a busy worker on a private Redis broker: jobs running, acks still due
    fake_ai.configure(latency=(0.2, 0.6))
    redis_port, api_port = free_port(), free_port()
    processes.append(start_redis(port=redis_port, log_dir=tmp_path))
    broker = f"redis://127.0.0.1:{redis_port}/0"
    env = test_process_env() | {"CELERY_BROKER_URL": broker, "REDIS_URL": broker}
    processes.append(start_gunicorn(env, port=api_port, log_dir=tmp_path))
    worker = start_worker(env, log_dir=tmp_path, name="steady", concurrency=40)
    processes.append(worker)
    api = f"http://127.0.0.1:{api_port}"

    # when Redis is SIGKILLed and started again, empty, three times while the worker scores
    ids: list[str] = []
    for restart in range(3):
        ids += [_post_task(api, owner_key.token, f"Restart {restart}.{i}") for i in range(40)]
        time.sleep(0.7)
        processes[0].kill()
        time.sleep(0.3)
        processes[0] = start_redis(port=redis_port, log_dir=tmp_path)

    # then the same worker still runs (it reconnected each time), and with the sweeper every task
    # is scored exactly once
    assert worker.is_running(), worker.log()[-3000:]
    last_sweep = 0.0

    def sweep() -> None:
        nonlocal last_sweep
        if time.monotonic() - last_sweep > 1.5:
            last_sweep = time.monotonic()
            _sweep(env)

    for task_id in ids:
        assert wait_terminal(task_id, timeout=60, tick=sweep).status == TaskStatus.SCORED
    assert worker.is_running(), worker.log()[-3000:]
    assert TaskScore.objects.filter(task_id__in=ids).count() == len(ids)
    assert "Unrecoverable error" not in worker.log()
