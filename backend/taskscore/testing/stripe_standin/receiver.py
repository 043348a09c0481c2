"""A webhook endpoint on loopback for tests and benchmarks: it records each delivery with whether
its `Stripe-Signature` verifies (through the `stripe` SDK, as the app checks it), and can be told
to fail the next deliveries.

    with WebhookReceiver(secret) as receiver:
        receiver.url                       # register it with the stand-in
        receiver.fail_next(2)              # the next two deliveries answer 500
        receiver.wait_for(lambda events: ..., timeout=10)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import stripe


@dataclass(frozen=True)
class Received:
    event: dict[str, Any]
    body: bytes
    signature: str
    is_signed: bool  # the signature verifies with the receiver's secret
    answered: int  # the status this delivery got


def customer_of(event: dict[str, Any]) -> str:
    """The customer an event is about (its object's `customer`, or the customer itself)."""
    obj = event["data"]["object"]
    if obj.get("object") == "customer":
        return str(obj.get("id") or "")
    customer = obj.get("customer")
    return str(customer.get("id") if isinstance(customer, dict) else customer or "")


class WebhookReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._failures: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                signature = self.headers.get("Stripe-Signature") or ""
                status = receiver._record(body, signature)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _record(self, body: bytes, signature: str) -> int:
        try:
            stripe.WebhookSignature.verify_header(body.decode(), signature, self.secret, 300)
            is_signed = True
        except (stripe.SignatureVerificationError, UnicodeDecodeError):
            is_signed = False
        with self._lock:
            status = self._failures.pop(0) if self._failures else 200
            event = json.loads(body)
            self._received.append(Received(event, body, signature, is_signed, status))
        return status

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/stripe"

    def fail_next(self, count: int, *, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def received(self, *, customer: str | None = None) -> list[Received]:
        """Every delivery (failed ones included), in arrival order."""
        with self._lock:
            items = list(self._received)
        return [r for r in items if customer is None or customer_of(r.event) == customer]

    def events(self, *, customer: str | None = None) -> list[dict[str, Any]]:
        """The events acknowledged (2xx), in arrival order."""
        return [r.event for r in self.received(customer=customer) if 200 <= r.answered < 300]

    def wait_for(
        self,
        predicate: Callable[[list[dict[str, Any]]], bool],
        *,
        customer: str | None = None,
        timeout: float = 15.0,
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(customer=customer)
            if predicate(events):
                return events
            if time.monotonic() > deadline:
                types = [e["type"] for e in events]
                raise TimeoutError(f"webhooks not as expected after {timeout} s: {types}")
            time.sleep(0.05)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
