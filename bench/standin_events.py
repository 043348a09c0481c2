"""Lifecycles recorded from the offline Stripe stand-in, for `make chaos-billing`.

`record(count, ...)` starts the stand-in on loopback, drives `count` customers through scripted
journeys with the `stripe` SDK and the stand-in's own Checkout and portal forms (checkout with
or without a trial, with 4242 / 0341 / a declined card first; cancel and resume, plan switches,
renewals, failed payments and their recovery, metered usage, the end of a subscription), and
receives its signed webhooks on a loopback endpoint. Each customer's events, in the order they
arrived, become a template; `materialize` turns one into events of a given org under ids of
that org's prefix, so the chaos and reference sets get the same lifecycle under different ids.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe

# In the metadata while recording; the org's id in the materialized events.
ORG_REF = "ORGREF"
SIGNING_KEY = "whsec_chaos_standin"  # the throwaway stand-in's webhook secret
# Stripe ids in an event's JSON (prices and products are shared, and kept).
STRIPE_ID = re.compile(r"\b(cus|sub|in|evt|si|pm|ii|il|cs_test|bps)_([A-Za-z0-9]+)\b")


@dataclass(frozen=True)
class Journey:
    name: str
    price: str  # "pro" or "business"
    trial_days: int
    # tried in order at checkout (a declined one first changes nothing)
    cards: tuple[str, ...]
    # portal actions, space-separated: cancel, resume, renew, fail, pay, pay-new-card,
    # switch, usage (three meter events)
    steps: str


GOOD, LATER_FAILS, DECLINED = "4242424242424242", "4000000000000341", "4000000000000002"
JOURNEYS = (
    Journey("pro", "pro", 0, (GOOD,), "cancel resume fail pay"),
    Journey("pro-trial", "pro", 14, (GOOD,), "renew switch"),
    Journey("pro-0341", "pro", 0, (LATER_FAILS,), "renew pay-new-card cancel"),
    Journey("trial-0341", "pro", 14, (LATER_FAILS,), "renew"),
    Journey("business", "business", 0, (GOOD,), "usage renew switch cancel renew"),
    Journey("declined-first", "pro", 0, (DECLINED, GOOD), "fail"),
)


@dataclass
class Recording:
    templates: list[list[str]]  # per customer: its events' JSON, in arrival order
    customers: list[str]
    unsigned: int  # deliveries whose signature did not verify
    undelivered: int  # deliveries the stand-in had not completed in time
    seconds: float


def record(
    count: int,
    *,
    prices: dict[str, str],
    log_dir: Path | None = None,
    timeout: float = 60.0,
) -> Recording:
    from taskscore.testing.processes import free_port, start_stripe_standin
    from taskscore.testing.stripe_standin.driver import StandinBrowser
    from taskscore.testing.stripe_standin.receiver import WebhookReceiver, customer_of

    started = time.monotonic()
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="bench-standin-"))
    with WebhookReceiver(SIGNING_KEY) as receiver:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env_prices = {
            "STRIPE_PRICE_PRO": prices["pro"],
            "STRIPE_PRICE_BUSINESS": prices["business"],
        }
        process = start_stripe_standin(
            port=port, log_dir=log_dir, webhook_url=receiver.url, webhook_secret=SIGNING_KEY,
            env=dict(os.environ) | env_prices,
        )  # fmt: skip
        try:
            sdk = stripe.StripeClient("sk_test_bench", base_addresses={"api": base})
            journeys = [JOURNEYS[n % len(JOURNEYS)] for n in range(count)]

            def drive(journey: Journey) -> str:
                return _drive(sdk, StandinBrowser(), journey, prices)

            with ThreadPoolExecutor(max(1, min(count, 48))) as pool:
                customers = list(pool.map(drive, journeys))
            deadline = time.monotonic() + timeout
            while _pending(base) and time.monotonic() < deadline:
                time.sleep(0.2)
            undelivered = _pending(base)
        finally:
            process.stop()
        deliveries = receiver.received()
    templates: dict[str, list[str]] = {customer: [] for customer in customers}
    for delivery in deliveries:
        customer = customer_of(delivery.event)
        if customer in templates and 200 <= delivery.answered < 300:
            templates[customer].append(delivery.body.decode())
    return Recording(
        templates=[templates[c] for c in customers],
        customers=customers,
        unsigned=sum(1 for d in deliveries if not d.is_signed),
        undelivered=undelivered,
        seconds=time.monotonic() - started,
    )


def materialize(
    template: list[str], *, customer: str, prefix: str, org_id: int
) -> list[dict[str, Any]]:
    """The template's events with every Stripe id made the org's (`cus_<prefix>` for the
    customer, `<kind>_<prefix>_<suffix>` for the rest) and the org's id in the metadata."""

    def swap(match: re.Match[str]) -> str:
        if match.group(0) == customer:
            return f"cus_{prefix}"
        return f"{match.group(1)}_{prefix}_{match.group(2)}"

    return [
        json.loads(STRIPE_ID.sub(swap, text).replace(f'"{ORG_REF}"', f'"{org_id}"'))
        for text in template
    ]


