"""What the team pages read: a member's last activity, who sent an invitation, which roles the
caller may grant, who created an API key, and the audit log filtered by action, actor and time,
each event saying whether a member or an API key (and which) acted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from conftest import Actor
from taskscore.accounts.models import User
from taskscore.audit.models import AuditEvent
from taskscore.audit.services import SYSTEM, audit_record
from taskscore.audit.services import Actor as AuditActor
from taskscore.core.errors import PermissionDenied
from taskscore.orgs.models import Organization
from taskscore.orgs.services import CreatedKey, api_key_create
from taskscore.rbac.callers import OPERATOR, FixedCaller
from taskscore.rbac.models import Role
from taskscore.rbac.selectors import role_grantable
from taskscore.rbac.services import grant_require, role_builtin
from taskscore.testing.factories import MembershipFactory, UserFactory, org_plan_grant
from tests.access_helpers import ACME, invite, json_of, membership_id
from tests.authz_cases import assert_problem, call

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _business(org: Organization) -> None:
    """API keys need Pro, the audit log Business (a lower plan: tests/test_plan_features.py)."""
    org_plan_grant(org, "business")


LONG_AGO = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _member(client_of: Actor, email: str) -> dict[str, object]:
    items = json_of(call(client_of.client, "GET", f"{ACME}/members"))["items"]
    [member] = [m for m in items if m["email"] == email]
    return dict(member)


# ---------------------------------------------------------------------------------- members


def test_a_member_who_never_logged_in_nor_acted_has_no_last_activity(
    alice: Actor, org: Organization
) -> None:
    # given tess joined without ever logging in
    MembershipFactory.create(user=UserFactory.create(email="tess@acme.test"), org=org)
    # then the list says so
    assert _member(alice, "tess@acme.test")["last_active_at"] is None


def test_last_activity_is_the_later_of_the_last_log_in_and_the_last_audited_change(
    alice: Actor, bob: Actor
) -> None:
    # given bob last logged in long ago
    User.objects.filter(email=bob.email).update(last_login=LONG_AGO)
    assert _member(alice, bob.email)["last_active_at"] == "2026-01-05T09:30:00Z"
    # when alice (not bob) changes something, bob's activity stays
    invite(alice.client, "newbie@example.test")
    assert _member(alice, bob.email)["last_active_at"] == "2026-01-05T09:30:00Z"
    # when bob himself makes an audited change in acme
    bob_id = User.objects.get(email=bob.email).pk
    event = audit_record(
        org_id=alice.org.pk, actor=AuditActor(label=bob.email, user_id=bob_id),
        action="role.created", target_type="role", target_id="x",
    )  # fmt: skip
    # then that is his last activity
    last = _member(alice, bob.email)["last_active_at"]
    shown = datetime.fromisoformat(str(last).replace("Z", "+00:00"))
    assert abs(shown - event.created_at) < timedelta(milliseconds=1)  # shown to the millisecond


def test_changing_a_role_answers_the_member_as_the_list_shows_them(
    admin: Actor, bob: Actor
) -> None:
    User.objects.filter(email=bob.email).update(last_login=LONG_AGO)
    response = call(
        admin.client, "PATCH", f"{ACME}/members/{membership_id(bob.email)}", {"role": "viewer"}
    )
    assert response.status_code == 200
    body = json_of(response)
    assert (body["role"], body["last_active_at"]) == ("viewer", "2026-01-05T09:30:00Z")


# ---------------------------------------------------------------------------------- invitations


def test_pending_invitations_say_who_sent_them(alice: Actor, owner_key: CreatedKey) -> None:
    invite(alice.client, "one@example.test")
    call(
        alice.client,
        "POST",
        f"{ACME}/invitations",
        {"email": "two@example.test", "role": "viewer"},
        token=owner_key.token,
    )
    items = json_of(call(alice.client, "GET", f"{ACME}/invitations"))["items"]
    assert [(i["email"], i["role"], i["invited_by"]) for i in items] == [
        ("two@example.test", "viewer", 'API key "ci"'),
        ("one@example.test", "member", alice.email),
    ]


# ---------------------------------------------------------------------------------- roles


@pytest.mark.parametrize(
    ("caller", "grantable"),
    [
        ("alice", {"owner", "admin", "member", "viewer", "triage"}),
        ("admin", {"admin", "member", "viewer", "triage"}),
        ("bob", {"member", "viewer"}),
        ("carol", {"viewer"}),
    ],
)
def test_each_role_says_whether_the_caller_may_grant_it(
    caller: str,
    grantable: set[str],
    request: pytest.FixtureRequest,
    org: Organization,
) -> None:
    # given a custom role within an admin's permissions
    Role.objects.create(org=org, key="triage", name="Triage", permissions=["task.rescore"])
    actor: Actor = request.getfixturevalue(caller)
    # when the caller lists the roles
    roles = json_of(call(actor.client, "GET", f"{ACME}/roles"))
    # then can_grant marks exactly the roles within the caller's permissions
    assert {r["key"] for r in roles if r["can_grant"]} == grantable
    assert {r["key"] for r in roles} == {"owner", "admin", "member", "viewer", "triage"}


def test_can_grant_agrees_with_the_check_that_refuses_a_grant() -> None:
    for holder in ("owner", "admin", "member", "viewer"):
        caller = FixedCaller(actor=SYSTEM, permissions=frozenset(role_builtin(holder).permissions))
        for key in ("owner", "admin", "member", "viewer"):
            role = role_builtin(key)
            refused = False
            try:
                grant_require(caller=caller, role=role)
            except PermissionDenied:
                refused = True
            assert role_grantable(role=role, permissions=caller.permissions) is not refused


# ---------------------------------------------------------------------------------- API keys


def test_api_keys_say_who_created_them(alice: Actor, org: Organization) -> None:
    # given a key alice made in the app and one an operator's command made
    assert call(alice.client, "POST", f"{ACME}/api-keys", {"name": "ci"}).status_code == 201
    api_key_create(org=org, name="ops", role_key="viewer", caller=OPERATOR)
    # then
    items = json_of(call(alice.client, "GET", f"{ACME}/api-keys"))["items"]
    assert [(k["name"], k["role"], k["created_by"]) for k in items] == [
        ("ops", "viewer", None),
        ("ci", "member", alice.email),
    ]


# ---------------------------------------------------------------------------------- audit log


def _audit(reader: Actor, /, **query: str) -> dict[str, Any]:
    response = call(reader.client, "GET", f"{ACME}/audit-events?{urlencode(query)}")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = json_of(response)
    return body


def test_the_audit_log_says_which_key_or_member_acted(alice: Actor, owner_key: CreatedKey) -> None:
    # given alice invites someone in her session, and the owner key in its own name
    invite(alice.client, "one@example.test")
    call(alice.client, "POST", f"{ACME}/invitations", {"email": "two@example.test"},
         token=owner_key.token)  # fmt: skip
    audit_record(org_id=alice.org.pk, actor=SYSTEM, action="org.ai_rules_changed",
                 target_type="org", target_id=alice.org.pk)  # fmt: skip
    # then each event says who acted and how
    items = _audit(alice)["items"][:3]
    assert [(e["action"], e["actor"], e["actor_kind"], e["actor_api_key_name"]) for e in items] == [
        ("org.ai_rules_changed", "system", "system", None),
        ("invitation.created", f"API key ts_{owner_key.api_key.prefix}", "api_key", "ci"),
        ("invitation.created", alice.email, "user", None),
    ]


def test_the_audit_log_filters_by_action_and_actor(alice: Actor, admin: Actor) -> None:
    # given alice and the admin each invite someone and create a key
    for actor, n in ((alice, 1), (admin, 2)):
        invite(actor.client, f"p{n}@example.test")
        call(actor.client, "POST", f"{ACME}/api-keys", {"name": f"k{n}"})
    # then an action, an actor (part of the label, any case), or both narrow the list
    by_action = _audit(alice, action="api_key.created")["items"]
    assert [(e["action"], e["actor"]) for e in by_action] == [
        ("api_key.created", admin.email),
        ("api_key.created", alice.email),
    ]
    by_actor = _audit(alice, actor=admin.email.split("@")[0].upper())["items"]
    assert [(e["action"], e["actor"]) for e in by_actor] == [
        ("api_key.created", admin.email),
        ("invitation.created", admin.email),
    ]
    both = _audit(alice, action="invitation.created", actor="alice")["items"]
    assert [(e["action"], e["actor"]) for e in both] == [("invitation.created", alice.email)]


def test_the_audit_log_filters_by_time_and_pages_within_the_filter(
    alice: Actor, org: Organization
) -> None:
    # given events on three days
    for day in (1, 2, 3):
        for n in range(3):
            event = audit_record(org_id=org.pk, actor=SYSTEM, action="role.created",
                                 target_type="role", target_id=f"d{day}-{n}")  # fmt: skip
            AuditEvent.objects.filter(pk=event.pk).update(
                created_at=datetime(2025, 3, day, 12, n, tzinfo=UTC)
            )
    # when alice reads the second day, 2 at a time
    since = datetime(2025, 3, 2, tzinfo=UTC)
    query = {"since": since.isoformat(), "until": (since + timedelta(days=1)).isoformat()}
    first = _audit(alice, limit="2", **query)
    second = _audit(alice, limit="2", cursor=str(first["next_cursor"]), **query)
    # then the second day's three events, newest first, and nothing more
    targets = [e["target_id"] for e in [*first["items"], *second["items"]]]
    assert (targets, second["next_cursor"]) == (["d2-2", "d2-1", "d2-0"], None)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"action": "not an action"}, "action"),
        ({"since": "2026-12-01T00:00:00"}, "since"),  # no offset: which day would it be?
        ({"until": "yesterday"}, "until"),
    ],
)
def test_a_bad_audit_filter_is_a_422_naming_it(
    alice: Actor, query: dict[str, str], field: str
) -> None:
    response = call(alice.client, "GET", f"{ACME}/audit-events?{urlencode(query)}")
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == [field]
