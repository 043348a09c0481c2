"""Test cards and what a card form accepts. Numbers follow Stripe's test cards: 4242… always
pays, 4000…0002 is declined, 4000…0341 is accepted at checkout but every later charge fails."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class KnownCard:
    number: str
    brand: str
    behaviour: str  # for the pages' list of test cards
    decline_message: str = ""  # "" = accepted when entered
    decline_code: str = ""
    later_charges_fail: bool = False


KNOWN_CARDS: tuple[KnownCard, ...] = (
    KnownCard("4242424242424242", "Visa", "Succeeds."),
    KnownCard("5555555555554444", "Mastercard", "Succeeds."),
    KnownCard(
        "4000000000000002",
        "Visa",
        "Declined: nothing changes.",
        decline_message="Your card was declined.",
        decline_code="generic_decline",
    ),
    KnownCard(
        "4000000000009995",
        "Visa",
        "Declined for insufficient funds: nothing changes.",
        decline_message="Your card has insufficient funds.",
        decline_code="insufficient_funds",
    ),
    KnownCard(
        "4000000000000341",
        "Visa",
        "Succeeds now; the next invoice's payment fails.",
        later_charges_fail=True,
    ),
)
_BY_NUMBER = {card.number: card for card in KNOWN_CARDS}
UNKNOWN_CARD_MESSAGE = (
    "Your card was declined: this is a test stand-in and takes test cards only, such as "
    "4242 4242 4242 4242."
)


def known_card(number: str) -> KnownCard | None:
    return _BY_NUMBER.get(number)


def spaced(number: str) -> str:
    """4242424242424242 → 4242 4242 4242 4242."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


@dataclass(frozen=True)
class CardEntry:
    """A card as typed into a form, checked."""

    number: str  # digits only
    exp_month: int
    exp_year: int
    cvc: str
    name: str

    @property
    def last4(self) -> str:
        return self.number[-4:]


@dataclass(frozen=True)
class FieldProblem:
    field: str  # the form field's name
    message: str


def luhn_is_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*$")


def card_parse(
    *, number: str, expiry: str, cvc: str, name: str, now: datetime
) -> tuple[CardEntry | None, list[FieldProblem]]:
    """The card, or the problems with each field (in the form's order), in Stripe's words."""
    problems: list[FieldProblem] = []
    digits = re.sub(r"[\s-]", "", number)
    if not digits:
        problems.append(FieldProblem("card_number", "Enter your card number."))
    elif not digits.isdigit() or not 12 <= len(digits) <= 19:
        problems.append(FieldProblem("card_number", "Your card number is incomplete."))
    elif not luhn_is_valid(digits):
        problems.append(FieldProblem("card_number", "Your card number is invalid."))

    month = year = 0
    match = _EXPIRY.match(expiry)
    if not expiry.strip():
        problems.append(FieldProblem("card_expiry", "Enter your card's expiration date."))
    elif match is None:
        problems.append(
            FieldProblem("card_expiry", "Your card's expiration date is incomplete (MM / YY).")
        )
    else:
        month = int(match.group(1))
        year = int(match.group(2))
        year += 2000 if year < 100 else 0
        if not 1 <= month <= 12:
            problems.append(FieldProblem("card_expiry", "Your card's expiration month is invalid."))
        elif (year, month) < (now.year, now.month):
            problems.append(
                FieldProblem("card_expiry", "Your card's expiration date is in the past.")
            )
        elif year > now.year + 20:
            problems.append(FieldProblem("card_expiry", "Your card's expiration year is invalid."))

    code = cvc.strip()
    if not code:
        problems.append(FieldProblem("card_cvc", "Enter your card's security code."))
    elif not (code.isdigit() and len(code) == 3):
        problems.append(FieldProblem("card_cvc", "Your card's security code is 3 digits."))

    if problems:
        return None, problems
    entry = CardEntry(number=digits, exp_month=month, exp_year=year, cvc=code, name=name.strip())
    return entry, []


def checkout_decline(entry: CardEntry) -> str:
    """Why the card is refused when entered ("" when it is accepted)."""
    card = known_card(entry.number)
    if card is None:
        return UNKNOWN_CARD_MESSAGE
    return card.decline_message


def later_charge_succeeds(number: str) -> bool:
    """Whether a charge after checkout (a renewal, paying an invoice) succeeds on this card."""
    card = known_card(number)
    return card is not None and not card.decline_message and not card.later_charges_fail
