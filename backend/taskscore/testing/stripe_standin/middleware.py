"""The middlewares of every route: localstripe's API-key check for `/v1/`, Stripe's
`Idempotency-Key` (a repeated key returns the first 2xx answer, marked `Idempotent-Replayed`; the
same key with other parameters is refused; concurrent requests with one key wait for the first),
and marking the state to be saved after a write."""

from __future__ import annotations

import hashlib
import time
import weakref
from asyncio import Lock
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from localstripe import server as ls_server  # type: ignore[import-untyped]

from taskscore.testing.stripe_standin.api import STANDIN, json_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """localstripe's API-key check for the API; the pages and `/_standin/` need none."""
    if request.path.startswith("/v1/"):
        response: web.StreamResponse = await ls_server.auth_middleware(request, handler)
        return response
    return await handler(request)


@dataclass(frozen=True)
class _Replay:
    fingerprint: str
    status: int
    body: bytes
    stored_at: float


class IdempotencyCache:
    def __init__(self, *, ttl_seconds: float = 24 * 3600, size: int = 20_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.size = size
        self._replays: OrderedDict[str, _Replay] = OrderedDict()
        self._locks: weakref.WeakValueDictionary[str, Lock] = weakref.WeakValueDictionary()

    def lock(self, key: str) -> Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = Lock()
            self._locks[key] = lock
        return lock

    def get(self, key: str) -> _Replay | None:
        replay = self._replays.get(key)
        if replay is not None and time.monotonic() - replay.stored_at > self.ttl_seconds:
            del self._replays[key]
            return None
        return replay

    def put(self, key: str, replay: _Replay) -> None:
        self._replays[key] = replay
        while len(self._replays) > self.size:
            self._replays.popitem(last=False)


IDEMPOTENCY = web.AppKey("idempotency", IdempotencyCache)


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key", "")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    cache = request.app[IDEMPOTENCY]
    body = await request.read()
    fingerprint = hashlib.sha256(request.path.encode() + b"\n" + body).hexdigest()
    async with cache.lock(key):
        replay = cache.get(key)
        if replay is not None:
            if replay.fingerprint != fingerprint:
                message = (
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request."
                )
                error = {"error": {"type": "idempotency_error", "message": message}}
                return json_response(error, status=400)
            return web.Response(
                body=replay.body,
                status=replay.status,
                content_type="application/json",
                headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
            )
        response = await handler(request)
        if isinstance(response, web.Response) and 200 <= response.status < 300:
            raw = response.body
            if isinstance(raw, bytes):
                cache.put(key, _Replay(fingerprint, response.status, raw, time.monotonic()))
        return response


@web.middleware
async def changes_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Any write marks the state to be saved."""
    try:
        return await handler(request)
    finally:
        if request.method in ("POST", "DELETE"):
            request.app[STANDIN].is_dirty = True
