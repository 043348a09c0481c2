"""The stand-in's pages as HTML strings: Checkout, the customer portal, a hosted invoice and an
index (their shared parts are in `layout`). Every field has a label, errors are announced and
linked to their field, and the layout is one column on a phone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

from taskscore.testing.stripe_standin.cards import FieldProblem
from taskscore.testing.stripe_standin.layout import (
    Field,
    InvoiceView,
    PriceView,
    card_fields,
    day,
    document,
    field_html,
    money,
    pay_forms,
    problems_html,
    status_label,
    test_cards_html,
)

# ---------------------------------------------------------------------------- checkout


@dataclass(frozen=True)
class CheckoutView:
    session_id: str
    merchant: str
    price: PriceView
    quantity: int | None
    due_today: int
    trial_end: int | None
    cancel_url: str | None
    email: str  # known email ("" when the form asks)
    email_locked: bool
    values: Mapping[str, str] = field(default_factory=dict)
    problems: Sequence[FieldProblem] = ()
    decline: str = ""


def checkout_html(view: CheckoutView) -> str:
    price = view.price
    problems = {p.field: p.message for p in view.problems}
    back = (
        f'<a class="back" href="{escape(view.cancel_url)}">← Cancel and return to '
        f"{escape(view.merchant)}</a>"
        if view.cancel_url
        else ""
    )
    if view.trial_end is not None:
        days = max(1, round((view.trial_end - _now()) / 86400))
        trial = (
            f'<p class="notice"><strong>{days}-day free trial</strong>, then {price.terms}. '
            f"The trial ends on {day(view.trial_end)}; cancel before then and nothing is "
            "charged.</p>"
        )
        button = "Start trial"
    else:
        trial = ""
        button = "Subscribe"
    quantity = f" × {view.quantity}" if view.quantity and view.quantity != 1 else ""
    summary = (
        f'<section aria-labelledby="summary-title">{back}'
        f'<p class="merchant">{escape(view.merchant)}</p>'
        f'<h1 id="summary-title">Subscribe to {escape(price.name)}</h1>'
        f'<p class="price"><span class="amount">{money(price.amount, price.currency)}</span> '
        f'<span class="muted">per {escape(price.unit_label if price.metered else price.interval)}'
        f"</span></p>{trial}"
        '<dl class="facts">'
        f"<div><dt>{escape(price.name)}{quantity}</dt><dd>{escape(price.terms)}</dd></div>"
        f"<div><dt>Due today</dt><dd>{money(view.due_today, price.currency)}</dd></div>"
        "</dl></section>"
    )
    email = Field(
        "email", "Email", "email", view.values.get("email", view.email),
        kind="email", readonly=view.email_locked,
    )  # fmt: skip
    decline = (
        '<div class="alert" role="alert" tabindex="-1" id="problems">'
        f"<h2>{escape(view.decline)}</h2><p>Nothing was charged and nothing changed. "
        "Try another card.</p></div>"
        if view.decline
        else ""
    )
    form = (
        '<section class="panel" aria-labelledby="pay-title">'
        '<h2 id="pay-title">Pay with card</h2>'
        f"{decline}{problems_html(view.problems)}"
        f'<form method="post" action="/checkout/{escape(view.session_id)}" novalidate>'
        f"{field_html(email, problems)}{card_fields(view.values, problems)}"
        f'<button type="submit" class="primary">{button}</button>'
        f'<p class="fine">A test stand-in for Stripe Checkout: no card is charged.</p>'
        f"</form>{test_cards_html()}</section>"
    )
    return document(f"Subscribe to {price.name}", f'<div class="split">{summary}{form}</div>')


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


# ---------------------------------------------------------------------------- portal


@dataclass(frozen=True)
class SubscriptionView:
    id: str
    status: str
    price: PriceView
    period_start: int
    period_end: int
    trial_end: int | None
    cancel_at_period_end: bool
    is_manageable: bool  # made by the stand-in (the portal can change it)
    usage: int | None  # metered units this period


@dataclass(frozen=True)
class PortalView:
    session_id: str
    merchant: str
    return_url: str | None
    customer_email: str
    subscription: SubscriptionView | None
    other_prices: Sequence[PriceView]
    card: str  # "Visa •••• 4242" or ""
    open_invoice: InvoiceView | None
    invoices: Sequence[InvoiceView]
    notice: str = ""
    error: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    problems: Sequence[FieldProblem] = ()


def _action(session_id: str, action: str, label: str, *, css: str = "", extra: str = "") -> str:
    css_attr = f' class="{css}"' if css else ""
    return (
        f'<form method="post" action="/portal/{escape(session_id)}/{action}">{extra}'
        f'<button type="submit"{css_attr}>{escape(label)}</button></form>'
    )


def _invoice_rows(invoices: Iterable[InvoiceView]) -> str:
    rows = "".join(
        f'<tr><td class="nowrap">{day(i.created)}</td>'
        f'<td><a href="{escape(i.url)}">{escape(i.number)}</a></td>'
        f'<td class="nowrap">{money(i.amount_due, i.currency)}</td>'
        f'<td><span class="badge {escape(i.status)}">{escape(status_label(i.status))}</span></td>'
        "</tr>"
        for i in invoices
    )
    if not rows:
        return '<p class="muted">No invoices yet.</p>'
    return (
        '<div class="table-wrap"><table><thead><tr><th scope="col">Date</th>'
        '<th scope="col">Invoice</th><th scope="col">Amount</th><th scope="col">Status</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def portal_html(view: PortalView) -> str:
    back = (
        f'<p><a class="back" href="{escape(view.return_url)}">← Return to '
        f"{escape(view.merchant)}</a></p>"
        if view.return_url
        else ""
    )
    notice = f'<div class="notice" role="status">{escape(view.notice)}</div>' if view.notice else ""
    error = (
        f'<div class="alert" role="alert" tabindex="-1">{escape(view.error)}</div>'
        if view.error
        else ""
    )
    parts = [
        f'<p class="merchant">{escape(view.merchant)}</p><h1>Manage your subscription</h1>',
        back,
        notice,
        error,
    ]
    sub = view.subscription
    if sub is None:
        parts.append(
            '<section class="panel"><h2>No subscription</h2><p>This customer has no '
            f"subscription. Start one from {escape(view.merchant)}.</p></section>"
        )
    else:
        parts.append(_current_plan(view, sub))
        if sub.status != "canceled" and sub.is_manageable:
            parts.append(_manage(view, sub))
        elif not sub.is_manageable:
            parts.append(
                '<section class="panel"><p>This subscription was made through the API, not '
                "through the stand-in's Checkout: change it through the API.</p></section>"
            )
    parts.append(
        f'<section class="panel" aria-labelledby="invoices"><h2 id="invoices">Invoices</h2>'
        f"{_invoice_rows(view.invoices)}</section>"
    )
    return document("Manage your subscription", "".join(parts))


def _current_plan(view: PortalView, sub: SubscriptionView) -> str:
    facts = [
        ("Status", f'<span class="badge {escape(sub.status)}">'
                   f"{escape(status_label(sub.status))}</span>"),
        ("Price", escape(sub.price.terms)),
        ("Current period", f"{day(sub.period_start)} – {day(sub.period_end)}"),
    ]  # fmt: skip
    if sub.status == "trialing" and sub.trial_end:
        facts.append(("Trial ends", day(sub.trial_end)))
    if sub.status == "canceled":
        pass
    elif sub.cancel_at_period_end:
        facts.append(("Ends on", day(sub.period_end)))
    else:
        facts.append(("Renews on", day(sub.period_end)))
    if sub.usage is not None:
        unit = sub.price.unit_label
        facts.append(("Usage this period", f"{sub.usage} {unit}{'s' if sub.usage != 1 else ''}"))
    if view.card:
        facts.append(("Card", escape(view.card)))
    if view.customer_email:
        facts.append(("Email", escape(view.customer_email)))
    rows = "".join(f"<div><dt>{label}</dt><dd>{value}</dd></div>" for label, value in facts)
    warning = ""
    if sub.status == "past_due":
        warning = (
            '<p class="alert">The latest payment failed. Pay the open invoice below to keep '
            "the subscription.</p>"
        )
    return (
        '<section class="panel" aria-labelledby="current-plan">'
        f'<h2 id="current-plan">Current plan: {escape(sub.price.name)}</h2>{warning}'
        f'<dl class="facts">{rows}</dl></section>'
    )


def _manage(view: PortalView, sub: SubscriptionView) -> str:
    sid = view.session_id
    parts = []
    if view.open_invoice is not None:
        invoice = view.open_invoice
        parts.append(
            '<section class="panel" aria-labelledby="pay-open">'
            f'<h2 id="pay-open">Pay the open invoice {escape(invoice.number)}</h2>'
            f"<p>{money(invoice.amount_due, invoice.currency)} due; "
            f"{invoice.attempt_count} failed attempt{'s' if invoice.attempt_count != 1 else ''}."
            "</p>"
            + pay_forms(
                action=f"/portal/{sid}/pay",
                invoice=invoice,
                card=view.card,
                values=view.values,
                problems=view.problems,
            )
            + "</section>"
        )
    switches = "".join(
        _action(
            sid,
            "switch",
            f"Switch to {price.name} ({price.terms})",
            extra=f'<input type="hidden" name="price" value="{escape(price.id)}">',
        )
        for price in view.other_prices
    )
    if switches:
        parts.append(
            '<section class="panel" aria-labelledby="change-plan">'
            '<h2 id="change-plan">Change plan</h2>'
            '<p class="muted">Takes effect now, with no proration in the stand-in.</p>'
            f'<div class="actions">{switches}</div></section>'
        )
    if sub.cancel_at_period_end:
        cancel = f"<p>The subscription ends on {day(sub.period_end)}.</p>" + _action(
            sid, "resume", "Keep the subscription"
        )
    else:
        cancel = (
            f"<p>It stays active until the end of the period ({day(sub.period_end)}).</p>"
            + _action(sid, "cancel", "Cancel at the end of the period", css="danger")
        )
    parts.append(
        '<section class="panel" aria-labelledby="cancel-title">'
        f'<h2 id="cancel-title">Cancel</h2>{cancel}</section>'
    )
    renew_help = (
        "Ends the trial or the period now: a subscription set to cancel ends; otherwise the "
        "next period's invoice is charged to the card on file."
    )
    simulate = [_action(sid, "renew", "Start the next period now")]
    if not sub.cancel_at_period_end or view.open_invoice is not None:
        simulate.append(_action(sid, "fail", "Simulate a failed payment", css="danger"))
    parts.append(
        '<section class="panel" aria-labelledby="simulate-title">'
        '<h2 id="simulate-title">Simulate (test mode)</h2>'
        f'<p class="muted">{renew_help} A failed payment makes the subscription past due.</p>'
        f'<div class="actions">{"".join(simulate)}</div></section>'
    )
    return "".join(parts)


# ---------------------------------------------------------------------------- invoice, index


@dataclass(frozen=True)
class InvoicePageView:
    merchant: str
    invoice: InvoiceView
    card: str
    notice: str = ""
    error: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    problems: Sequence[FieldProblem] = ()


def invoice_html(view: InvoicePageView) -> str:
    invoice = view.invoice
    lines = "".join(
        f"<div><dt>{escape(text)}</dt><dd>{money(amount, invoice.currency)}</dd></div>"
        for text, amount in invoice.lines
    )
    facts = (
        f'<dl class="facts">{lines}'
        f"<div><dt>Amount due</dt><dd>{money(invoice.amount_due, invoice.currency)}</dd></div>"
        f"<div><dt>Amount paid</dt><dd>{money(invoice.amount_paid, invoice.currency)}</dd></div>"
        f"<div><dt>Period</dt><dd>{day(invoice.period_start)} – {day(invoice.period_end)}</dd>"
        "</div></dl>"
    )
    notice = f'<div class="notice" role="status">{escape(view.notice)}</div>' if view.notice else ""
    error = f'<div class="alert" role="alert">{escape(view.error)}</div>' if view.error else ""
    pay = ""
    if invoice.status == "open":
        pay = (
            '<section class="panel" aria-labelledby="pay-title"><h2 id="pay-title">Pay</h2>'
            + pay_forms(
                action=f"/invoice/{invoice.id}/pay",
                invoice=invoice,
                card=view.card,
                values=view.values,
                problems=view.problems,
            )
            + "</section>"
        )
    main = (
        f'<p class="merchant">{escape(view.merchant)}</p>'
        f"<h1>Invoice {escape(invoice.number)} "
        f'<span class="badge {escape(invoice.status)}">{escape(status_label(invoice.status))}'
        f"</span></h1>{notice}{error}"
        f'<section class="panel" aria-label="Invoice details">{facts}</section>{pay}'
    )
    return document(f"Invoice {invoice.number}", main)


@dataclass(frozen=True)
class IndexView:
    base_url: str
    endpoints: Sequence[tuple[str, str]]  # (id, url)
    prices: Sequence[PriceView]
    sessions: Sequence[tuple[str, str, str, str]]  # (id, url, status, price name)
    deliveries: Sequence[Mapping[str, object]]


def index_html(view: IndexView) -> str:
    endpoints = (
        "".join(
            f"<li><code>{escape(eid)}</code> → <code>{escape(url)}</code></li>"
            for eid, url in view.endpoints
        )
        or "<li>None registered.</li>"
    )
    prices = "".join(
        f"<li><code>{escape(p.id)}</code>: {escape(p.name)}, {escape(p.terms)}</li>"
        for p in view.prices
    )
    sessions = "".join(
        f'<tr><td><a href="{escape(url)}">{escape(sid)}</a></td><td>{escape(price)}</td>'
        f"<td>{escape(status)}</td></tr>"
        for sid, url, status, price in view.sessions
    )
    deliveries = "".join(
        f"<tr><td>{escape(str(d['type']))}</td><td><code>{escape(str(d['event_id']))}</code></td>"
        f"<td>{escape(str(d['endpoint']))}</td><td>{escape(str(d['status']))}</td>"
        f"<td>{escape(str(d['attempts']))}</td></tr>"
        for d in view.deliveries
    )
    main = (
        "<h1>Offline Stripe stand-in</h1>"
        f"<p>The Stripe API (localstripe plus Checkout, the customer portal and billing meter "
        f"events) at <code>{escape(view.base_url)}</code>. The app reaches it through "
        "<code>STRIPE_API_BASE</code>. Checkout and portal pages open from the app's Upgrade "
        "and Manage buttons.</p>"
        '<section class="panel"><h2>Webhook endpoints</h2>'
        f"<ul>{endpoints}</ul></section>"
        f'<section class="panel"><h2>Prices</h2><ul>{prices}</ul>{test_cards_html()}</section>'
        '<section class="panel"><h2>Checkout sessions</h2><div class="table-wrap"><table>'
        '<thead><tr><th scope="col">Session</th><th scope="col">Price</th>'
        f'<th scope="col">Status</th></tr></thead><tbody>{sessions}</tbody></table></div>'
        "</section>"
        '<section class="panel"><h2>Latest webhook deliveries</h2><div class="table-wrap">'
        '<table><thead><tr><th scope="col">Event</th><th scope="col">Id</th>'
        '<th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col">Attempts</th>'
        f"</tr></thead><tbody>{deliveries}</tbody></table></div></section>"
    )
    return document("Offline Stripe stand-in", main)
