"""Conditional GETs (RFC 9110 §13.1.2): a weak ETag made from what a representation depends on,
and a 304 Not Modified when the client already has it, answered before the representation is
built. A polling client (the web app's live task list) then costs one cheap query per poll while
nothing changed, and no body.

Browsers do this on their own for `fetch`: they keep the body, send `If-None-Match`, and hand
the kept body back on a 304. `Cache-Control: private, no-cache` lets them keep it but makes them
ask every time (nothing stale is shown), and keeps shared caches out."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_etags

CACHE_CONTROL = "private, no-cache"


def etag_of(kind: str, parts: Iterable[object]) -> str:
    """A weak ETag over `parts` (their str), for a representation of `kind` (which names the
    representation's version too: change it when the body for the same data changes)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(kind.encode())
    for part in parts:
        digest.update(b"\x1f")
        digest.update(str(part).encode())
    return f'W/"{digest.hexdigest()}"'


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def if_none_match(request: HttpRequest) -> list[str]:
    """The entity tags of the request's If-None-Match (["*"] for any), or [] without one."""
    header = request.headers.get("If-None-Match", "")
    return parse_etags(header) if header else []


def not_modified(request: HttpRequest, etag: str) -> HttpResponse | None:
    """A 304 carrying `etag` when the request's If-None-Match names it (weak comparison), or
    None: build the representation."""
    tags = if_none_match(request)
    if "*" in tags or _opaque(etag) in {_opaque(tag) for tag in tags}:
        response = HttpResponse(status=304)
        validators_set(response, etag)
        return response
    return None


def validators_set(response: HttpResponse, etag: str) -> None:
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
