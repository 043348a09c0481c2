"""The offline Stripe stand-in as a real process on loopback, driven through the real `stripe`
SDK and its pages' real forms; its webhooks received by a small endpoint that checks each
signature as the app does. (With the app itself: tests/test_billing_standin.py.)"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe

from taskscore.integrations.stripe import webhook_event_verify
from taskscore.testing.processes import Process, free_port, start_stripe_standin
from taskscore.testing.stripe_standin.driver import StandinBrowser, forms_of
from taskscore.testing.stripe_standin.receiver import WebhookReceiver

pytestmark = pytest.mark.slow

SECRET = "whsec_standin_test"
PRO, BUSINESS = "price_taskscore_pro", "price_taskscore_business"
SUCCESS = "http://127.0.0.1:3000/orgs/acme/billing?checkout=success&session={CHECKOUT_SESSION_ID}"
CANCEL = "http://127.0.0.1:3000/orgs/acme/billing?checkout=canceled"
CHECKOUT_EVENTS = [
    "checkout.session.completed",
    "customer.subscription.created",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_succeeded",
]


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as server:
        yield server


@pytest.fixture(scope="module")
def standin(receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process: Process = start_stripe_standin(
        port=port, log_dir=tmp_path_factory.mktemp("standin"), webhook_url=receiver.url,
        webhook_secret=SECRET, extra_args=("--webhook-backoff", "0.1"),
    )  # fmt: skip
    yield f"http://127.0.0.1:{port}"
    process.stop()


@pytest.fixture
def sdk(standin: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_standin", base_addresses={"api": standin}, max_network_retries=0
    )


@pytest.fixture
def browser() -> StandinBrowser:
    return StandinBrowser()


def customer_create(sdk: stripe.StripeClient, email: str = "owner@acme.test") -> str:
    customer = sdk.v1.customers.create(params={"name": "Acme", "email": email})
    return str(customer.id)


def checkout_create(sdk: stripe.StripeClient, customer: str, **extra: Any) -> Any:
    """As the app creates it (integrations/stripe/client.py)."""
    price = extra.pop("price", PRO)
    item: dict[str, Any] = {"price": price}
    if price == PRO:
        item["quantity"] = 1
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer,
        "line_items": [item],
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "client_reference_id": "7",
        "metadata": {"org_id": "7", "plan": "pro"},
        "subscription_data": {"metadata": {"org_id": "7", "plan": "pro"}},
    }
    params.update(extra)
    return sdk.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def billing_events(receiver: WebhookReceiver, customer: str) -> list[dict[str, Any]]:
    """The customer's events but `customer.created` (sent when the SDK made the customer)."""
    return [e for e in receiver.events(customer=customer) if e["type"] != "customer.created"]


def subscribe(
    sdk: stripe.StripeClient,
    browser: StandinBrowser,
    receiver: WebhookReceiver,
    *,
    card: str = "4242 4242 4242 4242",
) -> tuple[str, str]:
    """A customer with an active Pro subscription, its checkout's webhooks received."""
    customer = customer_create(sdk)
    session = checkout_create(sdk, customer)
    assert browser.checkout(session.url, card=card).status == 303
    receiver.wait_for(lambda e: len(e) == 1 + len(CHECKOUT_EVENTS), customer=customer)
    portal = sdk.v1.billing_portal.sessions.create(
        params={"customer": customer, "return_url": "http://127.0.0.1:3000/orgs/acme/billing"}
    )
    return customer, str(portal.url)


# --------------------------------------------------------------------------- checkout


