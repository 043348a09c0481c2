"""Which request (or job) a log line belongs to, within a process and across them.

Everything about the request id lives here, so that tracing (OpenTelemetry) can reuse it:

- one context per request or job, in a context variable: its `request_id`, and the ids bound as
  they become known (`org_id`, `task_id`, the job's name and id); `current()` reads it, and
  `taskscore.core.logs.ContextFilter` copies it into every log record;
- `RequestContextMiddleware`: the request id is the incoming `X-Request-ID` when well-formed (1 to
  128 letters, digits and `._:-`, starting with a letter or digit), else a new one (32 hex
  digits); every response answers it as `X-Request-ID`, and one log line per request records
  the method, path, status and duration;
- Celery: a job enqueued while a context is current carries its request id as a message header
  (`before_task_publish`), and the worker restores it around the job (`task_prerun`,
  `task_postrun`), so a job's log lines carry the id of the request that enqueued it;
- threads: `submit_in_context` hands a callable to a thread pool with the caller's context (a
  pool's threads would otherwise log without it).
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar

from celery import signals
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_MAX_LENGTH = 128
# The Celery message header that carries the request id into a job.
CELERY_HEADER = "taskscore_request_id"

_WELL_FORMED = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{REQUEST_ID_MAX_LENGTH - 1}}}")
# A path segment that is an opaque secret (an invitation token): long, URL-safe, not a UUID.
_OPAQUE_SEGMENT = re.compile(
    r"(?<=/)(?![0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?:/|$))"
    r"[A-Za-z0-9_-]{24,}(?=/|$)"
)

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "taskscore_request_context", default=_EMPTY
)

access_logger = logging.getLogger("taskscore.request")

P = ParamSpec("P")
R = TypeVar("R")


# ---------------------------------------------------------------------------------- the context


def current() -> Mapping[str, Any]:
    """The current request's or job's ids (`request_id`, `org_id`, `task_id`, `job`, `job_id`:
    those known so far); empty outside any."""
    return _context.get()


def request_id() -> str | None:
    value = _context.get().get("request_id")
    return str(value) if value is not None else None


def bind(**ids: Any) -> None:
    """Add ids to the current context for the rest of the request or job (`org_id=…` once the
    org is known). None values are left out. Outside any request or job (a service called from
    a shell or a test) nothing is bound: the ids would outlive the work they describe."""
    bound = _context.get()
    if bound is not _EMPTY:
        _context.set(MappingProxyType({**bound, **_present(ids)}))


def begin(**ids: Any) -> contextvars.Token[Mapping[str, Any]]:
    """Start a new context with these ids (a request, a job); `end` it with the token."""
    return _context.set(MappingProxyType(_present(ids)))


def end(token: contextvars.Token[Mapping[str, Any]]) -> None:
    _context.reset(token)


def _present(ids: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in ids.items() if value is not None}


def request_id_accept(incoming: str | None) -> str:
    """`incoming` when it is a well-formed request id, else a new one."""
    if incoming and _WELL_FORMED.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def submit_in_context(
    pool: Executor, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
) -> Future[R]:
    """`pool.submit(fn, …)`, run in a copy of the caller's context (its request id included)."""
    context = contextvars.copy_context()

    def run() -> R:
        return context.run(fn, *args, **kwargs)

    return pool.submit(run)


def path_for_log(path: str) -> str:
    """A request path as logged: a segment that looks like a secret token (an invitation link's)
    is replaced by `[redacted]`."""
    return _OPAQUE_SEGMENT.sub("[redacted]", path)


# ---------------------------------------------------------------------------------- requests


class RequestContextMiddleware:
    """The request's context (first in MIDDLEWARE): its id, answered as `X-Request-ID` on every
    response, and one access log line when it is answered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_id_accept(request.META.get("HTTP_X_REQUEST_ID"))
        token = begin(request_id=rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = rid
            path = path_for_log(request.path)
            access_logger.info(
                "%s %s %d",
                request.method,
                path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            end(token)


# ---------------------------------------------------------------------------------- Celery jobs

# Tokens of the contexts begun for jobs running now, by Celery task id and thread (the threads
# pool runs several jobs at once, each in its own thread's context; a redelivered message may run
# the same job twice at once).
_job_tokens: dict[tuple[str, int], contextvars.Token[Mapping[str, Any]]] = {}


def _on_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    rid = request_id()
    if rid is not None and headers is not None:
        headers[CELERY_HEADER] = rid


def _on_job_start(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id is None or task is None:
        return
    incoming = getattr(task.request, CELERY_HEADER, None)
    # A job run in place (`apply()`, in tests) keeps the id of the context that runs it.
    rid = request_id_accept(incoming) if isinstance(incoming, str) and incoming else request_id()
    _job_tokens[task_id, threading.get_ident()] = begin(
        request_id=rid, job=task.name, job_id=task_id
    )


def _on_job_end(task_id: str | None = None, **_: Any) -> None:
    token = _job_tokens.pop((task_id, threading.get_ident()), None) if task_id else None
    if token is not None:
        end(token)


def celery_connect() -> None:
    """Carry request ids through Celery (called once, where the Celery app is made)."""
    signals.before_task_publish.connect(_on_publish, weak=False, dispatch_uid="taskscore-ctx-pub")
    signals.task_prerun.connect(_on_job_start, weak=False, dispatch_uid="taskscore-ctx-start")
    signals.task_postrun.connect(_on_job_end, weak=False, dispatch_uid="taskscore-ctx-end")
