from datetime import UTC, datetime

import pytest

from taskscore.testing.stripe_standin.objects import CheckoutSession, add_month, new_id


def ts(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (ts(2026, 1, 31, 9), ts(2026, 2, 28, 9)),
        (ts(2028, 1, 31), ts(2028, 2, 29)),
        (ts(2026, 12, 15), ts(2027, 1, 15)),
        (ts(2026, 3, 1), ts(2026, 4, 1)),
    ],
)
def test_add_month_keeps_the_day_or_the_month_end(start, end):
    assert add_month(start) == end


def test_ids_are_unguessable_and_prefixed():
    ids = {new_id("cs_test_") for _ in range(200)}
    assert len(ids) == 200
    assert all(i.startswith("cs_test_") and len(i) == len("cs_test_") + 24 for i in ids)


def session(trial_end: int | None = None) -> CheckoutSession:
    return CheckoutSession(
        id="cs_test_1", url="http://127.0.0.1:1/checkout/cs_test_1", created=1000,
        expires_at=2000, price="price_pro", quantity=1, currency="usd", amount_subtotal=2900,
        success_url="http://app/ok", cancel_url=None, customer="cus_1", customer_email=None,
        client_reference_id="7", metadata={"org_id": "7"}, subscription_metadata={},
        trial_end=trial_end,
    )  # fmt: skip


def test_a_session_expires_and_loses_its_url():
    s = session()
    assert s.to_stripe()["url"] == "http://127.0.0.1:1/checkout/cs_test_1"
    s.refresh(1999)
    assert s.status == "open"
    s.refresh(2000)
    assert s.status == "expired"
    assert s.to_stripe()["url"] is None


def test_a_trial_is_due_nothing_today():
    shape = session(trial_end=5000).to_stripe()
    assert (shape["amount_subtotal"], shape["amount_total"]) == (2900, 0)
    assert shape["object"] == "checkout.session"
    assert shape["mode"] == "subscription"
