"""API keys, through the API: the token shown once, revocation on the very next request, and no
key above its creator's role."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import Actor
from taskscore.orgs.models import ApiKey, Organization
from taskscore.orgs.services import CreatedKey, api_key_create
from taskscore.rbac.callers import OPERATOR
from taskscore.testing.factories import org_plan_grant
from tests.access_helpers import ACME, audit_events, json_of
from tests.authz_cases import (
    VALID_TASK,
    assert_problem,
    call,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pro(org: Organization) -> None:
    """API keys need Pro or higher (what a Free org meets: tests/test_plan_features.py)."""
    org_plan_grant(org, "pro")


# ---------------------------------------------------------------------------------- API keys


def test_a_created_key_shows_its_token_once_and_works_at_once(alice: Actor) -> None:
    # when
    response = call(alice.client, "POST", f"{ACME}/api-keys", {"name": "deploy", "role": "member"})
    # then the token is in the answer
    assert response.status_code == 201
    created = json_of(response)
    token = created["token"]
    assert (token.startswith(f"ts_{created['prefix']}_"), created["role"]) == (True, "member")
    # and nowhere in the list
    listed = call(alice.client, "GET", f"{ACME}/api-keys")
    assert [(k["id"], "token" in k) for k in json_of(listed)["items"]] == [(created["id"], False)]
    assert token.split("_")[2].encode() not in listed.content
    # and the key acts at once, with its role
    assert call(Client(), "POST", f"{ACME}/tasks", VALID_TASK, token=token).status_code == 201
    refused = call(Client(), "GET", f"{ACME}/api-keys", token=token)
    assert assert_problem(refused, 403)["permission"] == "apikeys.read"
    key = ApiKey.objects.get()
    assert key.created_by is not None
    assert key.created_by.email == alice.email
    [event] = audit_events("api_key.created")
    assert (event.actor_label, event.after) == (
        alice.email,
        {"name": "deploy", "prefix": created["prefix"], "role": "member", "expires_at": None},
    )  # fmt: skip


def test_a_revoked_key_is_401_on_the_very_next_request(alice: Actor, owner_key: CreatedKey) -> None:
    # given the key works (and its grant is cached)
    url = f"{ACME}/tasks"
    assert call(Client(), "GET", url, token=owner_key.token).status_code == 200
    # when alice revokes it
    key_id = owner_key.api_key.pk
    assert call(alice.client, "DELETE", f"{ACME}/api-keys/{key_id}").status_code == 204
    # then
    assert_problem(call(Client(), "GET", url, token=owner_key.token), 401)
    [listed] = json_of(call(alice.client, "GET", f"{ACME}/api-keys"))["items"]
    assert listed["revoked_at"] is not None
    [event] = audit_events("api_key.revoked")
    assert (event.actor_label, event.target_id, event.before) == (
        alice.email, str(key_id), {"prefix": owner_key.api_key.prefix, "role": "owner"}
    )  # fmt: skip


def test_a_member_key_cannot_create_keys(org: Organization) -> None:
    member_key = api_key_create(org=org, name="bot", role_key="member", caller=OPERATOR)
    response = call(Client(), "POST", f"{ACME}/api-keys", {"name": "x"}, token=member_key.token)
    assert assert_problem(response, 403)["permission"] == "apikeys.manage"
    assert ApiKey.objects.count() == 1


def test_a_key_cannot_get_a_role_above_its_creator(admin: Actor, org: Organization) -> None:
    # an admin (session) and an admin-role key may hand out admin, not owner
    admin_key = api_key_create(org=org, name="ops", role_key="admin", caller=OPERATOR)
    for client, token in [(admin.client, None), (Client(), admin_key.token)]:
        refused = call(
            client, "POST", f"{ACME}/api-keys", {"name": "root", "role": "owner"}, token=token
        )
        assert assert_problem(refused, 403)["permission"] == "billing.manage"
        granted = call(
            client, "POST", f"{ACME}/api-keys", {"name": "ops2", "role": "admin"}, token=token
        )
        assert granted.status_code == 201
    assert sorted(ApiKey.objects.values_list("role__key", flat=True)) == ["admin"] * 3


def test_an_admin_cannot_revoke_an_owner_key(admin: Actor, owner_key: CreatedKey) -> None:
    response = call(admin.client, "DELETE", f"{ACME}/api-keys/{owner_key.api_key.pk}")
    assert assert_problem(response, 403)["permission"] == "billing.manage"
    assert call(Client(), "GET", f"{ACME}/tasks", token=owner_key.token).status_code == 200
