"""The role hierarchy and custom roles, through the API: each role may do what the one below may;
custom roles hold only what their creator holds; a change applies to the very next request."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from conftest import Actor
from taskscore.orgs.models import Organization
from taskscore.rbac.catalog import ADMIN, BUILTIN_ROLES, MEMBER, OWNER, PERMISSIONS, VIEWER
from taskscore.rbac.models import Role
from taskscore.rbac.services import role_builtin
from taskscore.tasks.models import Task
from taskscore.testing.factories import org_plan_grant
from taskscore.testing.fake_stripe import FakeStripeServer
from tests.access_helpers import (
    ACME,
    accept_token,
    audit_events,
    invite,
    json_of,
    login_as,
    membership_id,
)
from tests.authz_cases import (
    CASES,
    CUSTOM_PERMISSIONS,
    PRINCIPAL,
    VALID_TASK,
    Case,
    assert_problem,
    build_world,
    call,
    prepare,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _business(request: pytest.FixtureRequest) -> None:
    """Creating and editing custom roles needs Business (a lower plan: test_plan_features.py)."""
    if "org" in request.fixturenames:  # (the matrix's world has its own orgs and plans)
        org: Organization = request.getfixturevalue("org")
        org_plan_grant(org, "business")


# ---------------------------------------------------------------------------------- hierarchy


def test_builtin_permission_sets_nest_viewer_member_admin_owner() -> None:
    assert VIEWER < MEMBER < ADMIN < OWNER
    assert set(PERMISSIONS) == OWNER
    # and the built-in roles in the database are the catalog's
    stored = {r.key: set(r.permissions) for r in Role.objects.filter(org__isnull=True)}
    assert stored == {key: set(permissions) for key, (_, permissions) in BUILTIN_ROLES.items()}


LADDER = ["carol", "bob", "admin", "alice"]  # viewer, member, admin, owner


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CASES if c.api == "v2"], ids=str)
def test_through_the_api_each_builtin_role_may_do_whatever_the_one_below_may(
    case: Case, fake_stripe: FakeStripeServer
) -> None:
    # given one world, and each rung's request run in a savepoint rolled back after it
    world = build_world()
    statuses: dict[str, int] = {}
    for name in LADDER:
        savepoint = transaction.savepoint()
        try:
            statuses[name] = prepare(world, PRINCIPAL[name], case).send().status_code
        finally:
            transaction.savepoint_rollback(savepoint)
    # then the rungs allowed (2xx) are the top of the ladder, and those below are 403
    allowed = [name for name in LADDER if 200 <= statuses[name] < 300]
    assert allowed == LADDER[len(LADDER) - len(allowed) :], statuses
    assert {statuses[name] for name in LADDER if name not in allowed} <= {403}, statuses


# ---------------------------------------------------------------------------------- custom roles


def test_an_admin_creates_a_role_with_permissions_it_holds(admin: Actor) -> None:
    # when
    response = call(admin.client, "POST", f"{ACME}/roles", {
        "key": "triage", "name": "Triage", "permissions": ["task.rescore", "task.read"],
    })  # fmt: skip
    # then
    assert response.status_code == 201
    assert json_of(response) == {
        "key": "triage", "name": "Triage", "description": "",
        "permissions": ["task.read", "task.rescore"], "is_builtin": False, "can_grant": True,
    }  # fmt: skip
    [event] = audit_events("role.created")
    assert (event.actor_label, event.target_id, event.before, event.after) == (
        admin.email, "triage", None,
        {"key": "triage", "name": "Triage", "permissions": ["task.read", "task.rescore"]},
    )  # fmt: skip


@pytest.mark.parametrize("permission", ["org.owner", "billing.manage"])
def test_an_admin_cannot_create_a_role_with_a_permission_it_lacks(
    admin: Actor, permission: str
) -> None:
    response = call(admin.client, "POST", f"{ACME}/roles", {
        "key": "boss", "name": "Boss", "permissions": ["task.read", permission],
    })  # fmt: skip
    assert assert_problem(response, 403)["permission"] == permission
    assert not Role.objects.filter(key="boss").exists()
    assert audit_events("role.created") == []


def test_a_role_with_an_unknown_permission_is_422(alice: Actor) -> None:
    response = call(alice.client, "POST", f"{ACME}/roles", {
        "key": "triage", "name": "Triage", "permissions": ["task.read", "task.delete"],
    })  # fmt: skip
    # the catalogue is the document's enum (finding 12): the unknown one is named by position
    assert [e["field"] for e in assert_problem(response, 422)["errors"]] == ["permissions.1"]
    assert not Role.objects.filter(key="triage").exists()


@pytest.mark.parametrize("key", ["admin", "owner", "Bad Key"])
def test_a_role_key_that_is_built_in_or_malformed_is_422(alice: Actor, key: str) -> None:
    response = call(alice.client, "POST", f"{ACME}/roles", {
        "key": key, "name": "X", "permissions": ["task.read"],
    })  # fmt: skip
    assert [e["field"] for e in assert_problem(response, 422)["errors"]] == ["key"]
    assert Role.objects.filter(org__isnull=False).count() == 0


def test_a_duplicate_role_key_is_409(alice: Actor) -> None:
    body = {"key": "triage", "name": "Triage", "permissions": ["task.read"]}
    assert call(alice.client, "POST", f"{ACME}/roles", body).status_code == 201
    assert_problem(call(alice.client, "POST", f"{ACME}/roles", body), 409)
    assert Role.objects.filter(key="triage").count() == 1


def test_a_role_change_applies_to_the_very_next_request_of_its_holders(
    alice: Actor, erin: Actor
) -> None:
    # given erin's custom role lets her submit (and her grant is cached by that request)
    assert call(erin.client, "POST", f"{ACME}/tasks", VALID_TASK).status_code == 201
    # when alice takes task.create out of the role
    response = call(alice.client, "PATCH", f"{ACME}/roles/analyst", {
        "permissions": ["members.read", "task.read"],
    })  # fmt: skip
    assert (response.status_code, json_of(response)["permissions"]) == (
        200, ["members.read", "task.read"]
    )  # fmt: skip
    # then erin's very next submission is refused
    denied = call(erin.client, "POST", f"{ACME}/tasks", VALID_TASK)
    assert assert_problem(denied, 403)["permission"] == "task.create"
    assert Task.objects.count() == 1
    # and giving it back applies at once too
    call(
        alice.client, "PATCH", f"{ACME}/roles/analyst", {"permissions": sorted(CUSTOM_PERMISSIONS)}
    )
    assert call(erin.client, "POST", f"{ACME}/tasks", VALID_TASK).status_code == 201
    first, second = audit_events("role.updated")
    assert (first.actor_label, first.before, first.after) == (
        alice.email,
        {"key": "analyst", "name": "Analyst", "permissions": sorted(CUSTOM_PERMISSIONS)},
        {"key": "analyst", "name": "Analyst", "permissions": ["members.read", "task.read"]},
    )
    assert second.after == {
        "key": "analyst", "name": "Analyst", "permissions": sorted(CUSTOM_PERMISSIONS)
    }  # fmt: skip


def test_an_admin_cannot_change_or_delete_a_role_holding_permissions_it_lacks(
    alice: Actor, admin: Actor
) -> None:
    # given alice made a role with billing.manage
    created = call(alice.client, "POST", f"{ACME}/roles", {
        "key": "finance", "name": "Finance", "permissions": ["billing.manage", "billing.read"],
    })  # fmt: skip
    assert created.status_code == 201
    # then the admin may neither rename nor delete it
    renamed = call(admin.client, "PATCH", f"{ACME}/roles/finance", {"name": "Money"})
    assert assert_problem(renamed, 403)["permission"] == "billing.manage"
    deleted = call(admin.client, "DELETE", f"{ACME}/roles/finance")
    assert assert_problem(deleted, 403)["permission"] == "billing.manage"
    assert Role.objects.get(key="finance").name == "Finance"


def test_a_role_in_use_cannot_be_deleted_an_unused_one_can(alice: Actor, erin: Actor) -> None:
    # a role a member holds: 409
    assert_problem(call(alice.client, "DELETE", f"{ACME}/roles/analyst"), 409)
    assert Role.objects.filter(key="analyst").exists()
    # an unused one: 204, audited
    call(alice.client, "POST", f"{ACME}/roles", {
        "key": "spare", "name": "Spare", "permissions": ["task.read"],
    })  # fmt: skip
    assert call(alice.client, "DELETE", f"{ACME}/roles/spare").status_code == 204
    assert not Role.objects.filter(key="spare").exists()
    [event] = audit_events("role.deleted")
    assert (event.actor_label, event.before, event.after) == (
        alice.email, {"key": "spare", "name": "Spare", "permissions": ["task.read"]}, None
    )  # fmt: skip


def test_a_role_a_pending_invitation_names_cannot_be_deleted(alice: Actor, analyst: Role) -> None:
    invited = call(alice.client, "POST", f"{ACME}/invitations", {
        "email": "new@example.test", "role": "analyst",
    })  # fmt: skip
    assert invited.status_code == 201
    assert_problem(call(alice.client, "DELETE", f"{ACME}/roles/analyst"), 409)


@pytest.mark.parametrize("history", ["revoked key", "accepted invitation"])
def test_deleting_a_role_only_history_references_is_not_a_server_error(
    alice: Actor, history: str
) -> None:
    # given a custom role that nobody holds any more, but that a past key or invitation names
    call(alice.client, "POST", f"{ACME}/roles", {
        "key": "analyst", "name": "Analyst", "permissions": ["task.read"],
    })  # fmt: skip
    if history == "revoked key":
        key = json_of(
            call(alice.client, "POST", f"{ACME}/api-keys", {"name": "x", "role": "analyst"})
        )
        assert call(alice.client, "DELETE", f"{ACME}/api-keys/{key['id']}").status_code == 204
    else:
        newbie = login_as("newbie@example.test")
        token = accept_token(invite(alice.client, "newbie@example.test", "analyst"))
        assert (
            call(newbie, "POST", "/api/v2/invitations/accept", {"token": token}).status_code == 201
        )
        newbie_url = f"{ACME}/members/{membership_id('newbie@example.test')}"
        assert call(alice.client, "PATCH", newbie_url, {"role": "member"}).status_code == 200
    # when alice deletes it, then it is deleted or refused as a conflict, never a 500
    response = call(alice.client, "DELETE", f"{ACME}/roles/analyst")
    assert response.status_code in (204, 409), response.content


@pytest.mark.parametrize(("method", "body"), [("PATCH", {"name": "Boss"}), ("DELETE", None)])
def test_built_in_roles_cannot_be_changed(alice: Actor, method: str, body: Any) -> None:
    assert_problem(call(alice.client, method, f"{ACME}/roles/admin", body), 409)
    assert role_builtin("admin").name == "Admin"
