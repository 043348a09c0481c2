"""Rendered representations kept in the cache under their ETag.

A GET whose ETag comes from one cheap query (`tasks.selectors.task_list_version`) can answer from
the JSON rendered for that ETag by an earlier request: the key changes with every write to what
the representation shows (the ETag covers it), so nothing needs invalidating and a stale body
cannot be served; old keys expire (REPRESENTATION_CACHE_SECONDS). A representation here must
not depend on who asks (a task's does not: every reader of the org sees the same task).

Bodies are rendered the way django-ninja renders an operation's result (the schema validates
the data, `NinjaJSONEncoder` writes it), so a body from the cache and one built now are the same
bytes. The cache is an accelerator: when Redis fails, the representation is built as if missing.
"""

from __future__ import annotations

import json
import logging
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


def representation_get(etag: str) -> bytes | None:
    """The body rendered for `etag`, or None (not kept, expired, the cache off or failing)."""
    if settings.REPRESENTATION_CACHE_SECONDS <= 0:
        return None
    try:
        body = cache.get(_key(etag))
    except Exception as exc:  # noqa: BLE001 - any cache failure: build the body instead
        logger.warning("representation cache unavailable: %s", type(exc).__name__)
        return None
    return body if isinstance(body, bytes) else None


def representation_put(etag: str, body: bytes) -> None:
    if settings.REPRESENTATION_CACHE_SECONDS <= 0:
        return
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
