"""RabbitMQ as the broker (CELERY_BROKER_URL amqp://…): the settings switch the queue to a quorum
queue with publisher confirms and native delayed delivery (config/settings/base.py). A real API
(gunicorn) and a real worker, both on RabbitMQ with a queue of this module's own, score what is
submitted; a retry with a countdown comes back through the delayed-delivery queues. The queue and
its exchange are deleted afterwards. Skipped when no RabbitMQ answers on 127.0.0.1:5672 (`make
services` with an amqp:// CELERY_BROKER_URL starts a project-local one)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from amqp.exceptions import PreconditionFailed
from kombu import Connection, Exchange, Queue

from conftest import test_process_env
from taskscore.orgs.services import CreatedKey
from taskscore.scoring.models import TaskScore
from taskscore.tasks.models import TaskStatus
from taskscore.testing.fake_ai import FakeAIServer
from taskscore.testing.processes import Process, free_port, start_gunicorn, start_worker
from tests.helpers import wait_terminal

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _rabbitmq_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), 2):
            pass
    except OSError:
        return False
    return True


pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not _rabbitmq_answers(RABBITMQ_URL),
        reason="no RabbitMQ answers on 127.0.0.1:5672 (run `make services` with "
        "CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// to start a project-local one)",
    ),
]


@dataclass(frozen=True)
class RabbitStack:
    api: str
    queue: str
    worker: Process


@pytest.fixture(scope="module")
def rabbit_stack(
    django_db_setup: None, fake_ai: FakeAIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RabbitStack]:
    """An API and a worker on RabbitMQ, on a queue no other run uses; deleted afterwards."""
    queue = f"taskscore-test-rabbit-{uuid.uuid4().hex[:8]}"
    env = test_process_env() | {
        "CELERY_BROKER_URL": RABBITMQ_URL,
        "CELERY_QUEUE": queue,
        # A countdown under a second cannot be delayed natively (Celery rounds it down to 0 and
        # refuses it); production's backoff starts at 1–2 s, the test settings' at 0.05 s.
        "TASK_RETRY_BASE_SECONDS": "2",
        "TASK_RETRY_MAX_SECONDS": "4",
    }
    log_dir = tmp_path_factory.mktemp("rabbit")
    started: list[Process] = []
    try:
        worker = start_worker(env, log_dir=log_dir, name="rabbit-worker", concurrency=4)
        started.append(worker)
        port = free_port()
        started.append(start_gunicorn(env, port=port, log_dir=log_dir))
        yield RabbitStack(api=f"http://127.0.0.1:{port}", queue=queue, worker=worker)
    finally:
        for process in reversed(started):
            process.stop()
        with Connection(RABBITMQ_URL, connect_timeout=5) as connection:
            channel = connection.channel()
            Queue(queue).bind(channel).delete()
            Exchange(queue).bind(channel).delete()


def _post_task(api: str, token: str, title: str) -> str:
    request = urllib.request.Request(
        f"{api}/api/v1/tasks",
        data=json.dumps({"title": title, "attributes": {"reach": 10}}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        task_id: str = json.load(response)["id"]
        return task_id


def test_tasks_submitted_through_the_api_are_scored_by_a_worker_on_rabbitmq(
    rabbit_stack: RabbitStack, owner_key: CreatedKey
) -> None:
    # given an API and a worker whose broker is RabbitMQ
    # when five tasks are submitted
    ids = [_post_task(rabbit_stack.api, owner_key.token, f"Rabbit {i}") for i in range(5)]

    # then each is scored, once, with no sweeper's help
    for task_id in ids:
        assert wait_terminal(task_id, timeout=30).status == TaskStatus.SCORED
    assert TaskScore.objects.filter(task_id__in=ids).count() == 5


def test_the_queue_is_a_quorum_queue_the_worker_consumes(rabbit_stack: RabbitStack) -> None:
    with Connection(RABBITMQ_URL, connect_timeout=5) as connection:
        channel = connection.channel()
        # it exists (a passive declare), with our worker consuming it
        # (kombu returns amqp's queue_declare_ok_t, whatever its type stubs say)
        declared: Any = Queue(rabbit_stack.queue).bind(channel).queue_declare(passive=True)
        assert declared.consumer_count == 1
        # declared as Celery declares it, quorum: RabbitMQ finds that equivalent
        quorum = Queue(rabbit_stack.queue, durable=True, queue_arguments={"x-queue-type": "quorum"})
        quorum.bind(channel).queue_declare()
        # and refuses the same name as a classic queue
        classic = Queue(
            rabbit_stack.queue, durable=True, queue_arguments={"x-queue-type": "classic"}
        )
        with pytest.raises(PreconditionFailed, match="x-queue-type"):
            classic.bind(connection.channel()).queue_declare()


def test_a_retry_with_a_countdown_comes_back_through_the_delayed_delivery_queues(
    rabbit_stack: RabbitStack, owner_key: CreatedKey, fake_ai: FakeAIServer
) -> None:
    # given an AI that answers the first call with 429 and Retry-After: 2
    fake_ai.script(["429:2"])

    # when a task is submitted
    task_id = _post_task(rabbit_stack.api, owner_key.token, "Rabbit retried")

    # then its job is retried after the countdown (a delayed message, not one held by the
    # worker) and the task is scored on its second attempt, once
    task = wait_terminal(task_id, timeout=30)
    assert task.status == TaskStatus.SCORED
    assert task.attempts == 2
    assert TaskScore.objects.filter(task_id=task_id).count() == 1
    assert "Direct exchanges are not supported" not in rabbit_stack.worker.log()


BACKEND = Path(__file__).resolve().parents[1]


def test_rabbitmq_refuses_retries_it_cannot_delay() -> None:
    # Settings are read once per process: a process of their own, with RabbitMQ as the broker.
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//",
        TASK_RETRY_BASE_SECONDS="0.5",
    )
    check = [sys.executable, "-c", "import django; django.setup()"]
    refused = subprocess.run(check, env=env, cwd=BACKEND, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "TASK_RETRY_BASE_SECONDS must be at least 2" in refused.stderr
    allowed = subprocess.run(
        check, env={**env, "TASK_RETRY_BASE_SECONDS": "2"}, cwd=BACKEND, capture_output=True
    )
    assert allowed.returncode == 0, allowed.stderr
