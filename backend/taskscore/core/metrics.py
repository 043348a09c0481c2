"""Prometheus metrics: every metric a Taskscore process exports, defined here once, the helpers
that record them, and their exposition (docs/architecture.md "Metrics", ADR 0015).

Recorded where the thing happens:

- HTTP requests (`HttpMetricsMiddleware`, second in MIDDLEWARE): count by method, route and
  status, latency by route. The route is the URL pattern that answered (`/api/v2/orgs/<org>/
  tasks/<task_id>`), never the path: label values come from closed sets only (ADR 0015);
- AI calls (`integrations.ai.cache`, the one place the provider is asked): count by provider,
  model and outcome, latency, tokens and cost by provider; the result cache's hits and misses;
- the permission cache (`rbac.cache`): hits, misses, Redis unreachable;
- Stripe events (`billing.events`, `api.webhooks.stripe`): count by type and outcome, and the lag
  from Stripe's `created` to the event taking effect;
- refusals (`api.common.problems`, where every refusal is answered): rate limits, quotas, the
  AI allowance;
- Celery jobs (`celery_connect`: task_prerun/task_postrun): count by job and outcome, duration.

Gauges that describe the system rather than one process (tasks by status, the oldest queued
task's age, the broker queue's depth) are computed when scraped (`ScrapeCollector`), by the web
process that answers `GET /metrics` (`taskscore.api.metrics`).

Under gunicorn the counters live in files in `PROMETHEUS_MULTIPROC_DIR` (set by
`config/gunicorn.conf.py` before any worker imports this module), one per worker process, and
`exposition_registry` adds them up. A Celery worker keeps them in memory and serves them itself
(`worker_metrics_serve`, on METRICS_WORKER_PORT).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from wsgiref.simple_server import WSGIServer

from celery import signals
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

# ------------------------------------------------------------------------------ the metrics

HTTP_REQUESTS = Counter(
    "taskscore_http_requests_total",
    "HTTP requests answered, by method, route (URL pattern) and status.",
    ["method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "taskscore_http_request_duration_seconds",
    "Time from the request reaching Django's middleware to its response, by route.",
    ["route"],
)

AI_REQUESTS = Counter(
    "taskscore_ai_requests_total",
    "Calls to the AI provider (cache misses), by provider, model and outcome.",
    ["provider", "model", "outcome"],
)
AI_REQUEST_DURATION = Histogram(
    "taskscore_ai_request_duration_seconds",
    "Latency of a call to the AI provider, failed calls included, by provider.",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0),
)
AI_TOKENS = Counter(
    "taskscore_ai_tokens_total",
    "Tokens the AI provider reported for successful calls, by provider and direction.",
    ["provider", "direction"],
)
AI_COST = Counter(
    "taskscore_ai_cost_usd_total",
    "Estimated cost of successful AI calls in USD (AI_PRICE_*_PER_MTOK), by provider.",
    ["provider"],
)
AI_CACHE = Counter(
    "taskscore_ai_cache_total",
    "AI result cache lookups: hit (a stored answer) or miss (the provider was asked).",
    ["result"],
)

RBAC_CACHE = Counter(
    "taskscore_rbac_cache_total",
    "Permission cache lookups: hit, miss (read from Postgres), unavailable (Redis unreachable; "
    "read from Postgres).",
    ["result"],
)

WEBHOOK_EVENTS = Counter(
    "taskscore_webhook_events_total",
    "Stripe events by type (handled types; others are 'other') and outcome.",
    ["type", "outcome"],
)
WEBHOOK_LAG = Histogram(
    "taskscore_webhook_lag_seconds",
    "From a Stripe event's `created` to it being applied (or ignored) here.",
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400),
)

REFUSALS = Counter(
    "taskscore_refusals_total",
    "Requests refused by a limit: rate_limit (429), quota (402: tasks or an overdue payment), "
    "ai_budget (402: the monthly AI calls).",
    ["kind"],
)

CELERY_JOBS = Counter(
    "taskscore_celery_jobs_total",
    "Celery jobs run, by job name and outcome (success, failure, retry, rejected, ignored).",
    ["task", "outcome"],
)
CELERY_JOB_DURATION = Histogram(
    "taskscore_celery_job_duration_seconds",
    "Time a Celery job ran, by job name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0),
)

AIOutcome = Literal["ok", "retryable_error", "permanent_error", "error"]
CacheResult = Literal["hit", "miss", "unavailable"]
RefusalKind = Literal["rate_limit", "quota", "ai_budget"]

# ------------------------------------------------------------------------------ recording

# Label children by their values: `labels()` validates and locks on every call, a dict lookup
# does not. Bounded by the label sets themselves (routes × methods × statuses).
_http_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_children: dict[tuple[Any, tuple[str, ...]], Any] = {}
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _child(metric: Any, *values: str) -> Any:
    """`metric.labels(*values)`, kept: what a job or a request records goes through here (the
    label sets are closed: configured providers and models, fixed outcomes and job names)."""
    key = (metric, values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child


def http_request_observe(*, method: str, route: str, status: int, seconds: float) -> None:
    """One answered request. `method` outside the standard ones counts as "other" (a client
    chooses it); `route` must be a URL pattern or a fixed word, never a path."""
    if method not in _METHODS:
        method = "other"
    key = (method, route, status)
    children = _http_children.get(key)
    if children is None:
        children = (
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)),
            HTTP_REQUEST_DURATION.labels(route=route),
        )
        _http_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def ai_call_observe(
    *,
    provider: str,
    model: str,
    outcome: AIOutcome,
    seconds: float,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cost_usd: float = 0.0,
) -> None:
    """One call to an AI provider (not a cache hit)."""
    _child(AI_REQUESTS, provider, model, outcome).inc()
    _child(AI_REQUEST_DURATION, provider).observe(seconds)
    if input_tokens:
        _child(AI_TOKENS, provider, "input").inc(input_tokens)
    if output_tokens:
        _child(AI_TOKENS, provider, "output").inc(output_tokens)
    if cost_usd:
        _child(AI_COST, provider).inc(cost_usd)


def ai_cache_count(*, result: Literal["hit", "miss"]) -> None:
    _child(AI_CACHE, result).inc()


def rbac_cache_count(*, result: CacheResult) -> None:
    _child(RBAC_CACHE, result).inc()


def webhook_event_count(*, event_type: str, outcome: str) -> None:
    """`event_type` from a closed set (the caller maps the rest to "other")."""
    WEBHOOK_EVENTS.labels(type=event_type, outcome=outcome).inc()


def webhook_lag_observe(*, created: int | float) -> None:
    """An event created (Stripe's Unix time) then took effect now."""
    WEBHOOK_LAG.observe(max(0.0, time.time() - created))


def refusal_count(*, kind: RefusalKind) -> None:
    _child(REFUSALS, kind).inc()


# ------------------------------------------------------------------------------ HTTP middleware


class HttpMetricsMiddleware:
    """Counts every answer by method, route and status and times it by route (second in
    MIDDLEWARE, so Django's own refusals and static files are counted too).

    The route is the URL pattern that matched (`request.resolver_match.route`: for API v2 the
    operation's path template). A request answered before URL resolution (a middleware's 400 or
    redirect) is resolved here; static files are "static", anything no pattern matches
    "unmatched"."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + str(settings.STATIC_URL).lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        http_request_observe(
            method=request.method or "",
            route=self.route(request, response.status_code),
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response

    def route(self, request: HttpRequest, status: int) -> str:
        match = getattr(request, "resolver_match", None)
        if match is None and status != 404:
            if request.path_info.startswith(self.static_prefix):
                return "static"
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return "unmatched"
        return "unmatched" if match is None else "/" + match.route


# ------------------------------------------------------------------------------ scrape time


class ScrapeCollector(Collector):
    """Gauges computed when scraped, from named sources (each a callable returning metric
    families). A source that fails is logged and left out, and `taskscore_metrics_source_up`
    says which: a scrape never fails because Postgres or the broker does."""

    def __init__(self, sources: Mapping[str, Callable[[], Iterable[Metric]]]) -> None:
        self._sources = dict(sources)

    def describe(self) -> Iterable[Metric]:
        return []  # computed on demand: nothing to check for clashes at registration

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "taskscore_metrics_source_up",
            "Whether the scrape-time source could be read (1) or not (0).",
            labels=["source"],
        )
        for name, source in self._sources.items():
            try:
                families = list(source())
            except Exception:  # any failure: report the others
                logger.warning("metrics: the %s source failed", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def task_families(*, counts: Mapping[str, int], oldest_queued_at: datetime | None) -> list[Metric]:
    """`taskscore_tasks{status}` and `taskscore_tasks_oldest_queued_age_seconds` (0 when none
    is queued)."""
    tasks = GaugeMetricFamily(
        "taskscore_tasks", "Tasks waiting or being scored, by status.", labels=["status"]
    )
    for status, count in sorted(counts.items()):
        tasks.add_metric([status], count)
    age = 0.0 if oldest_queued_at is None else max(0.0, time.time() - oldest_queued_at.timestamp())
    oldest = GaugeMetricFamily(
        "taskscore_tasks_oldest_queued_age_seconds",
        "Seconds since the oldest task still queued was submitted (0 when none is).",
        value=age,
    )
    return [tasks, oldest]


def tasks_stored_family(total: int) -> Metric:
    return GaugeMetricFamily(
        "taskscore_tasks_stored", "Tasks stored, every status (the orgs' task counts).", total
    )


def queue_families(depths: Mapping[str, int]) -> list[Metric]:
    depth = GaugeMetricFamily(
        "taskscore_queue_depth", "Messages waiting in the broker's queue.", labels=["queue"]
    )
    for queue, count in sorted(depths.items()):
        depth.add_metric([queue], count)
    return [depth]


# ------------------------------------------------------------------------------ exposition


class _ThisProcess(Collector):
    """The default registry's metrics (this process's, and Python's process and GC metrics)
    inside another registry."""

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition_registry(*extra: Collector) -> CollectorRegistry:
    """What the web process answers on `GET /metrics`: under gunicorn (PROMETHEUS_MULTIPROC_DIR
    set) every worker's counters added up, else this process's; plus `extra` collectors."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_DIR_ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    for collector in extra:
        registry.register(collector)
    return registry


# ------------------------------------------------------------------------------ Celery

# perf_counter at each running job's start, by Celery task id and thread (the threads pool runs
# several jobs at once; a redelivered message may run the same job twice at once).
_job_started: dict[tuple[str, int], float] = {}


def _on_job_start(task_id: str | None = None, **_: Any) -> None:
    if task_id is not None:
        _job_started[task_id, threading.get_ident()] = time.perf_counter()


def _on_job_end(
    task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any
) -> None:
    started = _job_started.pop((task_id, threading.get_ident()), None) if task_id else None
    if task is None:
        return
    job = str(task.name)
    # task_postrun's state covers task_failure and task_retry too (FAILURE, RETRY): one
    # signal per run, so a failed or retried run is never counted twice.
    _child(CELERY_JOBS, job, (state or "unknown").lower()).inc()
    if started is not None:
        _child(CELERY_JOB_DURATION, job).observe(time.perf_counter() - started)


# How many ports above METRICS_WORKER_PORT a worker tries when several run on one host.
WORKER_PORT_TRIES = 64


@dataclass(frozen=True)
class WorkerMetricsServer:
    port: int
    server: WSGIServer

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def worker_metrics_serve(**_: Any) -> WorkerMetricsServer | None:
    """Serve this process's metrics over HTTP on METRICS_WORKER_HOST, at METRICS_WORKER_PORT or
    the next free port above it (the second worker on a host gets port + 1, …), from a daemon
    thread. None when METRICS_WORKER_PORT is 0 (the default) or no port was free."""
    base = int(settings.METRICS_WORKER_PORT)
    if base <= 0:
        return None
    host = str(settings.METRICS_WORKER_HOST)
    for port in range(base, base + WORKER_PORT_TRIES):
        try:
            server, _thread = start_http_server(port, addr=host)
        except OSError:
            continue
        logger.info("worker metrics at http://%s:%d/metrics", host, port, extra={"port": port})
        return WorkerMetricsServer(port=port, server=server)
    logger.error(
        "worker metrics: no free port in %d-%d; not serving them",
        base,
        base + WORKER_PORT_TRIES - 1,
    )
    return None


def celery_connect() -> None:
    """Count and time every job, and serve a worker's metrics (called once, where the Celery
    app is made)."""
    signals.task_prerun.connect(_on_job_start, weak=False, dispatch_uid="taskscore-metrics-start")
    signals.task_postrun.connect(_on_job_end, weak=False, dispatch_uid="taskscore-metrics-end")
    signals.worker_init.connect(
        worker_metrics_serve, weak=False, dispatch_uid="taskscore-metrics-serve"
    )
