"""OpenTelemetry tracing: one trace from a request through the job it enqueued to the AI call, sent
over OTLP/HTTP (docs/architecture.md "Tracing", ADR 0016).

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set. Off,
`tracing_setup` returns at once: nothing of OpenTelemetry is imported, nothing is instrumented, and
`ai_call_span` hands out one shared object that records nothing.

On, `tracing_setup` installs in this process:

- a TracerProvider whose Resource names the service (`taskscore-web`, `taskscore-worker`, or
  `OTEL_SERVICE_NAME`), its version (`GIT_COMMIT`, when set) and `deployment.environment.name`
  (`DEPLOYMENT_ENVIRONMENT`, else the settings module's name: `production`, `local`, `test`);
  the sampler named by `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG` (the SDK reads them;
  `parentbased_always_on` by default), except that a Redis command or SQL query outside any
  request or job starts no trace (the broker's own traffic, a probe's checks);
- the OTLP/HTTP exporter (protobuf; `OTEL_EXPORTER_OTLP_*` configure it) behind a
  BatchSpanProcessor, whose thread is started here: call this after a process forks, never
  before (gunicorn's `post_fork`, Celery's `worker_init`/`worker_process_init`: `celery_connect`);
- the instrumentations: Django (a span per request named by its route, `/healthz`, `/readyz` and
  `/metrics` left out), Celery (publishing carries the trace in the message's headers, a job's
  span continues it), psycopg (a span per query), Redis (a span per command), the `openai`
  provider's HTTP requests (`http_client_span`, which its own lean client calls), and the AI
  call itself (`ai_call_span`, around every provider call in `integrations.ai.cache._ask`,
  whatever the provider);
- the request id (`core.request_context`) as the attribute `taskscore.request_id` of each request's
  and each job's span, and the current trace's id as `trace_id` on every log line written while
  a sampled span is current (`core.logs`), so that a log line leads to its trace and back.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from celery import signals

from taskscore.core import logs, request_context

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import Sampler, SamplingResult
    from opentelemetry.trace import Link, Span, SpanKind, Tracer
    from opentelemetry.util.types import Attributes

logger = logging.getLogger(__name__)

# Either turns tracing on (the SDK appends /v1/traces to the first; the second is used as is).
ENDPOINT_ENV = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
REQUEST_ID_ATTRIBUTE = "taskscore.request_id"
# Probes and scrapes: frequent, and nothing to follow (regular expressions searched in the URL).
EXCLUDED_URLS = ("/healthz(\\?|$)", "/readyz(\\?|$)", "/metrics(\\?|$)")
WEB_SERVICE = "taskscore-web"
WORKER_SERVICE = "taskscore-worker"

_lock = threading.Lock()
_provider: TracerProvider | None = None
_tracer: Tracer | None = None


def tracing_enabled() -> bool:
    """Whether an OTLP endpoint is configured (tracing is then set up by `tracing_setup`)."""
    return any(os.environ.get(name) for name in ENDPOINT_ENV)


def tracing_setup(service_name: str) -> bool:
    """Trace this process (see the module's docstring) when an OTLP endpoint is configured; once
    per process. Returns whether tracing is on."""
    global _provider, _tracer
    if not tracing_enabled():
        return False
    with _lock:
        if _provider is not None:
            return True
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        attributes: dict[str, str] = {
            SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or service_name,
            "deployment.environment.name": _environment(),
        }
        if os.environ.get("GIT_COMMIT"):
            attributes[SERVICE_VERSION] = os.environ["GIT_COMMIT"]
        # The sampler OTEL_TRACES_SAMPLER(_ARG) names, as the SDK reads them.
        configured = TracerProvider(shutdown_on_exit=False).sampler
        provider = TracerProvider(
            resource=Resource.create(attributes), sampler=_sampler_without_orphans(configured)
        )
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        _provider = provider
        _tracer = trace.get_tracer(__name__)
        _instrument()
        logs.log_ids_source_add(_trace_ids)
        logger.info(
            "tracing on: spans of %s sent over OTLP/HTTP",
            attributes[SERVICE_NAME],
            extra={"service": attributes[SERVICE_NAME]},
        )
        return True


def tracing_flush(timeout_seconds: float = 10.0) -> bool:
    """Send the spans ended so far now (tests, and before a process exits)."""
    if _provider is None:
        return True
    return _provider.force_flush(timeout_millis=round(timeout_seconds * 1000))


def tracing_shutdown() -> None:
    """Flush and stop the exporter (a worker process that is exiting)."""
    if _provider is not None:
        _provider.shutdown()


def _environment() -> str:
    explicit = os.environ.get("DEPLOYMENT_ENVIRONMENT")
    if explicit:
        return explicit
    return os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.production").rsplit(".", 1)[-1]


def _instrument() -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    # Adds its middleware first in settings.MIDDLEWARE: before Django builds its handler.
    DjangoInstrumentor().instrument(
        excluded_urls=",".join(EXCLUDED_URLS), response_hook=_request_span_finish
    )
    CeleryInstrumentor().instrument()  # type: ignore[no-untyped-call]
    # Connected after the instrumentation's own task_prerun: the job's span is then current.
    signals.task_prerun.connect(_job_span_tag, weak=False, dispatch_uid="taskscore-trace-job")
    PsycopgInstrumentor().instrument(skip_dep_check=True)
    RedisInstrumentor().instrument()


def _sampler_without_orphans(configured: Sampler) -> Sampler:
    """`configured`, except that a client span (a query, a Redis command) with no parent is
    dropped: outside a request or a job it is the broker's traffic or a probe's, a trace each."""
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
    from opentelemetry.trace import SpanKind, get_current_span

    class WithoutOrphans(Sampler):
        def should_sample(
            self,
            parent_context: Context | None,
            trace_id: int,
            name: str,
            kind: SpanKind | None = None,
            attributes: Attributes = None,
            links: Sequence[Link] | None = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            if kind is SpanKind.CLIENT and not (
                get_current_span(parent_context).get_span_context().is_valid
            ):
                return SamplingResult(Decision.DROP)
            return configured.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"WithoutOrphans{{{configured.get_description()}}}"

    return WithoutOrphans()


# ------------------------------------------------------------------------------ request ids


def _request_span_finish(span: Span, request: HttpRequest, response: HttpResponse) -> None:
    """The request's id, as answered (RequestContextMiddleware runs inside this span), and its
    address as its access log line has it: a path segment that looks like a secret (an
    invitation's token) redacted, no query string (a search, a `next` address)."""
    if not span.is_recording():
        return
    rid = response.get(request_context.REQUEST_ID_HEADER)
    if rid:
        span.set_attribute(REQUEST_ID_ATTRIBUTE, rid)
    path = request_context.path_for_log(request.path)
    recorded: Mapping[str, Any] = getattr(span, "attributes", None) or {}
    for name in ("http.target", "url.path"):
        if name in recorded:
            span.set_attribute(name, path)
    if "http.url" in recorded:
        url = urlsplit(str(recorded["http.url"]))._replace(path=path, query="", fragment="")
        span.set_attribute("http.url", url.geturl())
    if "url.query" in recorded:
        span.set_attribute("url.query", "[redacted]")


def _job_span_tag(**_: Any) -> None:
    """The job's request id (from its message: request_context) on the job's span."""
    from opentelemetry import trace

    rid = request_context.request_id()
    span = trace.get_current_span()
    if rid is not None and span.is_recording():
        span.set_attribute(REQUEST_ID_ATTRIBUTE, rid)


def _trace_ids() -> Mapping[str, Any]:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return {}
    return {"trace_id": format(context.trace_id, "032x")}


# ------------------------------------------------------------------------------ the AI call


class AICallSpan:
    """What the AI call's span records once the call is answered; this base records nothing
    (tracing off)."""

    def finish(self, *, outcome: str, input_tokens: int = 0, output_tokens: int = 0) -> None:
        """The call's outcome (`ok`, `retryable_error`, …) and, for an answer, its tokens."""


_NOT_RECORDED = AICallSpan()
# Reusable: entering it only returns _NOT_RECORDED.
_NO_SPAN = nullcontext(_NOT_RECORDED)


class _RecordedAICallSpan(AICallSpan):
    def __init__(self, span: Span) -> None:
        self._span = span

    def finish(self, *, outcome: str, input_tokens: int = 0, output_tokens: int = 0) -> None:
        self._span.set_attribute("taskscore.ai.outcome", outcome)
        if input_tokens:
            self._span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
        if output_tokens:
            self._span.set_attribute("gen_ai.usage.output_tokens", output_tokens)


@contextmanager
def _ai_call_span(provider: str, model: str) -> Iterator[AICallSpan]:
    assert _tracer is not None
    with _tracer.start_as_current_span(
        "ai.assess",
        attributes={"gen_ai.provider.name": provider, "gen_ai.request.model": model},
    ) as span:
        yield _RecordedAICallSpan(span)


def ai_call_span(*, provider: str, model: str) -> AbstractContextManager[AICallSpan]:
    """A context manager around one call to an AI provider, yielding an `AICallSpan`: a span
    `ai.assess` (provider, model; an error recorded on it) when tracing is on, else nothing."""
    if _tracer is None:
        return _NO_SPAN
    return _ai_call_span(provider, model)


# ------------------------------------------------------------------------------ HTTP clients


class HTTPClientSpan:
    """An outgoing HTTP request's span: the headers that carry its context to the server, and its
    answer's status once received. This base records nothing and adds no header (tracing off)."""

    headers: Mapping[str, str] = {}

    def finish(self, *, status: int) -> None:
        """The answer's status (4xx and 5xx mark the span as an error)."""


_NO_HTTP_SPAN = nullcontext(HTTPClientSpan())


class _RecordedHTTPClientSpan(HTTPClientSpan):
    def __init__(self, span: Span, headers: dict[str, str]) -> None:
        self._span = span
        self.headers = headers

    def finish(self, *, status: int) -> None:
        from opentelemetry.trace import Status, StatusCode

        self._span.set_attribute("http.response.status_code", status)
        if status >= 400:
            self._span.set_status(Status(StatusCode.ERROR))


@contextmanager
def _http_client_span(method: str, url: str) -> Iterator[HTTPClientSpan]:
    from opentelemetry.propagate import inject
    from opentelemetry.trace import SpanKind

    assert _tracer is not None
    parts = urlsplit(url)
    attributes: dict[str, str | int] = {
        "http.request.method": method,
        "url.full": parts._replace(query="", fragment="").geturl(),
        "server.address": parts.hostname or "",
    }
    if parts.port is not None:
        attributes["server.port"] = parts.port
    with _tracer.start_as_current_span(method, kind=SpanKind.CLIENT, attributes=attributes) as span:
        headers: dict[str, str] = {}
        inject(headers)
        yield _RecordedHTTPClientSpan(span, headers)


def http_client_span(method: str, url: str) -> AbstractContextManager[HTTPClientSpan]:
    """A context manager around one outgoing HTTP request (the AI provider's, which uses no
    instrumented client): a CLIENT span named by the method, current while the request runs,
    whose context the request carries (`.headers`, W3C `traceparent`), when tracing is on; else
    nothing. An exception raised inside is recorded on the span."""
    if _tracer is None:
        return _NO_HTTP_SPAN
    return _http_client_span(method, url)


# ------------------------------------------------------------------------------ Celery


def _worker_start(sender: Any = None, **_: Any) -> None:
    """A worker whose pool runs jobs in this process (threads, solo) is traced from here; a
    prefork pool's children set up their own after the fork (`worker_process_init`)."""
    from celery.concurrency import get_implementation
    from celery.concurrency.prefork import TaskPool as PreforkPool

    pool = get_implementation(getattr(sender, "pool_cls", None) or "prefork")
    if not (isinstance(pool, type) and issubclass(pool, PreforkPool)):
        tracing_setup(WORKER_SERVICE)


def _worker_process_start(**_: Any) -> None:
    tracing_setup(WORKER_SERVICE)


def _worker_stop(**_: Any) -> None:
    tracing_shutdown()


def celery_connect() -> None:
    """Trace the processes that run jobs (called once, where the Celery app is made). Beat and
    the web processes' Celery app (which only publishes) are left alone here."""
    signals.worker_init.connect(_worker_start, weak=False, dispatch_uid="taskscore-trace-init")
    signals.worker_process_init.connect(
        _worker_process_start, weak=False, dispatch_uid="taskscore-trace-process-init"
    )
    signals.worker_shutdown.connect(_worker_stop, weak=False, dispatch_uid="taskscore-trace-stop")
    signals.worker_process_shutdown.connect(
        _worker_stop, weak=False, dispatch_uid="taskscore-trace-process-stop"
    )
