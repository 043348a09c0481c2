"""`manage.py createorg --name NAME --owner-email EMAIL [--password P] [--plan CODE] [--json]`

Creates an org, its owner (a new user, or the existing one with that email) and an owner API key.
A new owner's address is created verified: the operator vouches for it. `--plan pro` (or
`business`) grants the org that plan without a subscription (`plan_grant`); API keys need Pro or
higher, so on Free the owner key is kept but refused until the org upgrades.
Operators bootstrap with it; tests and `make run` use it for the demo org."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from taskscore.accounts.selectors import user_get_by_email
from taskscore.accounts.services import user_create
from taskscore.billing.features import Feature
from taskscore.billing.selectors import FREE_PLAN, plan_features, plan_get
from taskscore.billing.services import billing_plan_grant
from taskscore.core.errors import EmailNotVerified, NotFound, ValidationFailed
from taskscore.orgs.services import api_key_create
from taskscore.rbac.callers import OPERATOR
from taskscore.scoring.services import org_open


class Command(BaseCommand):
    help = "Create an organization, its owner user and an owner API key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The organization's name.")
        parser.add_argument("--owner-email", required=True, help="The owner's login email.")
        parser.add_argument(
            "--password",
            help="The new owner's password (default: a random one, printed once).",
        )
        parser.add_argument(
            "--plan",
            default="free",
            help="Grant the org this plan without a subscription (default: free, no grant).",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        email: str = options["owner_email"].strip().lower()
        if "@" not in email:
            raise CommandError(f"{email!r} is not an email address.")
        password: str | None = None
        try:
            plan = plan_get(code=options["plan"])
        except NotFound as exc:
            raise CommandError(exc.detail) from exc
        try:
            with transaction.atomic():
                owner = user_get_by_email(email=email)
                if owner is None:
                    password = options["password"] or secrets.token_urlsafe(12)
                    owner = user_create(email=email, password=password, is_email_verified=True)
                org = org_open(name=options["name"], owner=owner)
                created = api_key_create(
                    org=org,
                    name="Owner key (createorg)",
                    role_key="owner",
                    caller=OPERATOR,
                    created_by=owner,
                )
                if plan.code != FREE_PLAN:
                    billing_plan_grant(org_id=org.pk, plan_code=plan.code, caller=OPERATOR)
        except ValidationFailed as exc:
            raise CommandError(exc.detail) from exc
        except EmailNotVerified as exc:
            # A new owner is created verified (the operator vouches for the address); an existing
            # account's unverified address may not be its holder's, so it gets no org.
            raise CommandError(
                f"{email} has an account whose email address is not verified yet; they must "
                "verify it (the link in their verification mail) before owning an organization."
            ) from exc
        key_works = Feature.API_KEYS in plan_features(plan)
        result = {
            "org": {"id": org.pk, "slug": org.slug, "name": org.name, "plan": plan.code},
            "owner": {"id": owner.pk, "email": owner.email, "password": password},
            "api_key": {"prefix": created.api_key.prefix, "token": created.token},
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"Organization {org.name} ({org.slug}) created.")
        if password:
            self.stdout.write(f"Owner {owner.email} with password {password}")
        else:
            self.stdout.write(f"Owner {owner.email} (existing user, password unchanged)")
        self.stdout.write(f"Owner API key (shown once): {created.token}")
        if not key_works:
            self.stdout.write(
                f"The {plan.name} plan does not include API keys: the key is refused until the "
                "org is on Pro or higher (Checkout, or `manage.py plan_grant`)."
            )
