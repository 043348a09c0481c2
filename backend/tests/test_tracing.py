"""Tracing (core.tracing): without an OTLP endpoint nothing of OpenTelemetry is loaded; with one,
a request, its queries and Redis commands, the job it enqueued and that job's AI call are one
trace, received over OTLP/HTTP by a real receiver on loopback (taskscore.testing.otlp_receiver).

Traced code runs in processes of its own (taskscore.testing.traced_request, a Celery worker), so
this process's global tracer provider and libraries stay untouched."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from config.celery import app as celery_app
from conftest import test_process_env
from taskscore.core import logs, tracing
from taskscore.orgs.services import CreatedKey
from taskscore.testing import traced_request
from taskscore.testing.fake_ai import FakeAIServer
from taskscore.testing.otlp_receiver import OtlpReceiver, ReceivedSpan
from taskscore.testing.processes import BACKEND_DIR, free_port, start_gunicorn, start_worker


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


def _env(receiver: OtlpReceiver | None) -> dict[str, str]:
    env = test_process_env()
    for name in (
        *tracing.ENDPOINT_ENV,
        "OTEL_SERVICE_NAME",
        "OTEL_TRACES_SAMPLER",
        "GIT_COMMIT",
        "DEPLOYMENT_ENVIRONMENT",
    ):
        env.pop(name, None)
    if receiver is not None:
        # Spans leave every 50 ms, not every 5 s (the SDK's default), so a test waits little.
        env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "50"}
    return env


def _request(env: dict[str, str], *args: str, authorization: str = "") -> dict[str, Any]:
    """One request through taskscore.testing.traced_request; its JSON summary."""
    done = subprocess.run(
        [sys.executable, "-m", "taskscore.testing.traced_request", *args],
        env=env | {"TRACED_REQUEST_AUTHORIZATION": authorization},
        cwd=BACKEND_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


def _one(spans: list[ReceivedSpan], **match: Any) -> ReceivedSpan:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in match.items())]
    assert len(found) == 1, (match, [(s.service, s.name, s.kind) for s in spans])
    return found[0]


def _ancestors(span: ReceivedSpan, spans: list[ReceivedSpan]) -> list[str]:
    """The names of `span`'s parents, nearest first."""
    by_id = {s.span_id: s for s in spans}
    names = []
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        names.append(span.name)
    return names


# ------------------------------------------------------------------------------ off


def test_without_an_endpoint_setup_installs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in tracing.ENDPOINT_ENV:
        monkeypatch.delenv(name, raising=False)

    assert tracing.tracing_setup(tracing.WEB_SERVICE) is False

    assert tracing._provider is None
    assert tracing.tracing_flush() is True
    assert logs._id_sources == []
    assert not [m for m in sys.modules if m.startswith(traced_request.TRACING_MODULES)]
    with tracing.ai_call_span(provider="openai", model="m") as span:
        assert type(span) is tracing.AICallSpan


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_without_an_endpoint_a_request_loads_nothing_of_opentelemetry(
    owner_key: CreatedKey,
) -> None:
    summary = _request(
        _env(None), "--path", "/api/v2/orgs/acme/tasks", authorization=f"Bearer {owner_key.token}"
    )

    assert (summary["status"], summary["tracing"]) == (200, False)
    assert summary["tracing_modules"] == []
    assert summary["tracer_provider"] in (None, "ProxyTracerProvider")  # none was set
    assert summary["instrumented"] == []


