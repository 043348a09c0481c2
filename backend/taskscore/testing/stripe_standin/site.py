"""The pages a person uses, as Stripe hosts them: Checkout at a session's `url`, an invoice at
its `hosted_invoice_url`, and an index at `/` (the customer portal is in `portal`).
Forms post back (no script); each change waits up to `redirect_wait_seconds` for its webhooks,
then redirects (post/redirect/get), so that the app has the news when the person gets back.

Control routes for tests: `GET /_standin/deliveries`, `GET /_standin/meter_events`,
`DELETE /_config/data` (forget everything but the prices and endpoints)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import localstripe.resources as ls  # type: ignore[import-untyped]
from aiohttp import web

from taskscore.testing.stripe_standin.api import STANDIN
from taskscore.testing.stripe_standin.cards import (
    CardEntry,
    FieldProblem,
    card_parse,
    checkout_decline,
)
from taskscore.testing.stripe_standin.layout import InvoiceView, PriceView, message_html
from taskscore.testing.stripe_standin.objects import CheckoutSession
from taskscore.testing.stripe_standin.render import (
    CheckoutView,
    IndexView,
    InvoicePageView,
    checkout_html,
    index_html,
    invoice_html,
)
from taskscore.testing.stripe_standin.state import Standin
from taskscore.testing.stripe_standin.webhooks import Delivery, localstripe_endpoints

HEADERS = {
    # Nothing is loaded from anywhere: no script at all, styles inline only.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
CARD_FIELDS = ("card_number", "card_expiry", "card_name")  # echoed back on an error (not CVC)


def html(text: str, *, status: int = 200, outcome: str = "") -> web.Response:
    """A page. A form shown again with a problem answers 200 (a browser logs every 4xx page as
    a console error) and names the problem in `X-Standin-Outcome`: invalid, declined, refused."""
    headers = HEADERS | ({"X-Standin-Outcome": outcome} if outcome else {})
    return web.Response(
        text=text, status=status, content_type="text/html", charset="utf-8", headers=headers
    )


def not_found(what: str) -> web.Response:
    return html(
        message_html(f"No such {what}", f"This {what} does not exist (or the stand-in was "
                     "restarted: it keeps its state in memory)."),
        status=404,
    )  # fmt: skip


def price_view(standin: Standin, price_id: str) -> PriceView:
    plan = standin.ledger.price_get(price_id)
    spec = standin.ledger.price_spec(price_id)
    return PriceView(
        id=plan.id,
        name=str(plan.name or plan.nickname or plan.id),
        amount=int(plan.amount),
        currency=str(plan.currency),
        interval=str(plan.interval),
        metered=plan.usage_type == "metered",
        unit_label=spec.unit_label if spec else "unit",
    )


def invoice_view(standin: Standin, invoice: Any) -> InvoiceView:
    return InvoiceView(
        id=invoice.id,
        number=str(getattr(invoice, "number", None) or invoice.id),
        created=int(invoice.created),
        amount_due=int(invoice.amount_due),
        amount_paid=int(invoice.amount_paid),
        currency=str(invoice.currency),
        status=str(invoice.status),
        url=str(
            getattr(invoice, "hosted_invoice_url", None)
            or f"{standin.config.base_url}/invoice/{invoice.id}"
        ),
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        lines=[(str(line.description), int(line.amount)) for line in invoice.lines._list],
        attempt_count=int(invoice.attempt_count or 0),
    )


def card_label(payment_method: Any | None) -> str:
    if payment_method is None or payment_method.type != "card":
        return ""
    brand = str(payment_method.card.get("brand") or "card").capitalize()
    return f"{brand} •••• {payment_method.card['last4']}"


def delivery_note(standin: Standin, deliveries: list[Delivery]) -> dict[str, str]:
    delivered = sum(1 for d in deliveries if d.status == "delivered")
    return {"sent": str(delivered), "pending": str(len(deliveries) - delivered)}


def delivery_text(standin: Standin, query: Any) -> str:
    sent, pending = query.get("sent", ""), query.get("pending", "")
    if not (sent.isdigit() and pending.isdigit()):
        return ""
    merchant = standin.config.merchant_name
    text = f" {sent} webhook event{'s' if sent != '1' else ''} delivered to {merchant}."
    if int(pending):
        text += f" {pending} not delivered yet (retrying; see {standin.config.base_url}/)."
    return text


# ---------------------------------------------------------------------------- checkout


def _checkout_view(
    standin: Standin,
    session: CheckoutSession,
    *,
    values: dict[str, str] | None = None,
    problems: list[FieldProblem] | None = None,
    decline: str = "",
) -> CheckoutView:
    email, locked = session.customer_email or "", bool(session.customer_email)
    if session.customer is not None:
        customer = ls.store.get(f"customer:{session.customer}")
        if customer is not None and customer.email:
            email, locked = str(customer.email), True
    return CheckoutView(
        session_id=session.id,
        merchant=standin.config.merchant_name,
        price=price_view(standin, session.price),
        quantity=session.quantity,
        due_today=session.amount_total,
        trial_end=session.trial_end,
        cancel_url=session.cancel_url,
        email=email,
        email_locked=locked,
        values=values or {},
        problems=problems or [],
        decline=decline,
    )


def _success_target(session: CheckoutSession) -> str:
    if session.success_url:
        return session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)
    return f"/checkout/{session.id}/complete"


def _expired(session: CheckoutSession) -> web.Response:
    link = (session.cancel_url, "Return") if session.cancel_url else None
    return html(
        message_html("This Checkout session has expired", "Start again from the app.", link=link),
        status=410,
    )


async def checkout_get(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    session = standin.checkout_session(request.match_info["id"])
    if session is None:
        return not_found("Checkout session")
    if session.status == "complete":
        raise web.HTTPSeeOther(_success_target(session))
    if session.status == "expired":
        return _expired(session)
    return html(checkout_html(_checkout_view(standin, session)))


async def checkout_complete_get(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    session = standin.checkout_session(request.match_info["id"])
    if session is None or session.status != "complete":
        return not_found("completed Checkout session")
    return html(message_html("Subscribed", "The subscription has started. You can close this."))


async def checkout_post(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    session = standin.checkout_session(request.match_info["id"])
    if session is None:
        return not_found("Checkout session")
    form = await request.post()
    values = {key: str(form.get(key, "")) for key in ("email", *CARD_FIELDS)}
    async with standin.turn(session.customer or session.id):
        session.refresh(int(time.time()))
        if session.status == "complete":  # a second submit: the first one won
            raise web.HTTPSeeOther(_success_target(session))
        if session.status == "expired":
            return _expired(session)
        view = _checkout_view(standin, session)
        email = view.email
        problems: list[FieldProblem] = []
        if not view.email_locked:
            email = values["email"].strip()
            is_valid = "@" in email and "." in email.rsplit("@", 1)[-1]
            if (email or session.customer is None) and not is_valid:
                problems.append(FieldProblem("email", "Enter a valid email address."))
        card, card_problems = card_parse(
            number=values["card_number"], expiry=values["card_expiry"],
            cvc=str(form.get("card_cvc", "")), name=values["card_name"],
            now=datetime.now(UTC),
        )  # fmt: skip
        problems += card_problems
        if problems or card is None:
            view = _checkout_view(standin, session, values=values, problems=problems)
            return html(checkout_html(view), outcome="invalid")
        decline = checkout_decline(card)
        if decline:
            view = _checkout_view(standin, session, values=values, decline=decline)
            return html(checkout_html(view), outcome="declined")
        standin.ledger.checkout_complete(session, card, email=email, now=int(time.time()))
        deliveries = standin.flush()
    await standin.settle(deliveries)
    raise web.HTTPSeeOther(_success_target(session))


# ---------------------------------------------------------------------------- shared by the pages


NOTICES = {
    "switched": "Plan changed.",
    "canceled": "Canceled: the subscription ends at the end of the period.",
    "resumed": "The subscription will renew.",
    "renewed": "A new period started.",
    "ended": "The subscription ended.",
    "failed": "The payment failed: the subscription is past due.",
    "paid": "The invoice is paid.",
    "pay_failed": "The payment failed: the card was declined.",
}


def card_from_form(form: Any) -> tuple[CardEntry | None, list[FieldProblem], str]:
    """The new card of a pay form: the card, or the form's problems, or a decline."""
    card, problems = card_parse(
        number=str(form.get("card_number", "")), expiry=str(form.get("card_expiry", "")),
        cvc=str(form.get("card_cvc", "")), name=str(form.get("card_name", "")),
        now=datetime.now(UTC),
    )  # fmt: skip
    if card is None:
        return None, problems, ""
    return card, [], checkout_decline(card)


