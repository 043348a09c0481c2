"""Prometheus metrics (core.metrics): `GET /metrics` behind its token, what it counts (requests
by route, AI calls through the fake AI on loopback, refusals, jobs), the gauges read when
scraped, a worker's own endpoint, and gunicorn's workers added up (multiprocess mode)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from conftest import Actor, test_process_env
from taskscore.core import metrics
from taskscore.core.jobs import noop
from taskscore.core.queue import queue_depths
from taskscore.integrations.ai.base import PermanentAIError, Rubric
from taskscore.orgs.models import Organization
from taskscore.orgs.services import CreatedKey
from taskscore.scoring.ai import ai_provider, ai_result_cache
from taskscore.tasks.models import Task, TaskStatus
from taskscore.tasks.services import task_score_run
from taskscore.testing.factories import TaskFactory
from taskscore.testing.fake_ai import FakeAIServer
from taskscore.testing.fake_stripe import event_payload, sign_header
from taskscore.testing.processes import free_port, start_gunicorn

# Every scrape reads the tasks table (the scrape-time gauges).
pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-0123456789"


def _scrape(token: str = TOKEN) -> str:
    with override_settings(METRICS_TOKEN=token):
        response = Client().get("/metrics", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    assert response["content-type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def _value(text: str, name: str, **labels: str) -> float:
    """The sample's value, 0 when absent (a counter not yet incremented)."""
    for sample_name, sample_labels, value in _samples(text):
        if sample_name == name and sample_labels == labels:
            return value
    return 0.0


# ------------------------------------------------------------------------------ the endpoint


def test_without_a_token_configured_metrics_is_not_there() -> None:
    with override_settings(METRICS_TOKEN=""):
        response = Client().get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
        posted = Client(enforce_csrf_checks=True).post("/metrics")
    assert response.status_code == 404
    assert response["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/not-found"
    assert posted.status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-of-some-length", f"Basic {TOKEN}", TOKEN],
    ids=["none", "wrong-token", "basic-scheme", "no-scheme"],
)
def test_a_missing_or_wrong_token_is_a_401_problem(authorization: str | None) -> None:
    headers = {"authorization": authorization} if authorization else {}
    with override_settings(METRICS_TOKEN=TOKEN):
        response = Client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["content-type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    body = response.json()
    assert (body["type"], body["status"], body["instance"]) == (
        "/problems/not-authenticated",
        401,
        "/metrics",
    )
    assert "# HELP" not in response.content.decode()


def test_the_token_opens_the_text_format_with_the_route_just_called(
    owner_key: CreatedKey,
) -> None:
    # given a task fetched through API v2 by its id
    task = TaskFactory.create(org=owner_key.api_key.org)
    route = "/api/v2/orgs/<org>/tasks/<task_id>"
    before = _scrape()
    response = Client().get(
        f"/api/v2/orgs/acme/tasks/{task.pk}", headers={"authorization": f"Bearer {owner_key.token}"}
    )
    assert response.status_code == 200
    # when scraped
    after = _scrape()
    # then the request is counted under its route, never its path
    labels = {"method": "GET", "route": route, "status": "200"}
    assert _value(after, "taskscore_http_requests_total", **labels) == (
        _value(before, "taskscore_http_requests_total", **labels) + 1
    )
    assert _value(after, "taskscore_http_request_duration_seconds_count", route=route) == (
        _value(before, "taskscore_http_request_duration_seconds_count", route=route) + 1
    )
    assert str(task.pk) not in after
    assert "acme" not in after


def test_methods_and_paths_outside_the_patterns_add_no_labels() -> None:
    path = f"/no-such-page/{uuid.uuid4()}"
    Client().generic("BREW", path)
    Client().get(path)
    text = _scrape()
    assert path.rsplit("/", 1)[1] not in text
    assert _value(text, "taskscore_http_requests_total", method="other", route="unmatched",
                  status="404") >= 1  # fmt: skip
    assert _value(text, "taskscore_http_requests_total", method="GET", route="unmatched",
                  status="404") >= 1  # fmt: skip
    methods = {
        labels["method"]
        for name, labels, _ in _samples(text)
        if name == "taskscore_http_requests_total"
    }
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}


# ------------------------------------------------------------------------------ what is counted


