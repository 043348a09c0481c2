"""A fake Stripe API on loopback for what localstripe lacks: Checkout sessions, billing-portal
sessions and billing meter events (plus customers, so one server covers a checkout).

It answers in Stripe's JSON shapes, honours `Idempotency-Key` (the same key on the same path
returns the first response), records every request, and can be told to fail:

    with FakeStripeServer() as fake:
        fake.url                     # "http://127.0.0.1:PORT" (STRIPE_API_BASE)
        fake.fail_next(503, count=2) # the next two requests answer 503
        fake.requests                # [(method, path, params, headers)]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class _State:
    requests: list[RecordedRequest] = field(default_factory=list)
    idempotent: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    failures: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _new_object(path: str, params: dict[str, str]) -> dict[str, Any] | None:
    suffix = uuid.uuid4().hex[:14]
    if path == "/v1/customers":
        return {"id": f"cus_{suffix}", "object": "customer", "name": params.get("name", "")}
    if path == "/v1/checkout/sessions":
        return {
            "id": f"cs_test_{suffix}",
            "object": "checkout.session",
            "mode": params.get("mode"),
            "customer": params.get("customer"),
            "client_reference_id": params.get("client_reference_id"),
            "url": f"https://checkout.stripe.test/c/pay/cs_test_{suffix}",
        }
    if path == "/v1/billing_portal/sessions":
        return {
            "id": f"bps_{suffix}",
            "object": "billing_portal.session",
            "customer": params.get("customer"),
            "return_url": params.get("return_url"),
            "url": f"https://billing.stripe.test/p/session/bps_{suffix}",
        }
    if path == "/v1/billing/meter_events":
        return {
            "object": "billing.meter_event",
            "identifier": params.get("identifier"),
            "event_name": params.get("event_name"),
        }
    return None


class FakeStripeServer:
    def __init__(self) -> None:
        self.state = _State()
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                params = dict(parse_qsl(raw, keep_blank_values=True))
                path = urlsplit(self.path).path
                headers = {k.lower(): v for k, v in self.headers.items()}
                with state.lock:
                    state.requests.append(RecordedRequest("POST", path, params, headers))
                    if state.failures:
                        status = state.failures.pop(0)
                        self._answer(status, {"error": {"type": "api_error", "message": "fake"}})
                        return
                    key = (path, headers.get("idempotency-key", ""))
                    if key[1] and key in state.idempotent:
                        self._answer(200, state.idempotent[key])
                        return
                    body = _new_object(path, params)
                    if body is None:
                        msg = {"type": "invalid_request_error", "message": f"No route {path}"}
                        self._answer(404, {"error": msg})
                        return
                    if key[1]:
                        state.idempotent[key] = body
                self._answer(200, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll, so that leaving the `with` block (shutdown) takes milliseconds, not the
        # default half second: tests start one of these per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    def fail_next(self, status: int, *, count: int = 1) -> None:
        with self.state.lock:
            self.state.failures.extend([status] * count)

    def __enter__(self) -> FakeStripeServer:
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


# ------------------------------------------------------------------- signed events for tests


def sign_header(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe builds it: `t=<ts>,v1=<HMAC-SHA256>`."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event_payload(*, event_id: str, type: str, created: int, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "type": type,
        "data": {"object": obj},
    }


def subscription_object(
    *,
    subscription_id: str,
    customer: str,
    price: str,
    status: str,
    created: int,
    period_start: int,
    period_end: int,
    cancel_at_period_end: bool = False,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A subscription in the current API's shape (the period on the item)."""
    return {
        "id": subscription_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "created": created,
        "cancel_at_period_end": cancel_at_period_end,
        "metadata": metadata or {},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{subscription_id}",
                    "price": {"id": price, "object": "price"},
                    "current_period_start": period_start,
                    "current_period_end": period_end,
                }
            ],
        },
    }


