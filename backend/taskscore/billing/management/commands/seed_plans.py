"""`manage.py seed_plans [--localstripe]`

Points the paid plans at the Stripe prices configured in STRIPE_PRICE_PRO/STRIPE_PRICE_BUSINESS
(the migration seeds them once). With --localstripe, also creates those prices in the
localstripe server at STRIPE_API_BASE (as legacy `plans`, which localstripe has instead of
prices), so `make run` works offline."""

from __future__ import annotations

from typing import Any

import stripe
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from taskscore.billing.services import plans_seed

AMOUNTS = {"pro": 2900, "business": 0}


class Command(BaseCommand):
    help = "Set the Stripe price ids of the paid plans (and create them in localstripe)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--localstripe", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        prices = {"pro": settings.STRIPE_PRICE_PRO, "business": settings.STRIPE_PRICE_BUSINESS}
        plans_seed()
        if options["localstripe"]:
            client = stripe.StripeClient(
                settings.STRIPE_API_KEY, base_addresses={"api": settings.STRIPE_API_BASE}
            )
            for code, price in prices.items():
                try:
                    client.v1.plans.retrieve(price)
                except stripe.InvalidRequestError:
                    client.v1.plans.create(
                        params={
                            "id": price,
                            "amount": AMOUNTS[code],
                            "currency": "usd",
                            "interval": "month",
                            "product": {"name": f"Taskscore {code}"},
                        },
                        options={"idempotency_key": f"taskscore-seed-{price}"},
                    )
        self.stdout.write(f"plans: {prices}")