def test_ai_calls_through_the_fake_ai_are_counted(org: Organization, fake_ai: FakeAIServer) -> None:
    # given two tasks with the same text, scored in turn (the second from the AI cache)
    ok = {"provider": "openai", "model": "fake-model", "outcome": "ok"}
    before = _scrape()
    tasks = [TaskFactory.create(org=org, title="Same text", description="d") for _ in range(2)]
    for task in tasks:
        assert task_score_run(task_id=task.pk)
    after = _scrape()
    # then one call was made (the default version has one AI criterion) and one answer reused
    assert fake_ai.stats().calls == 1

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("taskscore_ai_requests_total", **ok) == 1
    assert delta("taskscore_ai_request_duration_seconds_count", provider="openai") == 1
    assert delta("taskscore_ai_cache_total", result="miss") == 1
    assert delta("taskscore_ai_cache_total", result="hit") == 1
    assert delta("taskscore_ai_tokens_total", provider="openai", direction="input") > 0
    assert delta("taskscore_ai_tokens_total", provider="openai", direction="output") > 0


def test_a_refused_ai_call_is_counted_by_its_outcome(fake_ai: FakeAIServer) -> None:
    fake_ai.script(["400"])
    labels = {"provider": "openai", "model": "fake-model", "outcome": "permanent_error"}
    before = _value(_scrape(), "taskscore_ai_requests_total", **labels)
    with pytest.raises(PermanentAIError):
        ai_result_cache().assess(
            ai_provider(),
            rubric=Rubric(question="Is it clear?"),
            task_text=f"text {uuid.uuid4()}",
            scope="test-metrics",
        )
    assert _value(_scrape(), "taskscore_ai_requests_total", **labels) == before + 1


@override_settings(RATE_LIMIT_PER_CALLER_PER_MINUTE=1, RATE_LIMIT_PER_ORG_PER_MINUTE=100)
def test_a_rate_limit_refusal_is_counted(owner_key: CreatedKey) -> None:
    before = _value(_scrape(), "taskscore_refusals_total", kind="rate_limit")
    statuses = [
        Client().get("/api/v1/tasks", headers={"authorization": f"Bearer {owner_key.token}"})
        for _ in range(2)
    ]
    assert [r.status_code for r in statuses] == [200, 429]
    assert _value(_scrape(), "taskscore_refusals_total", kind="rate_limit") == before + 1


def test_the_permission_cache_is_counted(alice: Actor) -> None:
    alice.client.get("/api/v2/orgs/acme/tasks")  # fills the cache
    before = _scrape()
    assert alice.client.get("/api/v2/orgs/acme/tasks").status_code == 200
    after = _scrape()
    assert _value(after, "taskscore_rbac_cache_total", result="hit") == (
        _value(before, "taskscore_rbac_cache_total", result="hit") + 1
    )


def test_a_job_run_is_counted_by_name_and_outcome() -> None:
    labels = {"task": noop.name, "outcome": "success"}
    before = _scrape()
    noop.apply(args=("x",))
    after = _scrape()
    assert _value(after, "taskscore_celery_jobs_total", **labels) == (
        _value(before, "taskscore_celery_jobs_total", **labels) + 1
    )
    assert _value(after, "taskscore_celery_job_duration_seconds_count", task=noop.name) == (
        _value(before, "taskscore_celery_job_duration_seconds_count", task=noop.name) + 1
    )


@override_settings(STRIPE_WEBHOOK_SECRET="whsec_test_metrics")
def test_stripe_events_are_counted_by_type_and_outcome_with_their_lag() -> None:
    # given an event Stripe created 30 s ago, of a type nothing here acts on
    event = event_payload(
        event_id=f"evt_{uuid.uuid4().hex}",
        type="customer.tax_id.created",
        created=int(time.time()) - 30,
        obj={"id": "txi_1", "object": "tax_id", "customer": "cus_nobody"},
    )
    raw = json.dumps(event).encode()
    signed = {"Stripe-Signature": sign_header(raw, "whsec_test_metrics")}
    forged = {"Stripe-Signature": sign_header(raw, "whsec_someone_else")}
    before = _scrape()
    # when it is delivered twice, and once more with a forged signature
    for headers in (signed, signed, forged):
        Client().generic(
            "POST", "/api/webhooks/stripe", raw, content_type="application/json", headers=headers
        )
    after = _scrape()

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    # then the type is "other" (not one handled), applied once as ignored, then a duplicate
    assert delta("taskscore_webhook_events_total", type="other", outcome="ignored") == 1
    assert delta("taskscore_webhook_events_total", type="other", outcome="duplicate") == 1
    assert delta("taskscore_webhook_events_total", type="unverified", outcome="invalid") == 1
    assert delta("taskscore_webhook_lag_seconds_count") == 1
    assert 30 <= delta("taskscore_webhook_lag_seconds_sum") < 90