def test_checkout_with_a_good_card_subscribes_and_sends_signed_events_in_order(
    sdk, browser, receiver, standin
):
    # Given a customer and a Checkout session made as the app makes them
    customer = customer_create(sdk)
    session = checkout_create(sdk, customer)
    assert session.status == "open"
    assert session.url == f"{standin}/checkout/{session.id}"
    page = browser.get(session.url)
    assert page.status == 200
    assert "Test mode" in page.text
    assert "offline Stripe stand-in, no real payment" in page.text
    assert "Subscribe to Taskscore Pro" in page.text
    assert "$29.00" in page.text
    assert f'href="{CANCEL}"' in page.text.replace("&amp;", "&")

    # When the card form is submitted with 4242 4242 4242 4242
    result = browser.checkout(session.url)

    # Then the browser goes to success_url with the session id, the subscription is active
    assert result.status == 303
    assert result.location == SUCCESS.replace("{CHECKOUT_SESSION_ID}", session.id)
    done = sdk.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.customer) == ("complete", "paid", customer)
    subscription = sdk.v1.subscriptions.retrieve(done.subscription)
    assert subscription.status == "active"
    assert subscription.metadata.to_dict() == {"org_id": "7", "plan": "pro"}
    item = subscription["items"]["data"][0]
    assert item["price"]["id"] == PRO
    assert item["current_period_end"] > item["current_period_start"] >= session.created
    invoices = sdk.v1.invoices.list(params={"customer": customer}).data
    assert [(i.status, i.amount_paid) for i in invoices] == [("paid", 2900)]

    # and the webhooks arrived in Stripe's order, each signed with the endpoint's secret
    receiver.wait_for(lambda e: len(e) >= 7, customer=customer)
    events = billing_events(receiver, customer)
    assert types(events) == CHECKOUT_EVENTS
    deliveries = [d for d in receiver.received(customer=customer) if d.event in events]
    assert all(d.is_signed for d in deliveries)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", deliveries[0].signature)
    for delivery in deliveries:  # the app's own check accepts each one
        verified = webhook_event_verify(
            payload=delivery.body, signature_header=delivery.signature, secret=SECRET
        )
        assert verified["id"] == delivery.event["id"]
    completed = events[0]["data"]["object"]
    assert completed["id"] == session.id
    assert (completed["subscription"], completed["client_reference_id"]) == (
        subscription.id,
        "7",
    )
    assert events[1]["data"]["object"]["status"] == "active"
    assert [e["data"]["object"]["status"] for e in events[2:]] == ["draft", "open", "paid", "paid"]
    assert {e["api_version"] for e in events} == {"2026-10-28.endive"}

    # A second submit (a double click) changes nothing and goes to success_url again
    again = browser.checkout(session.url)
    assert again.status == 303
    assert len(sdk.v1.subscriptions.list(params={"customer": customer, "status": "all"}).data) == 1


def test_a_declined_card_says_so_and_changes_nothing(sdk, browser, receiver):
    customer = customer_create(sdk)
    session = checkout_create(sdk, customer)

    result = browser.checkout(session.url, card="4000 0000 0000 0002")

    assert (result.status, result.outcome) == (200, "declined")  # 200: no console error
    assert "Your card was declined." in result.text
    assert "Nothing was charged and nothing changed" in result.text
    assert sdk.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert sdk.v1.subscriptions.list(params={"customer": customer, "status": "all"}).data == []
    assert sdk.v1.invoices.list(params={"customer": customer}).data == []
    time.sleep(0.5)
    assert receiver.received(customer=customer)[1:] == []  # only customer.created, earlier
    assert types(receiver.events(customer=customer)) == ["customer.created"]

    # and the same session then accepts a good card
    assert browser.checkout(session.url).status == 303
    receiver.wait_for(lambda e: "invoice.paid" in types(e), customer=customer)


def test_the_card_form_names_each_problem(sdk, browser):
    session = checkout_create(sdk, customer_create(sdk))

    result = browser.checkout(session.url, card="4242 4242 4242 4241", expiry="01 / 20", cvc="1")

    assert (result.status, result.outcome) == (200, "invalid")
    assert "Your card number is invalid." in result.text
    assert "Your card&#x27;s expiration date is in the past." in result.text
    assert 'aria-invalid="true"' in result.text
    assert '<a href="#card_cvc">' in result.text  # the summary links to the field
    assert sdk.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_a_trial_starts_trialing_with_no_invoice(sdk, browser, receiver):
    customer = customer_create(sdk)
    session = checkout_create(
        sdk, customer, subscription_data={"metadata": {"org_id": "7"}, "trial_period_days": 14}
    )
    assert (session.amount_total, session.amount_subtotal) == (0, 2900)
    page = browser.get(session.url)
    assert "14-day free trial" in page.text
    assert "Start trial" in page.text

    assert browser.checkout(session.url).status == 303

    events = receiver.wait_for(
        lambda e: "customer.subscription.created" in types(e), customer=customer
    )
    time.sleep(0.3)
    assert types(receiver.events(customer=customer)) == [
        "customer.created",
        "checkout.session.completed",
        "customer.subscription.created",
    ]
    subscription = events[-1]["data"]["object"]
    assert subscription["status"] == "trialing"
    assert subscription["trial_start"] == subscription["current_period_start"]
    assert abs(subscription["trial_end"] - (subscription["trial_start"] + 14 * 86400)) <= 1
    assert subscription["items"]["data"][0]["current_period_end"] == subscription["trial_end"]
    assert sdk.v1.checkout.sessions.retrieve(session.id).payment_status == "no_payment_required"
    assert sdk.v1.invoices.list(params={"customer": customer}).data == []


