from datetime import UTC, datetime

import pytest

from taskscore.testing.stripe_standin.cards import (
    UNKNOWN_CARD_MESSAGE,
    CardEntry,
    FieldProblem,
    card_parse,
    checkout_decline,
    later_charge_succeeds,
    luhn_is_valid,
    spaced,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def parse(
    number: str = "4242 4242 4242 4242", expiry: str = "12 / 30", cvc: str = "123", name: str = ""
) -> tuple[CardEntry | None, list[FieldProblem]]:
    return card_parse(number=number, expiry=expiry, cvc=cvc, name=name, now=NOW)


@pytest.mark.parametrize(
    ("digits", "is_valid"),
    [("4242424242424242", True), ("4000000000000341", True), ("4242424242424241", False)],
)
def test_luhn(digits, is_valid):
    assert luhn_is_valid(digits) is is_valid


@pytest.mark.parametrize(
    ("expiry", "month", "year"),
    [("12 / 30", 12, 2030), ("1/27", 1, 2027), ("0127", 1, 2027), ("12/2026", 12, 2026)],
)
def test_expiry_formats(expiry, month, year):
    card, problems = parse(expiry=expiry)
    assert problems == []
    assert card is not None
    assert (card.exp_month, card.exp_year, card.number) == (month, year, "4242424242424242")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"number": ""}, "card_number", "Enter your card number."),
        ({"number": "4242 4242"}, "card_number", "Your card number is incomplete."),
        ({"number": "4242 4242 4242 4241"}, "card_number", "Your card number is invalid."),
        ({"expiry": "11 / 26"}, "card_expiry", "Your card's expiration date is in the past."),
        ({"expiry": "13 / 30"}, "card_expiry", "Your card's expiration month is invalid."),
        ({"expiry": "12 / 99"}, "card_expiry", "Your card's expiration year is invalid."),
        ({"expiry": "soon"}, "card_expiry", "Your card's expiration date is incomplete (MM / YY)."),
        ({"cvc": "12"}, "card_cvc", "Your card's security code is 3 digits."),
        ({"cvc": ""}, "card_cvc", "Enter your card's security code."),
    ],
)
def test_each_problem_names_its_field(fields, field, message):
    card, problems = parse(**fields)
    assert card is None
    assert [(p.field, p.message) for p in problems] == [(field, message)]


def test_test_cards_decide_what_happens():
    good, _ = parse()
    declined, _ = parse(number="4000000000000002")
    later, _ = parse(number="4000 0000 0000 0341")
    real, _ = parse(number="4111 1111 1111 1111")  # a valid number that is no test card
    assert good is not None
    assert declined is not None
    assert later is not None
    assert real is not None
    assert checkout_decline(good) == ""
    assert checkout_decline(declined) == "Your card was declined."
    assert checkout_decline(later) == ""
    assert checkout_decline(real) == UNKNOWN_CARD_MESSAGE
    assert later_charge_succeeds(good.number)
    assert not later_charge_succeeds(later.number)
    assert not later_charge_succeeds(declined.number)
    assert spaced(good.number) == "4242 4242 4242 4242"
