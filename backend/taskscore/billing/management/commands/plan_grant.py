"""`manage.py plan_grant --org SLUG --plan CODE` (or `--plan none` to take a grant back)

Gives an org a plan without a subscription: the demo org, a partner, a customer an operator
compensates. The grant applies while no subscription gives a higher plan and is never billed
(see docs/decisions/0011-plan-features.md). Audited as `billing.plan_granted`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from taskscore.billing.services import billing_plan_grant
from taskscore.core.errors import NotFound
from taskscore.orgs.models import Organization
from taskscore.rbac.callers import OPERATOR


class Command(BaseCommand):
    help = "Give an org a plan without a subscription (or take it back with --plan none)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="The org's slug.")
        parser.add_argument("--plan", required=True, help="A plan's code, or 'none'.")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=options["org"]).first()
        if org is None:
            raise CommandError(f"No org with the slug {options['org']!r}.")
        code = None if options["plan"] == "none" else options["plan"]
        try:
            billing = billing_plan_grant(org_id=org.pk, plan_code=code, caller=OPERATOR)
        except NotFound as exc:
            raise CommandError(exc.detail) from exc
        granted = billing.granted_plan.code if billing.granted_plan else "none"
        self.stdout.write(f"{org.slug}: granted plan {granted}")
