"""What every page of the stand-in shares: the test-mode banner, the inline stylesheet, the
document around a page, money and dates, labelled form fields with their errors, the card form,
the list of test cards, and the forms that pay an open invoice. Everything inline: no script, no
external stylesheet, font or image."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from taskscore.testing.stripe_standin.cards import KNOWN_CARDS, FieldProblem, spaced

TEST_MODE = "Test mode — offline Stripe stand-in, no real payment"

CSS = """
:root { color-scheme: light; --ink: #1a1f36; --muted: #4f566b; --line: #c9d0d9;
  --accent: #4338ca; --danger: #a3141d; --ok: #0e6245; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg); }
.testmode { margin: 0; padding: .55rem 1rem; background: #ffe08a; color: #3d2a00;
  text-align: center; font-size: .95rem; border-bottom: 1px solid #e0b93a; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .25rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
.split { display: grid; gap: 1.5rem; grid-template-columns: 1fr; }
@media (min-width: 50rem) { .split { grid-template-columns: 1fr 1fr; gap: 3rem; } }
.panel { background: #fff; border: 1px solid var(--line); border-radius: .5rem;
  padding: 1.25rem; margin-bottom: 1.25rem; }
.merchant { margin: 0; font-weight: 600; color: var(--muted); }
.price { margin: 0 0 .5rem; } .price .amount { font-size: 2rem; font-weight: 700; }
.muted { color: var(--muted); }
dl.facts { margin: 0; } dl.facts div { display: flex; justify-content: space-between; gap: 1rem;
  padding: .45rem 0; border-top: 1px solid var(--line); }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; text-align: right; font-weight: 600; }
.field { margin-bottom: 1rem; }
.row { display: grid; grid-template-columns: 1fr 1fr; gap: .75rem; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
.hint { margin: 0 0 .25rem; color: var(--muted); font-size: .9rem; }
input[type=text], input[type=email] { width: 100%; padding: .65rem .75rem; font: inherit;
  border: 1px solid #6b7385; border-radius: .375rem; background: #fff; color: inherit; }
input[readonly] { background: #eef1f4; }
.has-error input { border: 2px solid var(--danger); }
.error-message { margin: 0 0 .25rem; color: var(--danger); font-weight: 600; }
button { font: inherit; cursor: pointer; border-radius: .375rem; padding: .65rem 1rem;
  border: 2px solid var(--accent); background: #fff; color: var(--accent); font-weight: 600; }
button.primary { width: 100%; background: var(--accent); color: #fff; font-size: 1.05rem; }
button.danger { border-color: var(--danger); color: var(--danger); }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-start; }
.actions form { margin: 0; }
.alert { border-left: 5px solid var(--danger); background: #fdecea; padding: .75rem 1rem;
  margin: 0 0 1rem; }
.alert h2 { font-size: 1rem; margin: 0 0 .25rem; } .alert ul { margin: .25rem 0 0; }
.notice { border-left: 5px solid var(--ok); background: #e6f4ea; padding: .75rem 1rem;
  margin: 0 0 1rem; }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: 1rem; font-size: .85rem;
  font-weight: 600; background: #e3e8ee; color: #1a1f36; vertical-align: middle; }
.badge.active, .badge.paid, .badge.trialing { background: #d7f7e4; color: #0a4d32; }
.badge.past_due, .badge.open, .badge.unpaid { background: #fde2dd; color: #7a1010; }
.badge.canceled, .badge.void { background: #e3e8ee; color: #333a45; }
table { width: 100%; border-collapse: collapse; font-size: .95rem; }
th, td { text-align: left; padding: .5rem .4rem; border-top: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; }
.table-wrap { overflow-x: auto; } .nowrap { white-space: nowrap; }
details { margin-top: 1rem; } summary { cursor: pointer; font-weight: 600; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .95em; }
.back { display: inline-block; margin-bottom: 1rem; }
.fine { font-size: .875rem; color: var(--muted); }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
"""


# ---------------------------------------------------------------------------- formatting


def money(amount: int, currency: str) -> str:
    if currency.lower() == "usd":
        return f"${amount / 100:,.2f}"
    return f"{amount / 100:,.2f} {currency.upper()}"


def day(timestamp: int | None) -> str:
    if not timestamp:
        return "—"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%-d %b %Y")


def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


@dataclass(frozen=True)
class PriceView:
    id: str
    name: str
    amount: int
    currency: str
    interval: str
    metered: bool
    unit_label: str

    @property
    def terms(self) -> str:
        if self.metered:
            return (
                f"{money(self.amount, self.currency)} per {self.unit_label}, "
                f"billed each {self.interval} for the usage reported"
            )
        return f"{money(self.amount, self.currency)} per {self.interval}"


def document(title: str, main: str, *, main_class: str = "") -> str:
    css_class = f' class="{main_class}"' if main_class else ""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(title)} · {escape(TEST_MODE)}</title>\n<style>{CSS}</style>\n</head>\n"
        f'<body>\n<header><p class="testmode"><strong>Test mode</strong> — offline Stripe '
        "stand-in, no real payment. Nothing here reaches Stripe or a bank.</p></header>\n"
        f"<main{css_class}>\n{main}\n</main>\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    autocomplete: str
    value: str = ""
    hint: str = ""
    kind: str = "text"
    inputmode: str = ""
    readonly: bool = False
    required: bool = True


def field_html(spec: Field, problems: Mapping[str, str], *, prefix: str = "") -> str:
    field_id = f"{prefix}{spec.name}"
    error = problems.get(spec.name, "")
    described = []
    hint = error_html = ""
    if spec.hint:
        hint = f'<p class="hint" id="{field_id}-hint">{escape(spec.hint)}</p>'
        described.append(f"{field_id}-hint")
    if error:
        error_html = (
            f'<p class="error-message" id="{field_id}-error">'
            f'<span class="visually-hidden">Error: </span>{escape(error)}</p>'
        )
        described.append(f"{field_id}-error")
    attributes = [
        f'id="{field_id}"',
        f'name="{spec.name}"',
        f'type="{spec.kind}"',
        f'autocomplete="{spec.autocomplete}"',
        f'value="{escape(spec.value)}"',
        'spellcheck="false"',
    ]
    if spec.inputmode:
        attributes.append(f'inputmode="{spec.inputmode}"')
    if spec.readonly:
        attributes.append("readonly")
    if spec.required:
        attributes.append('aria-required="true"')
    if described:
        attributes.append(f'aria-describedby="{" ".join(described)}"')
    if error:
        attributes.append('aria-invalid="true"')
    css = "field has-error" if error else "field"
    return (
        f'<div class="{css}"><label for="{field_id}">{escape(spec.label)}</label>{hint}'
        f"{error_html}<input {' '.join(attributes)}></div>"
    )


def problems_html(problems: Sequence[FieldProblem], *, prefix: str = "") -> str:
    if not problems:
        return ""
    items = "".join(
        f'<li><a href="#{prefix}{p.field}">{escape(p.message)}</a></li>' for p in problems
    )
    return (
        '<div class="alert" role="alert" tabindex="-1" id="problems">'
        f"<h2>There is a problem</h2><ul>{items}</ul></div>"
    )


def card_fields(values: Mapping[str, str], problems: Mapping[str, str], *, prefix: str = "") -> str:
    number = Field(
        "card_number", "Card number", "cc-number", values.get("card_number", ""),
        hint="Test card: 4242 4242 4242 4242", inputmode="numeric",
    )  # fmt: skip
    expiry = Field(
        "card_expiry", "Expiry date", "cc-exp", values.get("card_expiry", ""),
        hint="MM / YY", inputmode="numeric",
    )  # fmt: skip
    cvc = Field(
        "card_cvc", "CVC", "cc-csc", values.get("card_cvc", ""),
        hint="3 digits", inputmode="numeric",
    )  # fmt: skip
    name = Field(
        "card_name", "Name on card", "cc-name", values.get("card_name", ""), required=False
    )
    return (
        field_html(number, problems, prefix=prefix)
        + f'<div class="row">{field_html(expiry, problems, prefix=prefix)}'
        + f"{field_html(cvc, problems, prefix=prefix)}</div>"
        + field_html(name, problems, prefix=prefix)
    )


def test_cards_html() -> str:
    rows = "".join(
        f"<tr><td><code>{spaced(card.number)}</code></td><td>{escape(card.behaviour)}</td></tr>"
        for card in KNOWN_CARDS
    )
    return (
        "<details><summary>Test cards</summary>"
        '<div class="table-wrap"><table><thead><tr><th scope="col">Number</th>'
        f'<th scope="col">What happens</th></tr></thead><tbody>{rows}</tbody></table></div>'
        '<p class="fine">Any future expiry date, any 3-digit CVC.</p></details>'
    )


# ---------------------------------------------------------------------------- invoices


@dataclass(frozen=True)
class InvoiceView:
    id: str
    number: str
    created: int
    amount_due: int
    amount_paid: int
    currency: str
    status: str
    url: str
    period_start: int | None = None
    period_end: int | None = None
    lines: Sequence[tuple[str, int]] = ()
    attempt_count: int = 0


def pay_forms(
    *, action: str, invoice: InvoiceView, card: str, values: Mapping[str, str],
    problems: Sequence[FieldProblem],
) -> str:  # fmt: skip
    """Pay an open invoice with the card on file, or with another card."""
    amount = money(invoice.amount_due, invoice.currency)
    by_problem = {p.field: p.message for p in problems}
    on_file = (
        f'<form method="post" action="{escape(action)}"><input type="hidden" name="with" '
        f'value="card_on_file"><button type="submit">Pay {amount} with {escape(card)}</button>'
        "</form>"
        if card
        else ""
    )
    return (
        f'<div class="actions">{on_file}</div>'
        '<h3 id="another-card">Pay with another card</h3>'
        f"{problems_html(problems, prefix='pay-')}"
        f'<form method="post" action="{escape(action)}" novalidate aria-labelledby="another-card">'
        '<input type="hidden" name="with" value="new_card">'
        f"{card_fields(values, by_problem, prefix='pay-')}"
        f'<button type="submit" class="primary">Pay {amount}</button></form>'
    )


def message_html(title: str, text: str, *, link: tuple[str, str] | None = None) -> str:
    anchor = f'<p><a href="{escape(link[0])}">{escape(link[1])}</a></p>' if link else ""
    return document(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>{anchor}")