def test_a_card_that_fails_later_pays_at_checkout_then_fails_the_next_invoice(
    sdk, browser, receiver
):
    customer, portal = subscribe(sdk, browser, receiver, card="4000 0000 0000 0341")
    assert types(receiver.events(customer=customer))[-2:] == [
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    seen = len(receiver.events(customer=customer))

    # The next period starts: its payment fails
    result = browser.portal(portal, "renew")
    assert result.status == 303
    assert "done=failed" in result.location
    events = receiver.wait_for(lambda e: len(e) >= seen + 5, customer=customer)[seen:]
    assert types(events) == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    assert events[-1]["data"]["object"]["status"] == "past_due"
    assert events[-1]["data"]["previous_attributes"] == {"status": "active"}

    # Paying the open invoice with another card recovers it
    page = browser.get(portal)
    result = browser.submit(
        page, action_endswith="/pay", hidden={"with": "new_card"},
        values={"card_number": "4242424242424242", "card_expiry": "12/34", "card_cvc": "123"},
    )  # fmt: skip
    assert result.status == 303
    assert "done=paid" in result.location
    events = receiver.wait_for(lambda e: len(e) >= seen + 8, customer=customer)[seen + 5 :]
    assert types(events) == [
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    assert events[-1]["data"]["object"]["status"] == "active"


# --------------------------------------------------------------------------- the portal


def test_portal_cancel_resume_switch_fail_pay_and_end(sdk, browser, receiver):
    customer, portal = subscribe(sdk, browser, receiver)
    page = browser.get(portal)
    assert page.status == 200
    assert "Current plan: Taskscore Pro" in page.text
    assert "Active" in page.text
    assert 'href="http://127.0.0.1:3000/orgs/acme/billing"' in page.text  # return to the app
    count = len(receiver.events(customer=customer))

    def act(action: str, expected: list[str], **hidden: str) -> list[dict[str, Any]]:
        nonlocal count
        result = browser.portal(portal, action, **hidden)
        assert result.status == 303, result.text[-500:]
        events = receiver.wait_for(lambda e: len(e) >= count + len(expected), customer=customer)
        new: list[dict[str, Any]] = events[count:]
        count = len(events)
        assert types(new) == expected
        return new

    canceled = act("cancel", ["customer.subscription.updated"])
    assert canceled[0]["data"]["object"]["cancel_at_period_end"] is True
    assert canceled[0]["data"]["previous_attributes"]["cancel_at_period_end"] is False
    assert "Keep the subscription" in browser.get(portal).text

    resumed = act("resume", ["customer.subscription.updated"])
    assert resumed[0]["data"]["object"]["cancel_at_period_end"] is False

    switched = act("switch", ["customer.subscription.updated"], price=BUSINESS)
    item = switched[0]["data"]["object"]["items"]["data"][0]
    assert item["price"]["id"] == BUSINESS
    assert item["price"]["recurring"]["usage_type"] == "metered"
    assert switched[0]["data"]["previous_attributes"]["plan"]["id"] == PRO

    failed = act(
        "fail",
        ["customer.subscription.updated", "invoice.created", "invoice.finalized",
         "invoice.payment_failed", "customer.subscription.updated"],
    )  # fmt: skip
    assert failed[-1]["data"]["object"]["status"] == "past_due"
    assert "Pay the open invoice" in browser.get(portal).text

    paid = act(
        "pay",
        ["invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"],
        with_="card_on_file",
    )
    assert paid[-1]["data"]["object"]["status"] == "active"

    act("cancel", ["customer.subscription.updated"])
    ended = act("renew", ["customer.subscription.deleted"])
    assert ended[0]["data"]["object"]["status"] == "canceled"
    assert sdk.v1.subscriptions.list(params={"customer": customer}).data == []
    assert "Manage your subscription" in browser.get(portal).text
    assert ">Canceled<" in browser.get(portal).text


def test_each_change_to_one_customer_lands_in_a_later_second(sdk, browser, receiver):
    customer, portal = subscribe(sdk, browser, receiver)
    start = len(receiver.events(customer=customer))
    for action in ("cancel", "resume", "cancel"):
        assert browser.portal(portal, action).status == 303
    events = receiver.wait_for(lambda e: len(e) >= start + 3, customer=customer)[start:]
    created = [e["created"] for e in events]
    assert created == sorted(created)
    assert len(set(created)) == 3


def test_the_hosted_invoice_page_pays_an_open_invoice(sdk, browser, receiver):
    customer, portal = subscribe(sdk, browser, receiver)
    assert browser.portal(portal, "fail").status == 303
    invoice = sdk.v1.invoices.list(params={"customer": customer}).data[0]
    assert invoice.status == "open"
    page = browser.get(invoice.hosted_invoice_url)
    assert page.status == 200
    assert f"Invoice {invoice.number}" in page.text

    card = {"card_number": "4000000000000002", "card_expiry": "12/34", "card_cvc": "123"}
    declined = browser.submit(
        page, action_endswith="/pay", hidden={"with": "new_card"}, values=card
    )
    assert declined.outcome == "declined"
    assert sdk.v1.invoices.retrieve(invoice.id).status == "open"

    paid = browser.submit(page, action_endswith="/pay", hidden={"with": "card_on_file"})
    assert paid.status == 303
    assert sdk.v1.invoices.retrieve(invoice.id).status == "paid"
    events = receiver.wait_for(
        lambda e: e[-1]["type"] == "customer.subscription.updated", customer=customer
    )
    assert events[-1]["data"]["object"]["status"] == "active"


# --------------------------------------------------------------------------- delivery


def test_a_receiver_that_fails_twice_still_gets_the_event_and_order_is_kept(
    sdk, browser, receiver, standin
):
    customer = customer_create(sdk)
    receiver.wait_for(lambda e: len(e) == 1, customer=customer)  # customer.created
    session = checkout_create(sdk, customer)
    receiver.fail_next(2)

    assert browser.checkout(session.url).status == 303

    events = receiver.wait_for(lambda e: len(e) == 7, customer=customer)
    assert types(events)[1:] == CHECKOUT_EVENTS
    attempts = [r for r in receiver.received(customer=customer) if r.event["id"] == events[1]["id"]]
    assert [r.answered for r in attempts] == [500, 500, 200]
    assert all(r.is_signed for r in attempts)
    assert len({r.signature for r in attempts}) >= 1  # signed again for each attempt
    log = requests.get(f"{standin}/_standin/deliveries", timeout=5).json()["data"]
    delivery = next(d for d in log if d["event_id"] == events[1]["id"])
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 3)


def test_duplicate_idempotency_keys_return_the_first_answer(sdk, standin):
    customer = customer_create(sdk)
    options: stripe.RequestOptions = {"idempotency_key": f"double-click-{customer}"}
    params: dict[str, Any] = {
        "mode": "subscription", "customer": customer,
        "line_items": [{"price": PRO, "quantity": 1}], "success_url": SUCCESS,
    }  # fmt: skip
    first = sdk.v1.checkout.sessions.create(params=params, options=options)
    second = sdk.v1.checkout.sessions.create(params=params, options=options)
    assert first.id == second.id
    with pytest.raises(stripe.IdempotencyError):
        sdk.v1.checkout.sessions.create(params=params | {"cancel_url": CANCEL}, options=options)


def test_the_api_refuses_what_stripe_refuses(sdk, standin):
    customer = customer_create(sdk)
    with pytest.raises(stripe.InvalidRequestError, match="Quantity should not be specified"):
        checkout_create(sdk, customer, price=BUSINESS, line_items=[{"price": BUSINESS,
                        "quantity": 1}])  # fmt: skip
    with pytest.raises(stripe.InvalidRequestError, match=r"No such price: 'price_nope'"):
        checkout_create(sdk, customer, line_items=[{"price": "price_nope", "quantity": 1}])
    with pytest.raises(stripe.InvalidRequestError, match="No such customer"):
        checkout_create(sdk, "cus_nope")
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter: discounts"):
        checkout_create(sdk, customer, discounts=[{"coupon": "x"}])
    with pytest.raises(stripe.InvalidRequestError, match=r"No such checkout\.session"):
        sdk.v1.checkout.sessions.retrieve("cs_test_nope")
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient(
            "pk_test_wrong", base_addresses={"api": standin}
        ).v1.checkout.sessions.retrieve("cs_test_nope")


def test_metered_usage_is_accepted_once_per_identifier_and_shown(sdk, browser, receiver, standin):
    customer, portal = subscribe(sdk, browser, receiver)
    assert browser.portal(portal, "switch", price=BUSINESS).status == 303
    now = int(time.time())
    for identifier in ("task-a", "task-a", "task-b"):  # a retried report counts once
        event = sdk.v1.billing.meter_events.create(
            params={"event_name": "taskscore_tasks", "identifier": identifier, "timestamp": now,
                    "payload": {"stripe_customer_id": customer, "value": "1"}},
            options={"idempotency_key": identifier},
        )  # fmt: skip
        assert (event.object, event.identifier) == ("billing.meter_event", identifier)
    recorded = requests.get(
        f"{standin}/_standin/meter_events", params={"customer": customer}, timeout=5
    ).json()["data"]
    assert sorted(e["identifier"] for e in recorded) == ["task-a", "task-b"]
    assert "2 tasks" in browser.get(portal).text

    # The next period bills them: 2 tasks × 2 cents
    assert browser.portal(portal, "renew").status == 303
    invoices = sdk.v1.invoices.list(params={"customer": customer}).data
    assert (invoices[0].amount_paid, invoices[0].status) == (4, "paid")
    with pytest.raises(stripe.InvalidRequestError, match="Timestamp must be within"):
        sdk.v1.billing.meter_events.create(
            params={"event_name": "taskscore_tasks", "timestamp": now - 40 * 86400,
                    "payload": {"stripe_customer_id": customer, "value": "1"}},
        )  # fmt: skip


# --------------------------------------------------------------------------- the pages


@pytest.mark.parametrize("kind", ["checkout", "portal"])
def test_pages_are_self_contained_and_labelled(sdk, browser, receiver, kind):
    if kind == "checkout":
        url = checkout_create(sdk, customer_create(sdk)).url
    else:
        _, url = subscribe(sdk, browser, receiver)
        assert browser.portal(url, "fail").status == 303  # the page then has a card form
    response = requests.get(url, timeout=5)
    text = response.text
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert '<html lang="en">' in text
    assert not re.search(r"<(script|link|img|iframe)\b", text)
    assert not re.search(r'src="', text)
    ids = set(re.findall(r'<input id="([^"]+)"', text))
    labelled = set(re.findall(r'<label for="([^"]+)"', text))
    assert ids
    assert ids <= labelled
    for form in forms_of(text):
        assert form.method == "post"
        assert form.button.strip()


def test_the_index_lists_endpoints_and_deliveries(standin, receiver):
    page = requests.get(f"{standin}/", timeout=5)
    assert page.status_code == 200
    assert receiver.url in page.text
    assert "Latest webhook deliveries" in page.text


def test_a_state_file_keeps_customers_and_subscriptions_across_a_restart(tmp_path, browser):
    port, state = free_port(), tmp_path / "standin.pickle"
    args = ("--state-file", str(state))
    process = start_stripe_standin(port=port, log_dir=tmp_path, extra_args=args)
    sdk = stripe.StripeClient("sk_test_standin", base_addresses={"api": f"http://127.0.0.1:{port}"})
    try:
        customer = customer_create(sdk)
        session = checkout_create(sdk, customer)
        assert browser.checkout(session.url).status == 303
        portal = sdk.v1.billing_portal.sessions.create(params={"customer": customer}).url
    finally:
        process.stop()  # SIGTERM: a clean shutdown saves

    process = start_stripe_standin(port=port, log_dir=tmp_path / "again", extra_args=args)
    try:
        subscriptions = sdk.v1.subscriptions.list(params={"customer": customer}).data
        assert [s.status for s in subscriptions] == ["active"]
        assert sdk.v1.checkout.sessions.retrieve(session.id).status == "complete"
        assert browser.portal(portal, "cancel").status == 303
    finally:
        process.stop()