# ------------------------------------------------------------------------------ scrape-time gauges


def test_the_scrape_reports_the_tasks_as_the_database_holds_them(org: Organization) -> None:
    # given tasks in every status, the oldest queued one submitted an hour ago
    for status, count in [
        (TaskStatus.QUEUED, 3),
        (TaskStatus.SCORING, 1),
        (TaskStatus.SCORED, 2),
        (TaskStatus.FAILED, 1),
    ]:
        TaskFactory.create_batch(count, org=org, status=status)
    oldest = Task.objects.filter(status=TaskStatus.QUEUED).first()
    assert oldest is not None
    Task.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - timedelta(hours=1))
    # when scraped
    text = _scrape()
    # then the pending tasks by status, the oldest one's age and the total match the database
    for status in (TaskStatus.QUEUED, TaskStatus.SCORING):
        assert _value(text, "taskscore_tasks", status=status) == (
            Task.objects.filter(status=status).count()
        )
    assert _value(text, "taskscore_tasks_stored") == Task.objects.count() == 7
    age = _value(text, "taskscore_tasks_oldest_queued_age_seconds")
    assert 3600 <= age < 3600 + 60
    assert _value(text, "taskscore_metrics_source_up", source="tasks") == 1


def test_the_scrape_reports_the_queue_depth_from_the_broker(settings: Any) -> None:
    # A queue of this test's own: the run's queue holds whatever earlier tests enqueued.
    queue = settings.CELERY_TASK_DEFAULT_QUEUE = f"metrics-depth-{uuid.uuid4().hex}"
    redis = Redis.from_url(settings.CELERY_BROKER_URL)
    redis.rpush(queue, "not-a-message-1", "not-a-message-2")
    try:
        assert queue_depths() == {queue: 2}
        text = _scrape()
    finally:
        redis.delete(queue)
    assert _value(text, "taskscore_queue_depth", queue=queue) == 2
    assert _value(text, "taskscore_metrics_source_up", source="queues") == 1


def test_a_source_that_fails_is_left_out_of_a_scrape_that_still_answers() -> None:
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:9/0"):  # closed on loopback
        text = _scrape()
    assert _value(text, "taskscore_metrics_source_up", source="queues") == 0
    assert _value(text, "taskscore_metrics_source_up", source="tasks") == 1
    assert "taskscore_queue_depth{" not in text


# ------------------------------------------------------------------------------ the worker's own


@pytest.fixture
def worker_servers() -> Iterator[list[metrics.WorkerMetricsServer]]:
    servers: list[metrics.WorkerMetricsServer] = []
    yield servers
    for server in servers:
        server.close()


def test_a_worker_serves_its_metrics_on_its_port_and_the_next_one_up(
    worker_servers: list[metrics.WorkerMetricsServer],
) -> None:
    assert metrics.worker_metrics_serve() is None  # METRICS_WORKER_PORT = 0: off
    base = free_port()
    with override_settings(METRICS_WORKER_PORT=base):
        for _ in range(2):
            server = metrics.worker_metrics_serve()
            assert server is not None
            worker_servers.append(server)
    assert [s.port for s in worker_servers] == [base, base + 1]
    noop.apply(args=("x",))
    with urllib.request.urlopen(f"http://127.0.0.1:{base + 1}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert _value(text, "taskscore_celery_jobs_total", task=noop.name, outcome="success") >= 1


# ------------------------------------------------------------------------------ under gunicorn


@pytest.mark.slow
def test_gunicorn_workers_are_added_up_from_a_fresh_directory(
    django_db_setup: None, tmp_path: Path
) -> None:
    # given a metrics directory left over from an earlier run, and gunicorn with two workers
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"left over")
    port = free_port()
    env = test_process_env() | {
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    server = start_gunicorn(env, port=port, log_dir=tmp_path / "gunicorn", workers=2)
    try:
        # when it answers 20 requests, and is scraped a few times
        for _ in range(20):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
                assert r.status == 200
        scrapes = []
        for _ in range(4):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                scrapes.append(response.read().decode())
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert refused.value.code == 401
    finally:
        server.stop()
    # then every scrape, whichever worker answered it, counts all 20
    for text in scrapes:
        labels = {"method": "GET", "route": "/healthz", "status": "200"}
        assert _value(text, "taskscore_http_requests_total", **labels) == 20
    # and the counters were in per-process files, the stale one removed at start
    files = sorted(p.name for p in directory.glob("*.db"))
    assert "counter_999999.db" not in files
    assert any(name.startswith("counter_") for name in files)
    assert any(name.startswith("histogram_") for name in files)
