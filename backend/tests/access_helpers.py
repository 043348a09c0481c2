"""Helpers of the tests of who may do what (members, roles, invitations, keys, audit)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.test import Client

from conftest import Actor
from taskscore.audit.models import AuditEvent
from taskscore.orgs.models import Membership, Organization
from taskscore.rbac.models import Role
from taskscore.testing.factories import MembershipFactory, UserFactory
from tests.authz_cases import (
    call,
)

ACME = "/api/v2/orgs/acme"


def json_of(response: HttpResponse) -> Any:
    return json.loads(response.content)


def join(email: str, org: Organization, role: Role) -> Actor:
    user = UserFactory.create(email=email)
    MembershipFactory.create(user=user, org=org, role=role)
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return Actor(email=email, org=org, role=role.key, client=client)


def membership_id(email: str) -> int:
    return Membership.objects.get(user__email=email).pk


def audit_events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def invite(client: Client, email: str, role: str = "member") -> HttpResponse:
    return call(client, "POST", f"{ACME}/invitations", {"email": email, "role": role})


def accept_token(response: HttpResponse) -> str:
    token: str = json_of(response)["accept_url"].rsplit("/", 1)[1]
    return token


def login_as(email: str) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(UserFactory.create(email=email))
    return client
