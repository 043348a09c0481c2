"""What a worker process does once it is ready: its startup objects frozen out of the garbage
collector's full collections (`taskscore.core.startup`), in gunicorn's workers and Celery's."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

from conftest import test_process_env
from taskscore.testing.processes import free_port, start_gunicorn, start_worker

FROZEN = re.compile(r"startup objects frozen out of the garbage collector's reach: (\d+)")

pytestmark = pytest.mark.slow


def _frozen(log: str) -> list[int]:
    return [int(count) for count in FROZEN.findall(log)]


def test_each_gunicorn_worker_freezes_what_the_app_loaded(
    django_db_setup: None, tmp_path: Path
) -> None:
    port = free_port()
    server = start_gunicorn(test_process_env(), port=port, log_dir=tmp_path, workers=2)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
        log = server.log()
    finally:
        server.stop()
    # one line a worker, each after the app (Django, the API's routes) was loaded
    counts = _frozen(log)
    assert len(counts) == 2
    assert min(counts) > 50_000


def test_a_celery_worker_freezes_what_it_loaded_once_ready(
    django_db_setup: None, tmp_path: Path
) -> None:
    worker = start_worker(test_process_env(), log_dir=tmp_path)
    try:
        worker.wait_for_log("garbage collector's reach", timeout=30)
        log = worker.log()
    finally:
        worker.stop()
    counts = _frozen(log)
    assert len(counts) == 1
    assert counts[0] > 50_000