def invoice_object(
    *,
    invoice_id: str,
    customer: str,
    subscription: str,
    status: str,
    created: int,
    amount: int = 2900,
) -> dict[str, Any]:
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": customer,
        "subscription": subscription,
        "status": status,
        "created": created,
        "currency": "usd",
        "number": f"N-{invoice_id}",
        "amount_due": amount,
        "amount_paid": amount if status == "paid" else 0,
        "hosted_invoice_url": f"https://invoice.stripe.test/{invoice_id}",
    }


def subscription_lifecycle(
    *, org_id: int, customer: str, prefix: str, start: int, pro_price: str, business_price: str
) -> list[dict[str, Any]]:
    """The events of one org's billing life, in Stripe's order: checkout, a Pro subscription
    that goes active (created and updated in the same second, as Stripe does), is set to cancel
    and back, fails a renewal (past_due), recovers, is deleted, then a Business subscription.
    Ends with an event type nobody handles. Final state: Business, active, cancel at period end.
    """
    sub1, sub2 = f"sub_{prefix}_1", f"sub_{prefix}_2"
    month = 30 * 86400
    n = 0

    def ev(type: str, created: int, obj: dict[str, Any]) -> dict[str, Any]:
        nonlocal n
        n += 1
        return event_payload(event_id=f"evt_{prefix}_{n:03d}", type=type, created=created, obj=obj)

    def sub(sid: str, price: str, status: str, at: int, **kw: Any) -> dict[str, Any]:
        period = kw.pop("period", start)
        return subscription_object(
            subscription_id=sid, customer=customer, price=price, status=status,
            created=start if sid == sub1 else start + 201, period_start=period,
            period_end=period + month, metadata={"org_id": str(org_id)}, **kw,
        )  # fmt: skip

    def inv(iid: str, sid: str, status: str, at: int) -> dict[str, Any]:
        return invoice_object(
            invoice_id=iid, customer=customer, subscription=sid, status=status, created=at
        )

    renewal = start + 100
    checkout = {
        "id": f"cs_{prefix}", "object": "checkout.session", "mode": "subscription",
        "customer": customer, "subscription": sub1, "client_reference_id": str(org_id),
        "metadata": {"org_id": str(org_id), "plan": "pro"},
    }  # fmt: skip
    return [
        ev("checkout.session.completed", start + 1, checkout),
        ev("customer.subscription.created", start + 1, sub(sub1, pro_price, "incomplete", 1)),
        ev("customer.subscription.updated", start + 1, sub(sub1, pro_price, "active", 1)),
        ev("invoice.paid", start + 2, inv(f"in_{prefix}_1", sub1, "paid", start + 1)),
        ev(
            "customer.subscription.updated",
            start + 5,
            sub(sub1, pro_price, "active", 5, cancel_at_period_end=True),
        ),
        ev("customer.subscription.updated", start + 6, sub(sub1, pro_price, "active", 6)),
        ev(
            "customer.subscription.updated",
            renewal,
            sub(sub1, pro_price, "past_due", 100, period=renewal),
        ),
        ev("invoice.payment_failed", renewal, inv(f"in_{prefix}_2", sub1, "open", renewal)),
        ev(
            "customer.subscription.updated",
            renewal + 3,
            sub(sub1, pro_price, "active", 103, period=renewal),
        ),
        ev("invoice.paid", renewal + 3, inv(f"in_{prefix}_2", sub1, "paid", renewal)),
        ev(
            "customer.subscription.deleted",
            start + 200,
            sub(sub1, pro_price, "canceled", 200, period=renewal),
        ),
        ev(
            "customer.subscription.created",
            start + 201,
            sub(sub2, business_price, "active", 201, period=start + 201),
        ),
        ev("invoice.paid", start + 202, inv(f"in_{prefix}_3", sub2, "paid", start + 201)),
        ev("customer.tax_id.created", start + 203, {"id": f"txi_{prefix}", "object": "tax_id"}),
        ev(
            "customer.subscription.updated",
            start + 300,
            sub(sub2, business_price, "active", 300, period=start + 201, cancel_at_period_end=True),
        ),
    ]
