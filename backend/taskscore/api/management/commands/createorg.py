"""`manage.py createorg --name NAME --owner-email EMAIL [--password P] [--json]`

Creates an org, its owner (a new user, or the existing one with that email) and an owner API key.
A new owner's address is created verified: the operator vouches for it.
Operators bootstrap with it; tests and `make run` use it for the demo org."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from taskscore.accounts.selectors import user_get_by_email
from taskscore.accounts.services import user_create
from taskscore.core.errors import EmailNotVerified, ValidationFailed
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
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        email: str = options["owner_email"].strip().lower()
        if "@" not in email:
            raise CommandError(f"{email!r} is not an email address.")
        password: str | None = None
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
        except ValidationFailed as exc:
            raise CommandError(exc.detail) from exc
        except EmailNotVerified as exc:
            # A new owner is created verified (the operator vouches for the address); an existing
            # account's unverified address may not be its holder's, so it gets no org.
            raise CommandError(
                f"{email} has an account whose email address is not verified yet; they must "
                "verify it (the link in their verification mail) before owning an organization."
            ) from exc
        result = {
            "org": {"id": org.pk, "slug": org.slug, "name": org.name},
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