def _pending(base: str) -> int:
    with urllib.request.urlopen(f"{base}/_standin/deliveries", timeout=10) as response:
        log = json.loads(response.read())["data"]
    return sum(1 for d in log if d["status"] == "pending")


def _drive(
    sdk: stripe.StripeClient,
    browser: Any,
    journey: Journey,
    prices: dict[str, str],
) -> str:
    """One customer's journey; returns its customer id."""
    customer = str(
        sdk.v1.customers.create(
            params={"name": f"chaos {journey.name}", "metadata": {"org_id": ORG_REF}}
        ).id
    )
    item: dict[str, Any] = {"price": prices[journey.price]}
    if journey.price == "pro":
        item["quantity"] = 1
    metadata = {"org_id": ORG_REF, "plan": journey.price}
    subscription_data: dict[str, Any] = {"metadata": metadata}
    if journey.trial_days:
        subscription_data["trial_period_days"] = journey.trial_days
    session = sdk.v1.checkout.sessions.create(
        params={
            "mode": "subscription", "customer": customer, "line_items": [item],
            "success_url": "http://127.0.0.1:9/billing?checkout=success",
            "cancel_url": "http://127.0.0.1:9/billing?checkout=canceled",
            "client_reference_id": ORG_REF,
            "metadata": {"org_id": ORG_REF, "plan": journey.price},
            "subscription_data": subscription_data,
        }
    )  # fmt: skip
    for card in journey.cards:
        page = browser.checkout(session.url, card=card)
        if page.status == 303:
            break
    portal = str(
        sdk.v1.billing_portal.sessions.create(
            params={"customer": customer, "return_url": "http://127.0.0.1:9/billing"}
        ).url
    )
    other = {"pro": prices["business"], "business": prices["pro"]}
    current = journey.price
    steps: dict[str, Callable[[], object]] = {
        "cancel": lambda: browser.portal(portal, "cancel"),
        "resume": lambda: browser.portal(portal, "resume"),
        "renew": lambda: browser.portal(portal, "renew"),
        "fail": lambda: browser.portal(portal, "fail"),
        "pay": lambda: browser.portal(portal, "pay", with_="card_on_file"),
        "pay-new-card": lambda: browser.submit(
            browser.get(portal),
            action_endswith="/pay",
            hidden={"with": "new_card"},
            values={
                "card_number": "4242424242424242",
                "card_expiry": "12/34",
                "card_cvc": "123",
            },
        ),
    }
    for step in journey.steps.split():
        if step == "switch":
            browser.portal(portal, "switch", price=other[current])
            current = "business" if current == "pro" else "pro"
        elif step == "usage":
            for n in range(3):
                sdk.v1.billing.meter_events.create(
                    params={"event_name": "taskscore_tasks", "identifier": f"{customer}-{n}",
                            "payload": {"stripe_customer_id": customer, "value": "1"}},
                )  # fmt: skip
        else:
            steps[step]()
    return customer
