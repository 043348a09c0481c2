"""The customer portal at a portal session's `url`: the plan and its status, switching between
the prices, cancelling at the period end or keeping the subscription, paying the open invoice,
and test-mode simulations (start the next period now, a failed payment). Each change waits up to
`redirect_wait_seconds` for its webhooks, then redirects back to the portal."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from taskscore.testing.stripe_standin.api import STANDIN
from taskscore.testing.stripe_standin.cards import FieldProblem
from taskscore.testing.stripe_standin.layout import PriceView
from taskscore.testing.stripe_standin.objects import PortalSession, StandinSubscription
from taskscore.testing.stripe_standin.render import PortalView, SubscriptionView, portal_html
from taskscore.testing.stripe_standin.site import (
    NOTICES,
    card_label,
    delivery_note,
    delivery_text,
    html,
    invoice_view,
    not_found,
    pay_card,
    price_view,
)
from taskscore.testing.stripe_standin.state import Standin


def _portal_view(
    standin: Standin,
    session: PortalSession,
    *,
    notice: str = "",
    error: str = "",
    values: dict[str, str] | None = None,
    problems: list[FieldProblem] | None = None,
) -> PortalView:
    ledger = standin.ledger
    customer = ledger.customer_get(session.customer)
    subscription = ledger.subscription_of(session.customer)
    sub_view = None
    open_invoice = None
    other_prices: list[PriceView] = []
    if subscription is not None:
        price = price_view(standin, subscription.plan.id)
        start, end = subscription.current_period_start, subscription.current_period_end
        usage = ledger.usage(session.customer, start, end) if price.metered else None
        sub_view = SubscriptionView(
            id=subscription.id,
            status=str(subscription.status),
            price=price,
            period_start=int(start),
            period_end=int(end),
            trial_end=subscription.trial_end,
            cancel_at_period_end=bool(subscription.cancel_at_period_end),
            is_manageable=isinstance(subscription, StandinSubscription),
            usage=usage,
        )
        invoice = ledger.open_invoice(subscription)
        open_invoice = invoice_view(standin, invoice) if invoice is not None else None
        other_prices = [
            price_view(standin, spec.id)
            for spec in standin.config.prices
            if spec.id != subscription.plan.id
        ]
    return PortalView(
        session_id=session.id,
        merchant=standin.config.merchant_name,
        return_url=session.return_url,
        customer_email=str(customer.email or ""),
        subscription=sub_view,
        other_prices=other_prices,
        card=card_label(ledger.card_on_file(customer)),
        open_invoice=open_invoice,
        invoices=[invoice_view(standin, i) for i in ledger.invoices_of(session.customer)],
        notice=notice,
        error=error,
        values=values or {},
        problems=problems or [],
    )


async def portal_get(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    session = standin.portal_sessions.get(request.match_info["id"])
    if session is None:
        return not_found("portal session")
    notice = NOTICES.get(request.query.get("done", ""), "")
    if notice:
        notice += delivery_text(standin, request.query)
    return html(portal_html(_portal_view(standin, session, notice=notice)))


async def portal_post(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    session = standin.portal_sessions.get(request.match_info["id"])
    action = request.match_info["action"]
    if session is None:
        return not_found("portal session")
    form = await request.post()
    ledger = standin.ledger
    async with standin.turn(session.customer):
        subscription = ledger.subscription_of(session.customer)
        error = ""
        if not isinstance(subscription, StandinSubscription):
            error = "There is no subscription the portal can change."
        elif subscription.status == "canceled":
            error = "The subscription has ended."
        if error:
            return html(portal_html(_portal_view(standin, session, error=error)), outcome="refused")
        assert isinstance(subscription, StandinSubscription)
        done = action
        if action == "switch":
            price = str(form.get("price", ""))
            if ledger.price_spec(price) is None:
                view = _portal_view(standin, session, error="Choose one of the plans shown.")
                return html(portal_html(view), outcome="refused")
            ledger.plan_switch(subscription, price)
            done = "switched"
        elif action in ("cancel", "resume"):
            ledger.cancel_at_period_end_set(subscription, cancel=action == "cancel")
            done = "canceled" if action == "cancel" else "resumed"
        elif action == "renew":
            if ledger.open_invoice(subscription) is not None:
                view = _portal_view(standin, session, error="Pay the open invoice first.")
                return html(portal_html(view), outcome="refused")
            ledger.renew(subscription)
            done = {"canceled": "ended", "past_due": "failed"}.get(subscription.status, "renewed")
        elif action == "fail":
            if subscription.cancel_at_period_end and ledger.open_invoice(subscription) is None:
                error = "The subscription ends at the end of the period: keep it first."
                return html(
                    portal_html(_portal_view(standin, session, error=error)), outcome="refused"
                )
            ledger.payment_fail(subscription)
            done = "failed"
        elif action == "pay":
            invoice = ledger.open_invoice(subscription)
            if invoice is None:
                view = _portal_view(standin, session, error="There is no open invoice.")
                return html(portal_html(view), outcome="refused")
            card, refused = pay_card(form)
            if refused is not None:
                view = _portal_view(
                    standin, session, error=refused.decline, values=refused.values,
                    problems=refused.problems,
                )  # fmt: skip
                return html(portal_html(view), outcome=refused.outcome)
            done = "paid" if ledger.invoice_pay(invoice, card=card) else "pay_failed"
        else:
            return not_found("portal action")
        deliveries = standin.flush()
    await standin.settle(deliveries)
    query = urlencode({"done": done, **delivery_note(standin, deliveries)})
    raise web.HTTPSeeOther(f"/portal/{session.id}?{query}")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/portal/{id}", portal_get)
    app.router.add_post("/portal/{id}/{action}", portal_post)
