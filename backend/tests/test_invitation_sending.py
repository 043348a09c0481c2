"""Sending invitations, through the API: created and emailed with their link, accepted by the
invited address only, refused once no longer valid, lapsing when the inviter loses the right."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone

from conftest import Actor
from taskscore.accounts.models import User
from taskscore.orgs.models import Invitation, Membership
from taskscore.orgs.services import CreatedKey
from taskscore.rbac.services import role_builtin
from taskscore.testing.factories import MembershipFactory
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
    VALID_TASK,
    assert_problem,
    call,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------- invitations


def test_an_invitation_is_created_and_emailed_with_its_accept_url(
    alice: Actor, django_capture_on_commit_callbacks: Any
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(alice.client, "New@Example.test", "viewer")
    # then
    assert response.status_code == 201
    body = json_of(response)
    token = accept_token(response)
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
    assert [i["id"] for i in json_of(listed)["items"]] == [body["id"]]
    assert token.encode() not in listed.content
    [event] = audit_events("invitation.created")
    assert (event.actor_label, event.target_id, event.after) == (
        alice.email, str(invitation.pk), {"email": "new@example.test", "role": "viewer"}
    )  # fmt: skip


def test_the_invited_user_accepts_and_is_a_member_on_the_next_request(alice: Actor) -> None:
    # given an invitation for newbie, who meanwhile tried the org (a "not a member" to cache)
    token = accept_token(invite(alice.client, "newbie@example.test", "viewer"))
    newbie = login_as("newbie@example.test")
    assert_problem(call(newbie, "GET", f"{ACME}/tasks"), 404)
    # when newbie accepts
    response = call(newbie, "POST", "/api/v2/invitations/accept", {"token": token})
    # then newbie is a viewer of acme at once
    assert (response.status_code, json_of(response)) == (
        201, {"slug": "acme", "name": "Acme", "role": "viewer"}
    )  # fmt: skip
    assert call(newbie, "GET", f"{ACME}/tasks").status_code == 200
    assert (
        assert_problem(call(newbie, "POST", f"{ACME}/tasks", VALID_TASK), 403)["permission"]
        == "task.create"
    )
    assert Membership.objects.get(user__email="newbie@example.test").role.key == "viewer"
    assert Invitation.objects.get().accepted_at is not None
    assert json_of(call(alice.client, "GET", f"{ACME}/invitations"))["items"] == []
    [event] = audit_events("invitation.accepted")
    assert (event.actor_label, event.after) == (
        "newbie@example.test", {"email": "newbie@example.test", "role": "viewer"}
    )  # fmt: skip


def test_an_invitation_accepted_by_another_address_is_403(alice: Actor) -> None:
    token = accept_token(invite(alice.client, "newbie@example.test"))
    response = call(login_as("eve@example.test"), "POST", "/api/v2/invitations/accept", {
        "token": token,
    })  # fmt: skip
    assert_problem(response, 403)
    assert not Membership.objects.filter(user__email="eve@example.test").exists()
    assert Invitation.objects.get().accepted_at is None
    assert audit_events("invitation.accepted") == []


@pytest.mark.parametrize("state", ["used", "revoked", "expired", "replaced"])
def test_an_invitation_token_that_is_no_longer_valid_is_404(alice: Actor, state: str) -> None:
    # given newbie's invitation in `state`
    response = invite(alice.client, "newbie@example.test")
    token, invitation_id = accept_token(response), json_of(response)["id"]
    newbie = login_as("newbie@example.test")
    accept = {"token": token}
    if state == "used":
        assert call(newbie, "POST", "/api/v2/invitations/accept", accept).status_code == 201
    elif state == "revoked":
        revoked = call(alice.client, "DELETE", f"{ACME}/invitations/{invitation_id}")
        assert revoked.status_code == 204
        [event] = audit_events("invitation.revoked")
        assert (event.actor_label, event.before) == (
            alice.email, {"email": "newbie@example.test"}
        )  # fmt: skip
    elif state == "expired":
        Invitation.objects.filter(pk=invitation_id).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    else:
        assert invite(alice.client, "newbie@example.test").status_code == 201
    memberships = Membership.objects.count()
    # when newbie accepts with the token, then
    assert_problem(call(newbie, "POST", "/api/v2/invitations/accept", accept), 404)
    assert Membership.objects.count() == memberships


@pytest.mark.parametrize("email", ["bob@acme.test", "BOB@acme.test"])
def test_inviting_a_member_is_409(alice: Actor, bob: Actor, email: str) -> None:
    assert_problem(invite(alice.client, email), 409)
    assert Invitation.objects.count() == 0


def test_an_admin_cannot_invite_as_owner(admin: Actor) -> None:
    response = invite(admin.client, "boss@example.test", "owner")
    assert assert_problem(response, 403)["permission"] == "billing.manage"
    assert (Invitation.objects.count(), mail.outbox) == (0, [])


def test_an_invitation_lapses_when_its_inviter_loses_the_right(alice: Actor) -> None:
    # given an admin invites someone as admin, then is demoted to member
    admin = login_as("admin2@acme.test")
    MembershipFactory.create(
        user=User.objects.get(email="admin2@acme.test"), org=alice.org, role=role_builtin("admin")
    )
    token = accept_token(invite(admin, "newbie@example.test", "admin"))
    admin_id = membership_id("admin2@acme.test")
    assert (
        call(alice.client, "PATCH", f"{ACME}/members/{admin_id}", {"role": "member"}).status_code
        == 200
    )
    # when the invitee accepts, then the invitation no longer grants the role
    newbie = login_as("newbie@example.test")
    refused = call(newbie, "POST", "/api/v2/invitations/accept", {"token": token})
    assert refused.status_code == 403
    assert not Membership.objects.filter(user__email="newbie@example.test").exists()


def test_an_invitation_sent_with_an_api_key_lapses_when_the_key_is_revoked(
    alice: Actor, owner_key: CreatedKey
) -> None:
    body = {"email": "k@example.test", "role": "member"}
    sent = call(Client(), "POST", f"{ACME}/invitations", body, token=owner_key.token)
    token = accept_token(sent)
    invitee = login_as("k@example.test")
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
