"""Who may do what, through the API: the role hierarchy, custom roles, members, invitations,
API keys and the audit log. Every change takes effect on the very next request (the permission
cache is never stale) and leaves an audit event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.utils import timezone

from conftest import Actor
from taskscore.accounts.models import User
from taskscore.audit.models import AuditEvent
from taskscore.orgs.models import ApiKey, Invitation, Membership, Organization
from taskscore.orgs.services import CreatedKey, api_key_create
from taskscore.rbac import cache
from taskscore.rbac.callers import OPERATOR
from taskscore.rbac.catalog import ADMIN, BUILTIN_ROLES, MEMBER, OWNER, PERMISSIONS, VIEWER
from taskscore.rbac.models import Role
from taskscore.rbac.services import role_builtin, role_create
from taskscore.tasks.models import Task
from taskscore.testing.factories import MembershipFactory, TaskFactory, UserFactory
from taskscore.testing.fake_stripe import FakeStripeServer
from tests.authz_cases import (
    CASES,
    CUSTOM_PERMISSIONS,
    PRINCIPAL,
    SETUP_CALLER,
    VALID_TASK,
    Case,
    assert_problem,
    build_world,
    call,
    prepare,
)

pytestmark = pytest.mark.django_db

ACME = "/api/v2/orgs/acme"


def _body(response: HttpResponse) -> Any:
    return json.loads(response.content)


def _join(email: str, org: Organization, role: Role) -> Actor:
    user = UserFactory.create(email=email)
    MembershipFactory.create(user=user, org=org, role=role)
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return Actor(email=email, org=org, role=role.key, client=client)


def _membership_id(email: str) -> int:
    return Membership.objects.get(user__email=email).pk


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def _invite(client: Client, email: str, role: str = "member") -> HttpResponse:
    return call(client, "POST", f"{ACME}/invitations", {"email": email, "role": role})


def _token(response: HttpResponse) -> str:
    token: str = _body(response)["accept_url"].rsplit("/", 1)[1]
    return token


def _login(email: str) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(UserFactory.create(email=email))
    return client


@pytest.fixture
def admin(org: Organization) -> Actor:
    return _join("dave@acme.test", org, role_builtin("admin"))


@pytest.fixture
def analyst(org: Organization) -> Role:
    return role_create(
        org_id=org.pk, key="analyst", name="Analyst", permissions=sorted(CUSTOM_PERMISSIONS),
        caller=SETUP_CALLER,
    )  # fmt: skip


@pytest.fixture
def erin(org: Organization, analyst: Role) -> Actor:
    """A member of acme with the custom role `analyst`."""
    return _join("erin@acme.test", org, analyst)


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripeServer]:
    with FakeStripeServer() as server, override_settings(STRIPE_API_BASE=server.url):
        yield server


# ---------------------------------------------------------------------------------- hierarchy


def test_builtin_permission_sets_nest_viewer_member_admin_owner() -> None:
    assert VIEWER < MEMBER < ADMIN < OWNER
    assert set(PERMISSIONS) == OWNER
    # and the built-in roles in the database are the catalog's
    stored = {r.key: set(r.permissions) for r in Role.objects.filter(org__isnull=True)}
    assert stored == {key: set(permissions) for key, (_, permissions) in BUILTIN_ROLES.items()}


LADDER = ["carol", "bob", "admin", "alice"]  # viewer, member, admin, owner


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
    assert _body(response) == {
        "key": "triage", "name": "Triage", "description": "",
        "permissions": ["task.read", "task.rescore"], "is_builtin": False,
    }  # fmt: skip
    [event] = _events("role.created")
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
    assert _events("role.created") == []


def test_a_role_with_an_unknown_permission_is_422(alice: Actor) -> None:
    response = call(alice.client, "POST", f"{ACME}/roles", {
        "key": "triage", "name": "Triage", "permissions": ["task.read", "task.delete"],
    })  # fmt: skip
    assert assert_problem(response, 422)["errors"] == [
        {"field": "permissions", "message": "Unknown: task.delete."}
    ]
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
    assert (response.status_code, _body(response)["permissions"]) == (
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
    first, second = _events("role.updated")
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
    [event] = _events("role.deleted")
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
        key = _body(
            call(alice.client, "POST", f"{ACME}/api-keys", {"name": "x", "role": "analyst"})
        )
        assert call(alice.client, "DELETE", f"{ACME}/api-keys/{key['id']}").status_code == 204
    else:
        newbie = _login("newbie@example.test")
        token = _token(_invite(alice.client, "newbie@example.test", "analyst"))
        assert (
            call(newbie, "POST", "/api/v2/invitations/accept", {"token": token}).status_code == 201
        )
        newbie_url = f"{ACME}/members/{_membership_id('newbie@example.test')}"
        assert call(alice.client, "PATCH", newbie_url, {"role": "member"}).status_code == 200
    # when alice deletes it, then it is deleted or refused as a conflict, never a 500
    response = call(alice.client, "DELETE", f"{ACME}/roles/analyst")
    assert response.status_code in (204, 409), response.content


@pytest.mark.parametrize(("method", "body"), [("PATCH", {"name": "Boss"}), ("DELETE", None)])
def test_built_in_roles_cannot_be_changed(alice: Actor, method: str, body: Any) -> None:
    assert_problem(call(alice.client, method, f"{ACME}/roles/admin", body), 409)
    assert role_builtin("admin").name == "Admin"


# ---------------------------------------------------------------------------------- members


def test_an_admin_makes_bob_a_viewer_and_his_next_request_is_refused(
    admin: Actor, bob: Actor
) -> None:
    # given bob may submit (and his grant is cached)
    assert call(bob.client, "POST", f"{ACME}/tasks", VALID_TASK).status_code == 201
    # when the admin makes him a viewer
    response = call(
        admin.client, "PATCH", f"{ACME}/members/{_membership_id(bob.email)}", {"role": "viewer"}
    )
    assert (response.status_code, _body(response)["role"]) == (200, "viewer")
    # then his very next submission is refused
    denied = call(bob.client, "POST", f"{ACME}/tasks", VALID_TASK)
    assert assert_problem(denied, 403)["permission"] == "task.create"
    assert Task.objects.count() == 1
    [event] = _events("member.role_changed")
    assert (event.actor_label, event.actor_user_id, event.before, event.after) == (
        admin.email, User.objects.get(email=admin.email).pk,
        {"email": bob.email, "role": "member"}, {"email": bob.email, "role": "viewer"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("method", "target", "body"),
    [
        ("PATCH", "alice@acme.test", {"role": "viewer"}),  # change an owner
        ("DELETE", "alice@acme.test", None),  # remove an owner
        ("PATCH", "bob@acme.test", {"role": "owner"}),  # make someone owner
    ],
)
def test_an_admin_cannot_change_remove_or_make_an_owner(
    alice: Actor, admin: Actor, bob: Actor, method: str, target: str, body: Any
) -> None:
    before = sorted(Membership.objects.values_list("user__email", "role__key"))
    response = call(admin.client, method, f"{ACME}/members/{_membership_id(target)}", body)
    # the owner role holds what the admin's lacks; the first of those is named
    assert assert_problem(response, 403)["permission"] == "billing.manage"
    assert sorted(Membership.objects.values_list("user__email", "role__key")) == before
    assert _events("member.role_changed") + _events("member.removed") == []


def test_the_last_owner_can_be_neither_demoted_nor_removed(alice: Actor) -> None:
    member_url = f"{ACME}/members/{_membership_id(alice.email)}"
    assert_problem(call(alice.client, "PATCH", member_url, {"role": "admin"}), 409)
    assert_problem(call(alice.client, "DELETE", member_url), 409)
    assert Membership.objects.get(user__email=alice.email).role.key == "owner"


def test_with_two_owners_one_can_be_demoted_then_the_other_is_the_last(
    alice: Actor, bob: Actor
) -> None:
    alice_url = f"{ACME}/members/{_membership_id(alice.email)}"
    bob_url = f"{ACME}/members/{_membership_id(bob.email)}"
    # given alice makes bob an owner too
    assert call(alice.client, "PATCH", bob_url, {"role": "owner"}).status_code == 200
    # then alice may step down to admin
    assert call(alice.client, "PATCH", alice_url, {"role": "admin"}).status_code == 200
    # and bob, now the last owner, may not leave
    assert_problem(call(bob.client, "DELETE", bob_url), 409)
    # but may remove alice
    assert call(bob.client, "DELETE", alice_url).status_code == 204
    assert list(Membership.objects.values_list("user__email", "role__key")) == [
        (bob.email, "owner")
    ]


def test_a_removed_member_gets_404_on_the_very_next_request(admin: Actor, bob: Actor) -> None:
    # given bob can read the org (and his grant is cached)
    assert call(bob.client, "GET", f"{ACME}/tasks").status_code == 200
    # when the admin removes him
    bob_id = _membership_id(bob.email)
    assert call(admin.client, "DELETE", f"{ACME}/members/{bob_id}").status_code == 204
    # then the org does not exist for him
    assert_problem(call(bob.client, "GET", f"{ACME}/tasks"), 404)
    [event] = _events("member.removed")
    assert (event.actor_label, event.target_id, event.before, event.after) == (
        admin.email, str(bob_id), {"email": bob.email, "role": "member"}, None
    )  # fmt: skip


def test_ids_of_another_orgs_objects_are_404_even_for_an_owner(
    alice: Actor, mallory: Actor, other_org_key: CreatedKey
) -> None:
    # given objects of globex, named by an owner of acme in acme's URLs
    globex = mallory.org
    role_create(
        org_id=globex.pk, key="analyst", name="Analyst", permissions=["task.read"],
        caller=SETUP_CALLER,
    )  # fmt: skip
    invited = call(mallory.client, "POST", "/api/v2/orgs/globex/invitations", {
        "email": "someone@example.test",
    })  # fmt: skip
    task = TaskFactory.create(org=globex, status="failed")
    mallory_member = _membership_id(mallory.email)
    requests = [
        ("PATCH", f"/members/{mallory_member}", {"role": "viewer"}),
        ("DELETE", f"/members/{mallory_member}", None),
        ("DELETE", f"/invitations/{_body(invited)['id']}", None),
        ("PATCH", "/roles/analyst", {"name": "Mine"}),
        ("DELETE", "/roles/analyst", None),
        ("DELETE", f"/api-keys/{other_org_key.api_key.pk}", None),
        ("GET", f"/tasks/{task.pk}", None),
        ("POST", f"/tasks/{task.pk}/rescore", None),
    ]
    for method, path, body in requests:
        assert_problem(call(alice.client, method, f"{ACME}{path}", body), 404)
    assert Membership.objects.get(user__email=mallory.email).role.key == "owner"
    assert Role.objects.get(org=globex, key="analyst").name == "Analyst"
    assert ApiKey.objects.get(pk=other_org_key.api_key.pk).revoked_at is None
    assert Invitation.objects.get(pk=_body(invited)["id"]).revoked_at is None


# ---------------------------------------------------------------------------------- invitations


def test_an_invitation_is_created_and_emailed_with_its_accept_url(
    alice: Actor, django_capture_on_commit_callbacks: Any
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(alice.client, "New@Example.test", "viewer")
    # then
    assert response.status_code == 201
    body = _body(response)
    token = _token(response)
    assert (body["email"], body["role"], body["accept_url"]) == (
        "new@example.test", "viewer", f"{settings.WEB_ORIGIN}/invitations/{token}"
    )  # fmt: skip
    [message] = mail.outbox
    assert message.to == ["new@example.test"]
    assert body["accept_url"] in message.body
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash  # only the hash is stored
    # the list shows it, never the token
    listed = call(alice.client, "GET", f"{ACME}/invitations")
    assert [i["id"] for i in _body(listed)["items"]] == [body["id"]]
    assert token.encode() not in listed.content
    [event] = _events("invitation.created")
    assert (event.actor_label, event.target_id, event.after) == (
        alice.email, str(invitation.pk), {"email": "new@example.test", "role": "viewer"}
    )  # fmt: skip


def test_the_invited_user_accepts_and_is_a_member_on_the_next_request(alice: Actor) -> None:
    # given an invitation for newbie, who meanwhile tried the org (a "not a member" to cache)
    token = _token(_invite(alice.client, "newbie@example.test", "viewer"))
    newbie = _login("newbie@example.test")
    assert_problem(call(newbie, "GET", f"{ACME}/tasks"), 404)
    # when newbie accepts
    response = call(newbie, "POST", "/api/v2/invitations/accept", {"token": token})
    # then newbie is a viewer of acme at once
    assert (response.status_code, _body(response)) == (
        201, {"slug": "acme", "name": "Acme", "role": "viewer"}
    )  # fmt: skip
    assert call(newbie, "GET", f"{ACME}/tasks").status_code == 200
    assert (
        assert_problem(call(newbie, "POST", f"{ACME}/tasks", VALID_TASK), 403)["permission"]
        == "task.create"
    )
    assert Membership.objects.get(user__email="newbie@example.test").role.key == "viewer"
    assert Invitation.objects.get().accepted_at is not None
    assert _body(call(alice.client, "GET", f"{ACME}/invitations"))["items"] == []
    [event] = _events("invitation.accepted")
    assert (event.actor_label, event.after) == (
        "newbie@example.test", {"email": "newbie@example.test", "role": "viewer"}
    )  # fmt: skip


def test_an_invitation_accepted_by_another_address_is_403(alice: Actor) -> None:
    token = _token(_invite(alice.client, "newbie@example.test"))
    response = call(_login("eve@example.test"), "POST", "/api/v2/invitations/accept", {
        "token": token,
    })  # fmt: skip
    assert_problem(response, 403)
    assert not Membership.objects.filter(user__email="eve@example.test").exists()
    assert Invitation.objects.get().accepted_at is None
    assert _events("invitation.accepted") == []


@pytest.mark.parametrize("state", ["used", "revoked", "expired", "replaced"])
def test_an_invitation_token_that_is_no_longer_valid_is_404(alice: Actor, state: str) -> None:
    # given newbie's invitation in `state`
    response = _invite(alice.client, "newbie@example.test")
    token, invitation_id = _token(response), _body(response)["id"]
    newbie = _login("newbie@example.test")
    accept = {"token": token}
    if state == "used":
        assert call(newbie, "POST", "/api/v2/invitations/accept", accept).status_code == 201
    elif state == "revoked":
        revoked = call(alice.client, "DELETE", f"{ACME}/invitations/{invitation_id}")
        assert revoked.status_code == 204
        [event] = _events("invitation.revoked")
        assert (event.actor_label, event.before) == (
            alice.email, {"email": "newbie@example.test"}
        )  # fmt: skip
    elif state == "expired":
        Invitation.objects.filter(pk=invitation_id).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    else:
        assert _invite(alice.client, "newbie@example.test").status_code == 201
    memberships = Membership.objects.count()
    # when newbie accepts with the token, then
    assert_problem(call(newbie, "POST", "/api/v2/invitations/accept", accept), 404)
    assert Membership.objects.count() == memberships


@pytest.mark.parametrize("email", ["bob@acme.test", "BOB@acme.test"])
def test_inviting_a_member_is_409(alice: Actor, bob: Actor, email: str) -> None:
    assert_problem(_invite(alice.client, email), 409)
    assert Invitation.objects.count() == 0


def test_an_admin_cannot_invite_as_owner(admin: Actor) -> None:
    response = _invite(admin.client, "boss@example.test", "owner")
    assert assert_problem(response, 403)["permission"] == "billing.manage"
    assert (Invitation.objects.count(), mail.outbox) == (0, [])


# ---------------------------------------------------------------------------------- API keys


def test_a_created_key_shows_its_token_once_and_works_at_once(alice: Actor) -> None:
    # when
    response = call(alice.client, "POST", f"{ACME}/api-keys", {"name": "deploy", "role": "member"})
    # then the token is in the answer
    assert response.status_code == 201
    created = _body(response)
    token = created["token"]
    assert (token.startswith(f"ts_{created['prefix']}_"), created["role"]) == (True, "member")
    # and nowhere in the list
    listed = call(alice.client, "GET", f"{ACME}/api-keys")
    assert [(k["id"], "token" in k) for k in _body(listed)["items"]] == [(created["id"], False)]
    assert token.split("_")[2].encode() not in listed.content
    # and the key acts at once, with its role
    assert call(Client(), "POST", f"{ACME}/tasks", VALID_TASK, token=token).status_code == 201
    refused = call(Client(), "GET", f"{ACME}/api-keys", token=token)
    assert assert_problem(refused, 403)["permission"] == "apikeys.read"
    key = ApiKey.objects.get()
    assert key.created_by is not None
    assert key.created_by.email == alice.email
    [event] = _events("api_key.created")
    assert (event.actor_label, event.after) == (
        alice.email, {"name": "deploy", "prefix": created["prefix"], "role": "member"}
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
    [listed] = _body(call(alice.client, "GET", f"{ACME}/api-keys"))["items"]
    assert listed["revoked_at"] is not None
    [event] = _events("api_key.revoked")
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


# ---------------------------------------------------------------------------------- audit


def test_the_audit_log_needs_audit_read(alice: Actor, bob: Actor) -> None:
    assert (
        assert_problem(call(bob.client, "GET", f"{ACME}/audit-events"), 403)["permission"]
        == "audit.read"
    )
    assert call(alice.client, "GET", f"{ACME}/audit-events").status_code == 200


def test_the_audit_log_pages_newest_first_with_next_cursor(
    alice: Actor, mallory: Actor, org: Organization
) -> None:
    # given 5 events in acme (and one in globex, not shown)
    for n in range(5):
        call(alice.client, "POST", f"{ACME}/api-keys", {"name": f"k{n}"})
    call(mallory.client, "POST", "/api/v2/orgs/globex/api-keys", {"name": "theirs"})
    # when alice reads it 2 at a time
    seen: list[int] = []
    cursors: list[str | None] = []
    url: str | None = f"{ACME}/audit-events?limit=2"
    while url is not None:
        page = _body(call(alice.client, "GET", url))
        seen += [item["id"] for item in page["items"]]
        cursors.append(page["next_cursor"])
        url = (
            f"{ACME}/audit-events?limit=2&cursor={page['next_cursor']}"
            if page["next_cursor"]
            else None
        )
    # then every event once, newest first, in 3 pages
    expected = list(
        AuditEvent.objects.filter(org=org)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    )
    assert (seen, len(expected), len(cursors), cursors[-1]) == (expected, 5, 3, None)


def test_creating_an_org_is_audited_and_its_owner_acts_at_once(alice: Actor) -> None:
    # given alice tried initech before it existed (a "not a member" to cache)
    assert_problem(call(alice.client, "GET", "/api/v2/orgs/initech/tasks"), 404)
    # when she creates it
    response = call(alice.client, "POST", "/api/v2/orgs", {"name": "Initech"})
    # then she owns it at once
    assert (response.status_code, _body(response)) == (
        201, {"slug": "initech", "name": "Initech", "role": "owner"}
    )  # fmt: skip
    assert call(alice.client, "GET", "/api/v2/orgs/initech/tasks").status_code == 200
    [event] = _events("org.created")
    assert (event.org.slug, event.actor_label, event.after) == (
        "initech", alice.email, {"email": alice.email, "role": "owner"}
    )  # fmt: skip


# ---------------------------------------------------------------------------------- committed


@pytest.mark.django_db(transaction=True)
def test_committed_changes_apply_on_the_next_request_and_release_the_cache(
    alice: Actor, bob: Actor, erin: Actor, owner_key: CreatedKey
) -> None:
    """As in production: each change commits, and its on_commit releases the in-flight mark,
    after which grants are cached again (and must still be the new ones)."""
    bob_url = f"{ACME}/members/{_membership_id(bob.email)}"
    bob_user = User.objects.get(email=bob.email)
    _, _, bob_in_flight, _ = cache._keys(cache.member_principal(bob_user.pk, "acme"))
    # a member is refused the key list; made admin, allowed on the next request; and back
    assert_problem(call(bob.client, "GET", f"{ACME}/api-keys"), 403)
    assert call(alice.client, "PATCH", bob_url, {"role": "admin"}).status_code == 200
    assert cache.redis_client().get(bob_in_flight) is None  # released on commit
    for _ in range(2):  # the second is served from the cache
        assert call(bob.client, "GET", f"{ACME}/api-keys").status_code == 200
    assert call(alice.client, "PATCH", bob_url, {"role": "member"}).status_code == 200
    assert_problem(call(bob.client, "GET", f"{ACME}/api-keys"), 403)
    # a custom role loses members.read: its holder is refused on the next request
    assert call(erin.client, "GET", f"{ACME}/members").status_code == 200
    patched = call(alice.client, "PATCH", f"{ACME}/roles/analyst", {"permissions": ["task.read"]})
    assert patched.status_code == 200
    assert (
        assert_problem(call(erin.client, "GET", f"{ACME}/members"), 403)["permission"]
        == "members.read"
    )
    # a revoked key is 401 on the next request
    assert call(Client(), "GET", f"{ACME}/tasks", token=owner_key.token).status_code == 200
    key_url = f"{ACME}/api-keys/{owner_key.api_key.pk}"
    assert call(alice.client, "DELETE", key_url).status_code == 204
    assert_problem(call(Client(), "GET", f"{ACME}/tasks", token=owner_key.token), 401)
    # a removed member is 404 on the next request
    assert call(alice.client, "DELETE", bob_url).status_code == 204
    for _ in range(2):
        assert_problem(call(bob.client, "GET", f"{ACME}/tasks"), 404)


def test_members_are_listed_a_page_at_a_time(alice: Actor, bob: Actor, carol: Actor) -> None:
    seen: list[str] = []
    url = f"{ACME}/members?limit=2"
    while url:
        page = _body(call(alice.client, "GET", url))
        seen += [m["email"] for m in page["items"]]
        url = f"{ACME}/members?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert sorted(seen) == sorted([alice.email, bob.email, carol.email])
    assert len(seen) == 3


def test_an_invitation_lapses_when_its_inviter_loses_the_right(alice: Actor) -> None:
    # given an admin invites someone as admin, then is demoted to member
    admin = _login("admin2@acme.test")
    MembershipFactory.create(
        user=User.objects.get(email="admin2@acme.test"), org=alice.org, role=role_builtin("admin")
    )
    token = _token(_invite(admin, "newbie@example.test", "admin"))
    admin_id = _membership_id("admin2@acme.test")
    assert (
        call(alice.client, "PATCH", f"{ACME}/members/{admin_id}", {"role": "member"}).status_code
        == 200
    )
    # when the invitee accepts, then the invitation no longer grants the role
    newbie = _login("newbie@example.test")
    refused = call(newbie, "POST", "/api/v2/invitations/accept", {"token": token})
    assert refused.status_code == 403
    assert not Membership.objects.filter(user__email="newbie@example.test").exists()


def test_an_invitation_sent_with_an_api_key_lapses_when_the_key_is_revoked(
    alice: Actor, owner_key: CreatedKey
) -> None:
    body = {"email": "k@example.test", "role": "member"}
    sent = call(Client(), "POST", f"{ACME}/invitations", body, token=owner_key.token)
    token = _token(sent)
    invitee = _login("k@example.test")
    # while the key is active the invitation works ...
    with transaction.atomic():
        accepted = call(invitee, "POST", "/api/v2/invitations/accept", {"token": token})
        assert accepted.status_code == 201
        transaction.set_rollback(True)
    # ... and once it is revoked, it does not
    assert (
        call(alice.client, "DELETE", f"{ACME}/api-keys/{owner_key.api_key.pk}").status_code == 204
    )
    assert call(invitee, "POST", "/api/v2/invitations/accept", {"token": token}).status_code == 403
