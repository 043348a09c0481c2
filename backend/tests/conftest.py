"""Fixtures of the cross-cutting tests: a custom role and its holder, an admin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from conftest import Actor
from taskscore.orgs.models import Organization
from taskscore.rbac.models import Role
from taskscore.rbac.services import role_builtin, role_create
from taskscore.testing.fake_stripe import FakeStripeServer
from tests.access_helpers import join
from tests.authz_cases import (
    CUSTOM_PERMISSIONS,
    SETUP_CALLER,
)


@pytest.fixture
def admin(org: Organization) -> Actor:
    return join("dave@acme.test", org, role_builtin("admin"))


@pytest.fixture
def analyst(org: Organization) -> Role:
    return role_create(
        org_id=org.pk, key="analyst", name="Analyst", permissions=sorted(CUSTOM_PERMISSIONS),
        caller=SETUP_CALLER,
    )  # fmt: skip


@pytest.fixture
def erin(org: Organization, analyst: Role) -> Actor:
    """A member of acme with the custom role `analyst`."""
    return join("erin@acme.test", org, analyst)


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripeServer]:
    with FakeStripeServer() as server, override_settings(STRIPE_API_BASE=server.url):
        yield server
