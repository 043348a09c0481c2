"""`GET /metrics`: the web processes' metrics for Prometheus (core.metrics), for whoever holds
METRICS_TOKEN.

- METRICS_TOKEN empty (the default): 404, as if there were no such page.
- Otherwise only `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time) is
  answered; anything else is a 401 problem. Never rate-limited (a plain view, outside the API's
  decorators), and a refusal is no error in the logs (only the access line).
- The answer: every gunicorn worker's counters added up, plus gauges read when scraped: the
  tasks waiting or being scored by status, the oldest queued task's age, the tasks stored, and
  the broker queue's depth (Redis brokers only).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric

from taskscore.api.common.problems import problem_response
from taskscore.core import metrics
from taskscore.core.errors import ProblemType
from taskscore.core.queue import queue_depths
from taskscore.tasks.metrics import tasks_backlog


def _tasks() -> Iterable[Metric]:
    backlog = tasks_backlog()
    return [
        *metrics.task_families(counts=backlog.counts, oldest_queued_at=backlog.oldest_queued_at),
        metrics.tasks_stored_family(backlog.stored),
    ]


def _queues() -> Iterable[Metric]:
    depths = queue_depths()
    return [] if depths is None else metrics.queue_families(depths)


@functools.cache
def metrics_registry() -> CollectorRegistry:
    """Built once per process (the multiprocess files are re-read on every scrape)."""
    return metrics.exposition_registry(
        metrics.ScrapeCollector({"tasks": _tasks, "queues": _queues})
    )


def _bearer(request: HttpRequest) -> bytes:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip().encode() if scheme.lower() == "bearer" else b""


# Changes nothing; exempt so that the token decides every answer (a 404 when off, whatever
# the method).
@csrf_exempt
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = str(settings.METRICS_TOKEN)
    if not token:
        return problem_response(ProblemType.NOT_FOUND, instance=request.path)
    if not hmac.compare_digest(_bearer(request), token.encode()):
        return problem_response(
            ProblemType.NOT_AUTHENTICATED,
            detail="Send the metrics token as 'Authorization: Bearer <METRICS_TOKEN>'.",
            instance=request.path,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if request.method not in ("GET", "HEAD"):
        return problem_response(
            ProblemType.METHOD_NOT_ALLOWED,
            detail=f"{request.method} {request.path} is not allowed; use GET.",
            instance=request.path,
            headers={"Allow": "GET, HEAD"},
        )
    # The text format every Prometheus reads (the names need none of 1.0.0's escaping).
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4)
