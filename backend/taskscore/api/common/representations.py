"""Rendered representations kept in the cache under their ETag.

A GET whose ETag comes from one cheap query (`tasks.selectors.task_list_version`) can answer from
the JSON rendered for that ETag by an earlier request: the key changes with every write to what
the representation shows (the ETag covers it), so nothing needs invalidating and a stale body
cannot be served; old keys expire (REPRESENTATION_CACHE_SECONDS). A representation here must
not depend on who asks (a task's does not: every reader of the org sees the same task).

Bodies are rendered the way django-ninja renders an operation's result (the schema validates
the data, `NinjaJSONEncoder` writes it), so a body from the cache and one built now are the same
bytes. The cache is an accelerator: when Redis fails, the representation is built as if missing.

Each process also keeps the bodies it served last in memory (REPRESENTATION_MEMORY_BYTES): a body
never changes under its ETag, so that copy is as good as Redis's and saves the round trip (a
tenth of a task's GET).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from ninja.responses import NinjaJSONEncoder
from pydantic import BaseModel

from taskscore.api.common.conditional import validators_set

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def _key(etag: str) -> str:
    return f"repr:{etag}"


class RecentBodies:
    """The bodies a process served last, by ETag, within a budget of bytes (least recently used
    out first); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(etag)
            if body is not None:
                self._bodies.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes, *, budget: int) -> None:
        if len(body) > budget // 4:  # one body never takes most of the room
            return
        with self._lock:
            if etag in self._bodies:
                return
            self._bodies[etag] = body
            self._size += len(body)
            while self._size > budget:
                _, dropped = self._bodies.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()
            self._size = 0


recent = RecentBodies()


def representation_get(etag: str) -> bytes | None:
    """The body rendered for `etag`, or None (not kept, expired, the cache off or failing)."""
    if settings.REPRESENTATION_CACHE_SECONDS <= 0:
        return None
    budget = settings.REPRESENTATION_MEMORY_BYTES
    if budget > 0 and (body := recent.get(etag)) is not None:
        return body
    try:
        body = cache.get(_key(etag))
    except Exception as exc:  # noqa: BLE001 - any cache failure: build the body instead
        logger.warning("representation cache unavailable: %s", type(exc).__name__)
        return None
    if not isinstance(body, bytes):
        return None
    if budget > 0:
        recent.put(etag, body, budget=budget)
    return body


def representation_put(etag: str, body: bytes) -> None:
    if settings.REPRESENTATION_CACHE_SECONDS <= 0:
        return
    if settings.REPRESENTATION_MEMORY_BYTES > 0:
        recent.put(etag, body, budget=settings.REPRESENTATION_MEMORY_BYTES)
    try:
        cache.set(_key(etag), body, timeout=settings.REPRESENTATION_CACHE_SECONDS)
    except Exception as exc:  # noqa: BLE001 - the answer does not depend on the cache
        logger.warning("representation cache unavailable: %s", type(exc).__name__)


def render(schema: type[BaseModel], data: Any) -> bytes:
    """`data` validated by `schema` and written as django-ninja writes a response body."""
    return json.dumps(schema.model_validate(data).model_dump(), cls=NinjaJSONEncoder).encode()


def json_response(body: bytes, etag: str) -> HttpResponse:
    """A 200 with `body` and its validators (ETag, Cache-Control)."""
    response = HttpResponse(body, content_type=JSON_CONTENT_TYPE)
    validators_set(response, etag)
    return response
