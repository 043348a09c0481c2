"""`manage.py demo --state FILE`: make sure the demo org and its owner exist; print the login.

`make run` calls it on every start. The first time (or after the database was reset) it creates
the org with `createorg`'s services and a random password, and keeps the login in FILE (an
ignored, project-local file) so later runs can print it again. The demo org is granted the Pro
plan (its API key works; Business's features show what an upgrade unlocks)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from taskscore.accounts.selectors import user_get_by_email
from taskscore.accounts.services import user_create
from taskscore.billing.services import billing_plan_grant
from taskscore.orgs.models import Organization
from taskscore.orgs.selectors import memberships_of_user
from taskscore.orgs.services import api_key_create
from taskscore.rbac.callers import OPERATOR
from taskscore.scoring.services import org_open

DEMO_EMAIL = "demo@taskscore.localhost"
DEMO_PLAN = "pro"


class Command(BaseCommand):
    help = "Create the demo org and owner once; print the demo login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--state", type=Path, required=True, help="Where the login is kept.")

    def handle(self, *args: Any, **options: Any) -> None:
        state_path: Path = options["state"]
        state = json.loads(state_path.read_text()) if state_path.exists() else None
        user = user_get_by_email(email=DEMO_EMAIL)
        if state is None or user is None or not user.check_password(state["password"]):
            state = self._create(existing=user)
            state_path.parent.mkdir(parents=True, exist_ok=True)
            state_path.write_text(json.dumps(state))
            state_path.chmod(0o600)
        org = Organization.objects.filter(slug=state["org"]).first()
        if org is not None:
            billing_plan_grant(org_id=org.pk, plan_code=DEMO_PLAN, caller=OPERATOR)
        self.stdout.write(f"Demo login: {state['email']} / {state['password']}")
        self.stdout.write(f"Demo API key (org {state['org']}): {state['api_key']}")

    @transaction.atomic
    def _create(self, *, existing: Any) -> dict[str, str]:
        password = secrets.token_urlsafe(9)
        if existing is None:
            user = user_create(email=DEMO_EMAIL, password=password, is_email_verified=True)
        else:  # the state file was lost: give the existing demo user a new password
            user = existing
            user.set_password(password)
            user.save(update_fields=["password"])
        membership = memberships_of_user(user_id=user.pk).first()
        org = membership.org if membership else org_open(name="Demo", owner=user)
        key = api_key_create(
            org=org, name="Demo key", role_key="owner", caller=OPERATOR, created_by=user
        )
        return {"email": user.email, "password": password, "org": org.slug, "api_key": key.token}
