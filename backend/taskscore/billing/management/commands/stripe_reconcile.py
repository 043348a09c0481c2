"""`manage.py stripe_reconcile [--org SLUG] [--days N]`

Replays the events Stripe lists for the last N days (default 30, Stripe's retention) that were
never applied, re-fetches the subscriptions of the org (default: every org with a Stripe
customer) and repairs the local state, then retries events stuck `received` or `failed`."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from taskscore.billing.reconcile import billing_reconcile
from taskscore.integrations.stripe import StripeError
from taskscore.orgs.models import Organization


class Command(BaseCommand):
    help = "Re-sync billing state from Stripe and replay undelivered events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="Only this org's subscriptions (its slug).")
        parser.add_argument("--days", type=int, default=30, help="Replay events this recent.")

    def handle(self, *args: Any, **options: Any) -> None:
        org_ids: list[int] | None = None
        if options["org"]:
            org = Organization.objects.filter(slug=options["org"]).first()
            if org is None:
                raise CommandError(f"No org with the slug {options['org']!r}.")
            org_ids = [org.pk]
        try:
            report = billing_reconcile(org_ids=org_ids, replay_days=options["days"])
        except StripeError as exc:
            raise CommandError(f"Stripe failed: {exc}") from exc
        self.stdout.write(json.dumps(report.__dict__))
