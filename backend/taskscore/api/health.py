"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from kombu import Connection
from redis import Redis

from taskscore.api.common.problems import problem_response
from taskscore.core.errors import ProblemType


def _check_postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _ping(url: str) -> None:
    Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()


def _check_broker() -> None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=1) as conn:
        conn.ensure_connection(max_retries=0)


def _checks() -> list[tuple[str, str, Callable[[], None]]]:
    """Each dependency by its role, with what it probes: a Redis role on a URL of its own gets
    its own ping; roles that share a URL share one (docs/operations.md, "Redis")."""
    redis_roles = {
        "redis": settings.REDIS_URL,
        "permission_cache": settings.RBAC_REDIS_URL,
        "ai_cache": settings.AI_CACHE_REDIS_URL,
    }
    return [
        ("postgres", "postgres", _check_postgres),
        *((name, url, functools.partial(_ping, url)) for name, url in redis_roles.items()),
        ("broker", "broker", _check_broker),
    ]


logger = logging.getLogger(__name__)


def _json(body: dict[str, object], status: int) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and serving; checks no dependency."""
    return _json({"status": "ok"}, 200)


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Every dependency answers; 503 naming the ones that do not. The answer says which, never
    why: an error's text (hosts, ports, users, versions) is logged, not shown."""
    results: dict[str, str] = {}
    by_target: dict[str, str] = {}
    for name, target, check in _checks():
        if target in by_target:
            results[name] = by_target[target]
            continue
        try:
            check()
            results[name] = "ok"
        except Exception:  # any failure means "not ready"
            logger.warning("readiness: %s does not answer", name, exc_info=True)
            results[name] = "error"
        by_target[target] = results[name]
    failing = [name for name, result in results.items() if result != "ok"]
    if failing:
        return problem_response(
            ProblemType.NOT_READY,
            detail=f"Unreachable: {', '.join(failing)}.",
            extra={"checks": results},
        )
    return _json({"status": "ok", "checks": results}, 200)
