"""Webhook delivery as Stripe does it: the event's JSON POSTed to each registered endpoint with a
`Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>" under the endpoint's secret>`
header, signed afresh for each attempt; any answer but a 2xx (or no answer) is retried with
exponential backoff.

Unlike Stripe, which promises no order and retries for three days, each endpoint gets its events
one at a time in the order they were emitted (a retry holds back the ones after it), and gives
up after `attempts`: the event stays in `GET /v1/events` for `stripe_reconcile`. Endpoints are
localstripe's registry (`POST /_config/webhooks/{id}` with url and secret)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

logger = logging.getLogger("stripe_standin.webhooks")

MAX_BACKOFF_SECONDS = 8.0
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def signature_header(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<payload>">`, as Stripe signs."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event_body(event: dict[str, Any]) -> bytes:
    """The delivered JSON (indented, as Stripe sends it)."""
    return json.dumps(event, indent=2, sort_keys=True).encode()


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    secret: str
    event_types: tuple[str, ...] | None  # None: every event

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or any(t in ("*", event_type) for t in self.event_types)


def localstripe_endpoints() -> list[Endpoint]:
    """The endpoints registered with localstripe's `/_config/webhooks/{id}`."""
    from localstripe import webhooks  # type: ignore[import-untyped]

    return [
        Endpoint(
            id=str(endpoint_id),
            url=str(hook.url),
            secret=str(hook.secret),
            event_types=tuple(hook.events) if hook.events is not None else None,
        )
        for endpoint_id, hook in webhooks._webhooks.items()
    ]


@dataclass
class Delivery:
    """One event for one endpoint."""

    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    body: bytes = field(repr=False)
    secret: str = field(repr=False)
    status: str = "pending"  # pending, delivered, failed
    attempts: int = 0
    last_status: int | None = None
    last_error: str = ""
    settled: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.event_type,
            "endpoint": self.endpoint_id,
            "url": self.url,
            "status": self.status,
            "attempts": self.attempts,
            "last_status": self.last_status,
            "last_error": self.last_error,
        }


class WebhookDeliverer:
    def __init__(
        self,
        *,
        attempts: int,
        backoff_seconds: float,
        timeout_seconds: float,
        endpoints: Callable[[], list[Endpoint]] = localstripe_endpoints,
        log_size: int = 500,
    ) -> None:
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self._endpoints = endpoints
        self._queues: dict[str, asyncio.Queue[Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None
        self.log: deque[Delivery] = deque(maxlen=log_size)

    def publish(self, events: Iterable[Any]) -> list[Delivery]:
        """Queue each event (a localstripe `Event`) for every endpoint that wants it. Call from
        inside the running event loop."""
        deliveries: list[Delivery] = []
        endpoints = self._endpoints()
        for event in events:
            wanted = [e for e in endpoints if e.wants(event.type)]
            event.pending_webhooks = len(wanted)
            body = event_body(event._export())
            for endpoint in wanted:
                delivery = Delivery(
                    event_id=event.id, event_type=event.type, endpoint_id=endpoint.id,
                    url=endpoint.url, body=body, secret=endpoint.secret,
                )  # fmt: skip
                self._queue_for(endpoint.id).put_nowait(delivery)
                self.log.append(delivery)
                deliveries.append(delivery)
        return deliveries

    async def settle(self, deliveries: Iterable[Delivery], *, timeout: float) -> bool:
        """Wait until each delivery succeeded or was given up, at most `timeout` seconds. True
        when all were delivered."""
        waiting = [d for d in deliveries if not d.settled.is_set()]
        if waiting:
            tasks = [asyncio.create_task(d.settled.wait()) for d in waiting]
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
        return all(d.status == "delivered" for d in deliveries)

    async def close(self) -> None:
        for worker in self._workers.values():
            worker.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    # ------------------------------------------------------------------------- internals

    def _queue_for(self, endpoint_id: str) -> asyncio.Queue[Delivery]:
        queue = self._queues.get(endpoint_id)
        if queue is None:
            queue = self._queues[endpoint_id] = asyncio.Queue()
            self._workers[endpoint_id] = asyncio.create_task(self._run(queue))
        return queue

    async def _run(self, queue: asyncio.Queue[Delivery]) -> None:
        while True:
            delivery = await queue.get()
            try:
                await self._deliver(delivery)
            finally:
                delivery.settled.set()
                queue.task_done()

    async def _deliver(self, delivery: Delivery) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_seconds)
            )
        for attempt in range(self.attempts):
            if attempt:
                delay = min(MAX_BACKOFF_SECONDS, self.backoff_seconds * 2 ** (attempt - 1))
                await asyncio.sleep(delay)
            delivery.attempts += 1
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "Stripe-Signature": signature_header(delivery.body, delivery.secret),
            }
            try:
                async with self._session.post(
                    delivery.url, data=delivery.body, headers=headers, allow_redirects=False
                ) as response:
                    await response.read()
                    delivery.last_status = response.status
                    delivery.last_error = ""
                    if 200 <= response.status < 300:
                        delivery.status = "delivered"
                        logger.info(
                            "%s %s → %s: %d (attempt %d)", delivery.event_type,
                            delivery.event_id, delivery.endpoint_id, response.status, attempt + 1,
                        )  # fmt: skip
                        return
            except (aiohttp.ClientError, TimeoutError) as exc:
                delivery.last_status = None
                delivery.last_error = f"{type(exc).__name__}: {exc}"[:300]
            logger.warning(
                "%s %s → %s failed (attempt %d of %d): %s", delivery.event_type,
                delivery.event_id, delivery.endpoint_id, attempt + 1, self.attempts,
                delivery.last_error or delivery.last_status,
            )  # fmt: skip
        delivery.status = "failed"