# ------------------------------------------------------------------------------ on


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_request_its_queries_and_redis_commands_are_one_trace(
    owner_key: CreatedKey, receiver: OtlpReceiver
) -> None:
    rid = f"trace-{uuid.uuid4().hex}"
    # when a request that reads Postgres and Redis is made with tracing on
    summary = _request(
        _env(receiver) | {"GIT_COMMIT": "0123abcd"},
        *("--path", "/api/v2/orgs/acme/tasks?status=queued", "--request-id", rid),
        authorization=f"Bearer {owner_key.token}",
    )
    assert (summary["status"], summary["request_id"], summary["tracing"]) == (200, rid, True)
    assert summary["tracer_provider"] == "TracerProvider"
    assert summary["instrumented"] == ["django", "psycopg", "redis"]
    # then the receiver has the request's span, named by its route, with the request id
    spans = receiver.wait_for(lambda spans: any(s.kind == "server" for s in spans))
    request = _one(spans, kind="server")
    assert request.service == "taskscore-web"
    assert request.resource["service.version"] == "0123abcd"
    assert request.resource["deployment.environment.name"] == "test"
    assert request.attributes["http.route"] == "api/v2/orgs/<org>/tasks"
    assert request.name == "GET api/v2/orgs/<org>/tasks"
    assert request.attributes[tracing.REQUEST_ID_ATTRIBUTE] == rid
    assert request.parent_span_id == ""
    # (its address as logged: no query string, which may carry a search or an address)
    assert request.attributes["http.url"] == "http://127.0.0.1/api/v2/orgs/acme/tasks"
    # and the SQL queries and Redis commands it made are its children, in its trace
    trace = [s for s in spans if s.trace_id == request.trace_id]
    queries = [s for s in trace if s.attributes.get("db.system") == "postgresql"]
    commands = [s for s in trace if s.attributes.get("db.system") == "redis"]
    assert queries, [s.name for s in trace]
    assert commands, [s.name for s in trace]
    for span in (*queries, *commands):
        assert span.kind == "client"
        assert _ancestors(span, spans)[-1] == request.name
    # and nothing outside a request was traced (no trace of its own for a query or a command)
    assert {s.trace_id for s in spans} == {request.trace_id}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_job_continues_the_trace_of_its_request_down_to_the_ai_call(
    owner_key: CreatedKey, receiver: OtlpReceiver, tmp_path: Path, fake_ai: FakeAIServer
) -> None:
    celery_app.control.purge()
    port = free_port()
    # gunicorn as in production (tracing set up in its worker's post_fork), and a Celery worker
    web = start_gunicorn(_env(receiver), port=port, log_dir=tmp_path, workers=1)
    worker = start_worker(_env(receiver), log_dir=tmp_path, concurrency=2)
    try:
        rid = f"trace-{uuid.uuid4().hex}"
        # when a task is submitted with tracing on, and the worker scores it
        response = requests.post(
            f"http://127.0.0.1:{port}/api/v2/orgs/acme/tasks",
            json={"title": f"Traced {rid}", "attributes": {"reach": 10}},
            headers={"Authorization": f"Bearer {owner_key.token}", "X-Request-ID": rid},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        spans = receiver.wait_for(
            lambda spans: (
                any(s.name.startswith("run/") for s in spans)
                and any(s.name == "ai.assess" for s in spans)
                and any(s.kind == "server" for s in spans)
            )
        )
        web_log, worker_log = web.log(), worker.log()
    finally:
        worker.stop()
        web.stop()
    # then the request, its publication, the job and the AI call are one trace
    request = _one(spans, kind="server")
    trace_id = request.trace_id
    publish = _one(spans, kind="producer", trace_id=trace_id)
    assert publish.service == "taskscore-web"
    assert publish.name == "apply_async/taskscore.tasks.jobs.task_score"
    job = _one(spans, name="run/taskscore.tasks.jobs.task_score")
    assert (job.service, job.trace_id, job.parent_span_id) == (
        "taskscore-worker", trace_id, publish.span_id
    )  # fmt: skip
    assert job.attributes[tracing.REQUEST_ID_ATTRIBUTE] == rid
    # and the AI call has its span inside the job's, its HTTP request to the provider inside it
    ai_call = _one(spans, name="ai.assess")
    assert ai_call.trace_id == trace_id
    assert job.name in _ancestors(ai_call, spans)
    assert ai_call.attributes == {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "fake-model",
        "taskscore.ai.outcome": "ok",
        "gen_ai.usage.input_tokens": ai_call.attributes["gen_ai.usage.input_tokens"],
        "gen_ai.usage.output_tokens": ai_call.attributes["gen_ai.usage.output_tokens"],
    }
    assert ai_call.attributes["gen_ai.usage.input_tokens"] > 0
    http_call = _one(spans, kind="client", parent_span_id=ai_call.span_id)
    assert http_call.name == "POST"
    assert http_call.attributes["http.request.method"] == "POST"
    assert http_call.attributes["url.full"] == f"{fake_ai.url}/chat/completions"
    assert http_call.attributes["http.response.status_code"] == 200
    # and the AI server received the HTTP span's context (W3C traceparent)
    [sent] = [r["traceparent"] for r in fake_ai.requests() if trace_id in r["traceparent"]]
    assert sent.startswith(f"00-{trace_id}-{http_call.span_id}-")
    assert int(sent.rsplit("-", 1)[1], 16) & 1  # sampled
    # and the request's and the job's log lines carry the request id and the trace id: the
    # access line and the AI call's line too
    lines = [
        json.loads(line)
        for line in (web_log + worker_log).splitlines()
        if line.startswith("{") and rid in line
    ]
    assert {line.get("trace_id") for line in lines} == {trace_id}
    assert {"taskscore.request", "taskscore.scoring.ai"} <= {line["logger"] for line in lines}
