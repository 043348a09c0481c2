"""Delivery against a real HTTP endpoint in this process: signatures the SDK and the app accept,
order kept per endpoint, retries with backoff, giving up, and never waiting forever."""

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import stripe
from aiohttp import web

from taskscore.integrations.stripe import webhook_event_verify
from taskscore.testing.processes import free_port
from taskscore.testing.stripe_standin.webhooks import (
    Endpoint,
    WebhookDeliverer,
    event_body,
    signature_header,
)

SECRET = "whsec_unit"


class FakeEvent:
    """What the deliverer needs of a localstripe Event."""

    def __init__(self, n: int) -> None:
        self.id = f"evt_{n}"
        self.type = "invoice.paid" if n % 2 else "customer.subscription.updated"
        self.pending_webhooks = 0

    def _export(self) -> dict[str, Any]:
        return {"id": self.id, "object": "event", "type": self.type, "created": 1_800_000_000,
                "data": {"object": {"id": f"obj_{self.id}"}}}  # fmt: skip


def test_the_signature_is_what_stripe_and_the_app_verify():
    body = event_body(FakeEvent(1)._export())
    header = signature_header(body, SECRET)
    stripe.WebhookSignature.verify_header(body.decode(), header, SECRET, 300)
    assert (
        webhook_event_verify(payload=body, signature_header=header, secret=SECRET)["id"] == "evt_1"
    )
    assert signature_header(body, SECRET, timestamp=42).startswith("t=42,v1=")


def test_endpoints_filter_event_types():
    assert Endpoint("a", "u", "s", None).wants("anything")
    assert Endpoint("a", "u", "s", ("*",)).wants("invoice.paid")
    assert not Endpoint("a", "u", "s", ("invoice.paid",)).wants("invoice.created")


def run(fail_first: int, *, attempts: int, events: int, wait: float) -> tuple[Any, list[Any]]:
    """Deliver `events` to an endpoint that answers 500 to its first `fail_first` requests."""
    seen: list[tuple[str, str, float]] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append((json.loads(body)["id"], request.headers["Stripe-Signature"], time.monotonic()))
        webhook_event_verify(
            payload=body, signature_header=request.headers["Stripe-Signature"], secret=SECRET
        )
        return web.Response(status=500 if len(seen) <= fail_first else 200)

    async def main() -> list[Any]:
        app = web.Application()
        app.router.add_post("/hook", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        endpoint = Endpoint("e", f"http://127.0.0.1:{port}/hook", SECRET, None)
        deliverer = WebhookDeliverer(
            attempts=attempts, backoff_seconds=0.05, timeout_seconds=2, endpoints=lambda: [endpoint]
        )
        deliveries = deliverer.publish([FakeEvent(n) for n in range(events)])
        await deliverer.settle(deliveries, timeout=wait)
        await deliverer.close()
        await runner.cleanup()
        return deliveries

    # A loop of its own, in a thread of its own: the browser tests' sync Playwright may have left
    # one running in this thread, and asyncio.run refuses to start under it.
    with ThreadPoolExecutor(1) as pool:
        deliveries = pool.submit(asyncio.run, main()).result()
    return seen, deliveries


def test_a_failing_endpoint_is_retried_and_later_events_wait_their_turn():
    seen, deliveries = run(fail_first=2, attempts=4, events=3, wait=5)
    assert [event_id for event_id, _, _ in seen] == ["evt_0", "evt_0", "evt_0", "evt_1", "evt_2"]
    assert [(d.status, d.attempts) for d in deliveries] == [
        ("delivered", 3), ("delivered", 1), ("delivered", 1),
    ]  # fmt: skip
    gaps = [seen[1][2] - seen[0][2], seen[2][2] - seen[1][2]]
    assert gaps[1] > gaps[0] >= 0.04  # backoff doubles


def test_delivery_gives_up_after_its_attempts_and_moves_on():
    _, deliveries = run(fail_first=3, attempts=3, events=2, wait=5)
    assert [(d.status, d.attempts, d.last_status) for d in deliveries] == [
        ("failed", 3, 500), ("delivered", 1, 200),
    ]  # fmt: skip


def test_waiting_for_deliveries_is_bounded():
    started = time.monotonic()
    _, deliveries = run(fail_first=100, attempts=20, events=1, wait=0.3)
    assert time.monotonic() - started < 3
    assert deliveries[0].status == "pending"
