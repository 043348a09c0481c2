"""Members, through the API: role changes and removals apply to the very next request, the
last-owner rule, another org's members are 404, and paging."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conftest import Actor
from taskscore.accounts.models import User
from taskscore.orgs.models import ApiKey, Invitation, Membership
from taskscore.orgs.services import CreatedKey
from taskscore.rbac import cache
from taskscore.rbac.models import Role
from taskscore.rbac.services import role_create
from taskscore.tasks.models import Task
from taskscore.testing.factories import TaskFactory, org_plan_grant
from tests.access_helpers import ACME, audit_events, json_of, membership_id
from tests.authz_cases import (
    SETUP_CALLER,
    VALID_TASK,
    assert_problem,
    call,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------- members


def test_an_admin_makes_bob_a_viewer_and_his_next_request_is_refused(
    admin: Actor, bob: Actor
) -> None:
    # given bob may submit (and his grant is cached)
    assert call(bob.client, "POST", f"{ACME}/tasks", VALID_TASK).status_code == 201
    # when the admin makes him a viewer
    response = call(
        admin.client, "PATCH", f"{ACME}/members/{membership_id(bob.email)}", {"role": "viewer"}
    )
    assert (response.status_code, json_of(response)["role"]) == (200, "viewer")
    # then his very next submission is refused
    denied = call(bob.client, "POST", f"{ACME}/tasks", VALID_TASK)
    assert assert_problem(denied, 403)["permission"] == "task.create"
    assert Task.objects.count() == 1
    [event] = audit_events("member.role_changed")
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
    response = call(admin.client, method, f"{ACME}/members/{membership_id(target)}", body)
    # the owner role holds what the admin's lacks; the first of those is named
    assert assert_problem(response, 403)["permission"] == "billing.manage"
    assert sorted(Membership.objects.values_list("user__email", "role__key")) == before
    assert audit_events("member.role_changed") + audit_events("member.removed") == []


def test_the_last_owner_can_be_neither_demoted_nor_removed(alice: Actor) -> None:
    member_url = f"{ACME}/members/{membership_id(alice.email)}"
    assert_problem(call(alice.client, "PATCH", member_url, {"role": "admin"}), 409)
    assert_problem(call(alice.client, "DELETE", member_url), 409)
    assert Membership.objects.get(user__email=alice.email).role.key == "owner"


def test_with_two_owners_one_can_be_demoted_then_the_other_is_the_last(
    alice: Actor, bob: Actor
) -> None:
    alice_url = f"{ACME}/members/{membership_id(alice.email)}"
    bob_url = f"{ACME}/members/{membership_id(bob.email)}"
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
    bob_id = membership_id(bob.email)
    assert call(admin.client, "DELETE", f"{ACME}/members/{bob_id}").status_code == 204
    # then the org does not exist for him
    assert_problem(call(bob.client, "GET", f"{ACME}/tasks"), 404)
    [event] = audit_events("member.removed")
    assert (event.actor_label, event.target_id, event.before, event.after) == (
        admin.email, str(bob_id), {"email": bob.email, "role": "member"}, None
    )  # fmt: skip


def test_ids_of_another_orgs_objects_are_404_even_for_an_owner(
    alice: Actor, mallory: Actor, other_org_key: CreatedKey
) -> None:
    # given objects of globex, named by an owner of acme (on Business: custom roles) in acme's URLs
    org_plan_grant(alice.org, "business")
    globex = mallory.org
    role_create(
        org_id=globex.pk, key="analyst", name="Analyst", permissions=["task.read"],
        caller=SETUP_CALLER,
    )  # fmt: skip
    invited = call(mallory.client, "POST", "/api/v2/orgs/globex/invitations", {
        "email": "someone@example.test",
    })  # fmt: skip
    task = TaskFactory.create(org=globex, status="failed")
    mallory_member = membership_id(mallory.email)
    requests = [
        ("PATCH", f"/members/{mallory_member}", {"role": "viewer"}),
        ("DELETE", f"/members/{mallory_member}", None),
        ("DELETE", f"/invitations/{json_of(invited)['id']}", None),
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
    assert Invitation.objects.get(pk=json_of(invited)["id"]).revoked_at is None


# ---------------------------------------------------------------------------------- committed


@pytest.mark.django_db(transaction=True)
def test_committed_changes_apply_on_the_next_request_and_release_the_cache(
    alice: Actor, bob: Actor, erin: Actor, owner_key: CreatedKey
) -> None:
    """As in production: each change commits, and its on_commit releases the in-flight mark,
    after which grants are cached again (and must still be the new ones)."""
    org_plan_grant(alice.org, "business")  # editing a custom role needs Business
    bob_url = f"{ACME}/members/{membership_id(bob.email)}"
    bob_user = User.objects.get(email=bob.email)
    _, _, bob_in_flight, _ = cache.keys_of(cache.member_principal(bob_user.pk, "acme"))
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
        page = json_of(call(alice.client, "GET", url))
        seen += [m["email"] for m in page["items"]]
        url = f"{ACME}/members?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert sorted(seen) == sorted([alice.email, bob.email, carol.email])
    assert len(seen) == 3