@dataclass(frozen=True)
class CardRefusal:
    """A pay form's new card that cannot pay: the fields to show again and why."""

    values: dict[str, str]
    problems: list[FieldProblem]
    decline: str

    @property
    def outcome(self) -> str:
        return "declined" if self.decline else "invalid"


def pay_card(form: Any) -> tuple[CardEntry | None, CardRefusal | None]:
    """The card a pay form chose (the portal's, the hosted invoice's): None for the card on
    file, or the new card; a refusal when the new card is invalid or declined."""
    if form.get("with") != "new_card":
        return None, None
    card, problems, decline = card_from_form(form)
    if problems or decline:
        values = {key: str(form.get(key, "")) for key in CARD_FIELDS}
        return None, CardRefusal(values=values, problems=problems, decline=decline)
    return card, None


# ---------------------------------------------------------------------------- invoices


async def invoice_get(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    invoice = standin.ledger.invoice_get(request.match_info["id"])
    if invoice is None:
        return not_found("invoice")
    notice = NOTICES.get(request.query.get("done", ""), "")
    if notice:
        notice += delivery_text(standin, request.query)
    return html(invoice_html(_invoice_page(standin, invoice, notice=notice)))


def _invoice_page(standin: Standin, invoice: Any, **kwargs: Any) -> InvoicePageView:
    customer = standin.ledger.customer_get(invoice.customer)
    return InvoicePageView(
        merchant=standin.config.merchant_name,
        invoice=invoice_view(standin, invoice),
        card=card_label(standin.ledger.card_on_file(customer)),
        **kwargs,
    )


async def invoice_post(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    invoice = standin.ledger.invoice_get(request.match_info["id"])
    if invoice is None:
        return not_found("invoice")
    form = await request.post()
    async with standin.turn(invoice.customer):
        if invoice.status != "open":
            view = _invoice_page(standin, invoice, error="This invoice is not open.")
            return html(invoice_html(view), outcome="refused")
        card, refused = pay_card(form)
        if refused is not None:
            view = _invoice_page(
                standin, invoice, error=refused.decline, values=refused.values,
                problems=refused.problems,
            )  # fmt: skip
            return html(invoice_html(view), outcome=refused.outcome)
        done = "paid" if standin.ledger.invoice_pay(invoice, card=card) else "pay_failed"
        deliveries = standin.flush()
    await standin.settle(deliveries)
    query = urlencode({"done": done, **delivery_note(standin, deliveries)})
    raise web.HTTPSeeOther(f"/invoice/{invoice.id}?{query}")


# ---------------------------------------------------------------------------- index, control


async def index_get(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    sessions = sorted(standin.checkout_sessions.values(), key=lambda s: s.created, reverse=True)
    view = IndexView(
        base_url=standin.config.base_url,
        endpoints=[(e.id, e.url) for e in localstripe_endpoints()],
        prices=[price_view(standin, spec.id) for spec in standin.config.prices],
        sessions=[
            (s.id, s.url, s.status, price_view(standin, s.price).name) for s in sessions[:20]
        ],
        deliveries=[d.to_json() for d in reversed(standin.deliverer.log)][:50],
    )
    return html(index_html(view))


async def deliveries_get(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    return web.json_response({"data": [d.to_json() for d in standin.deliverer.log]})


async def meter_events_get(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    customer = request.query.get("customer")
    events = [
        e.to_stripe()
        for e in standin.ledger.meter_events.values()
        if customer in (None, e.customer)
    ]
    return web.json_response({"data": events})


async def favicon_get(request: web.Request) -> web.Response:
    """No icon (and no 404 in the browser's console)."""
    return web.Response(status=204)


async def data_delete(request: web.Request) -> web.Response:
    request.app[STANDIN].reset()
    return web.Response()


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/", index_get)
    router.add_get("/favicon.ico", favicon_get)
    router.add_get("/checkout/{id}", checkout_get)
    router.add_post("/checkout/{id}", checkout_post)
    router.add_get("/checkout/{id}/complete", checkout_complete_get)
    router.add_get("/invoice/{id}", invoice_get)
    router.add_post("/invoice/{id}/pay", invoice_post)
    router.add_get("/_standin/deliveries", deliveries_get)
    router.add_get("/_standin/meter_events", meter_events_get)
    router.add_delete("/_config/data", data_delete)
