"""Invitations as the web app uses them (look one up by its link, decline it, list and answer
one's own), and the verified email that creating an org or joining one needs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.utils import timezone

from conftest import Actor
from taskscore.audit.models import AuditEvent
from taskscore.orgs.models import Invitation, Membership, Organization
from taskscore.orgs.services import CreatedKey, invitation_create
from taskscore.rbac.catalog import MEMBER, OWNER, VIEWER
from taskscore.rbac.services import role_builtin
from taskscore.testing.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.authz_cases import SETUP_CALLER, call

pytestmark = pytest.mark.django_db

ACME = "/api/v2/orgs/acme"
INVALID = "This invitation is not valid (expired, revoked or used)."
UNVERIFIED = {
    "type": "/problems/email-unverified",
    "title": "Email not verified",
    "status": 403,
    "detail": "Verify your email address first: open the link in the verification mail we "
    "sent you, or ask for it to be sent again.",
}


def _iso(moment: datetime) -> str:
    """A datetime as the API writes it."""
    return str(DjangoJSONEncoder().default(moment))


def _body(response: Any) -> Any:
    return json.loads(response.content)


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["content-type"] == "application/problem+json"
    body: dict[str, Any] = _body(response)
    return {k: v for k, v in body.items() if k not in ("instance", "request_id")}


def _login(email: str, *, verified: bool = True) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(UserFactory.create(email=email, email_verified=verified))
    return client


def _invite(client: Client, email: str, role: str = "member", **kw: Any) -> tuple[str, int]:
    """Invite through the API; (token, invitation id)."""
    response = call(client, "POST", f"{ACME}/invitations", {"email": email, "role": role}, **kw)
    assert response.status_code == 201, response.content
    body = _body(response)
    return body["accept_url"].rsplit("/", 1)[1], body["id"]


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# ---------------------------------------------------------------------------------- lookup


def test_the_link_shows_what_it_invites_to_without_a_login(alice: Actor) -> None:
    # given alice invites newbie as a viewer
    token, invitation_id = _invite(alice.client, "newbie@example.test", "viewer")
    # when anyone opens the link
    response = Client().get(f"/api/v2/invitations/{token}")
    # then it shows the org, role, sender, address and expiry
    invitation = Invitation.objects.get(pk=invitation_id)
    assert (response.status_code, _body(response)) == (200, {
        "org": {"slug": "acme", "name": "Acme"},
        "role": {"key": "viewer", "name": "Viewer"},
        "invited_by": "alice@acme.test",
        "email": "newbie@example.test",
        "expires_at": _iso(invitation.expires_at),
    })  # fmt: skip


def test_the_sender_is_named_by_api_key_or_as_an_operator(
    org: Organization, owner_key: CreatedKey
) -> None:
    # given one invitation sent with the API key "ci" and one by an operator's command
    by_key, _ = _invite(Client(), "k@example.test", token=owner_key.token)
    by_operator = invitation_create(
        org=org,
        email="o@example.test",
        role_key="member",
        caller=SETUP_CALLER,
    ).accept_url.rsplit("/", 1)[1]
    # then each link names its sender
    assert _body(Client().get(f"/api/v2/invitations/{by_key}"))["invited_by"] == 'API key "ci"'
    assert _body(Client().get(f"/api/v2/invitations/{by_operator}"))["invited_by"] == (
        "an operator"
    )


@pytest.mark.parametrize("state", ["accepted", "declined", "revoked", "expired", "replaced"])
def test_a_link_that_is_no_longer_valid_is_404_everywhere(alice: Actor, state: str) -> None:
    # given newbie's invitation in `state`
    token, invitation_id = _invite(alice.client, "newbie@example.test")
    newbie = _login("newbie@example.test")
    if state == "accepted":
        assert (
            call(newbie, "POST", "/api/v2/invitations/accept", {"token": token}).status_code == 201
        )
    elif state == "declined":
        assert (
            call(newbie, "POST", "/api/v2/invitations/decline", {"token": token}).status_code == 204
        )
    elif state == "revoked":
        assert (
            call(alice.client, "DELETE", f"{ACME}/invitations/{invitation_id}").status_code == 204
        )
    elif state == "expired":
        Invitation.objects.filter(pk=invitation_id).update(expires_at=timezone.now())
    else:
        _invite(alice.client, "newbie@example.test")
    # when the link is looked up, accepted or declined, then it is a 404 with the same words
    not_found = {"type": "/problems/not-found", "title": "Not found", "status": 404,
                 "detail": INVALID}  # fmt: skip
    assert _problem(Client().get(f"/api/v2/invitations/{token}"), 404) == not_found
    for action in ("accept", "decline"):
        answered = call(newbie, "POST", f"/api/v2/invitations/{action}", {"token": token})
        assert _problem(answered, 404) == not_found
    # and newbie's own list does not show it
    assert state == "replaced" or _body(call(newbie, "GET", "/api/v2/me/invitations")) == []


@pytest.mark.parametrize("token", ["short", "x" * 201])
def test_a_token_of_the_wrong_length_is_a_422(token: str) -> None:
    problem = _problem(Client().get(f"/api/v2/invitations/{token}"), 422)
    assert [e["field"] for e in problem["errors"]] == ["token"]


# ---------------------------------------------------------------------------------- decline


def test_the_invited_user_declines_by_link(alice: Actor) -> None:
    # given an invitation for newbie
    token, invitation_id = _invite(alice.client, "newbie@example.test")
    newbie = _login("newbie@example.test")
    # when newbie declines it
    response = call(newbie, "POST", "/api/v2/invitations/decline", {"token": token})
    # then it is declined, newbie joined nothing, and the org no longer lists it
    assert (response.status_code, response.content) == (204, b"")
    invitation = Invitation.objects.get(pk=invitation_id)
    assert invitation.declined_at is not None
    assert (invitation.accepted_at, invitation.revoked_at) == (None, None)
    assert not Membership.objects.filter(user__email="newbie@example.test").exists()
    assert _body(call(alice.client, "GET", f"{ACME}/invitations"))["items"] == []
    [event] = _events("invitation.declined")
    assert (event.actor_label, event.target_type, event.target_id, event.before) == (
        "newbie@example.test", "invitation", str(invitation_id),
        {"email": "newbie@example.test", "role": "member"},
    )  # fmt: skip
    # and the org cannot revoke it any more (it is not pending)
    assert call(alice.client, "DELETE", f"{ACME}/invitations/{invitation_id}").status_code == 404


def test_only_the_invited_address_may_decline(alice: Actor) -> None:
    token, invitation_id = _invite(alice.client, "newbie@example.test")
    response = call(_login("eve@example.test"), "POST", "/api/v2/invitations/decline", {
        "token": token,
    })  # fmt: skip
    assert _problem(response, 403)["detail"] == "This invitation was sent to another email address."
    assert Invitation.objects.get(pk=invitation_id).declined_at is None
    assert _events("invitation.declined") == []


def test_declining_needs_a_verified_address(alice: Actor) -> None:
    token, invitation_id = _invite(alice.client, "newbie@example.test")
    newbie = _login("newbie@example.test", verified=False)
    response = call(newbie, "POST", "/api/v2/invitations/decline", {"token": token})
    assert _problem(response, 403) == UNVERIFIED
    assert Invitation.objects.get(pk=invitation_id).declined_at is None


# ---------------------------------------------------------------------------------- mine


def _org_with_owner(slug: str) -> tuple[Organization, Client]:
    org = OrganizationFactory.create(name=slug.title(), slug=slug)
    owner = UserFactory.create(email=f"owner@{slug}.test")
    MembershipFactory.create(org=org, user=owner, role=role_builtin("owner"))
    client = Client(enforce_csrf_checks=False)
    client.force_login(owner)
    return org, client


def test_my_invitations_lists_the_pending_ones_sent_to_my_address(alice: Actor) -> None:
    # given newbie is invited to acme (member) and then to globex (viewer) ...
    _, globex = _org_with_owner("globex")
    _invite(alice.client, "newbie@example.test")
    globex_sent = call(globex, "POST", "/api/v2/orgs/globex/invitations", {
        "email": "NEWBIE@example.test", "role": "viewer",
    })  # fmt: skip
    assert globex_sent.status_code == 201
    # ... and to initech, which is expired, and someone else is invited to acme
    _, initech = _org_with_owner("initech")
    call(initech, "POST", "/api/v2/orgs/initech/invitations", {"email": "newbie@example.test",
         "role": "member"})  # fmt: skip
    Invitation.objects.filter(org__slug="initech").update(expires_at=timezone.now())
    _invite(alice.client, "other@example.test")
    # when newbie lists their invitations
    newbie = _login("newbie@example.test")
    response = call(newbie, "GET", "/api/v2/me/invitations")
    # then the two pending ones for their address show, newest first
    acme_one = Invitation.objects.get(org__slug="acme", email="newbie@example.test")
    globex_one = Invitation.objects.get(org__slug="globex")
    assert (response.status_code, _body(response)) == (200, [
        {
            "id": globex_one.pk,
            "org": {"slug": "globex", "name": "Globex"},
            "role": {"key": "viewer", "name": "Viewer"},
            "invited_by": "owner@globex.test",
            "expires_at": _iso(globex_one.expires_at),
        },
        {
            "id": acme_one.pk,
            "org": {"slug": "acme", "name": "Acme"},
            "role": {"key": "member", "name": "Member"},
            "invited_by": "alice@acme.test",
            "expires_at": _iso(acme_one.expires_at),
        },
    ])  # fmt: skip


def test_my_invitations_are_empty_until_my_address_is_verified(alice: Actor) -> None:
    _invite(alice.client, "newbie@example.test")
    newbie = _login("newbie@example.test", verified=False)
    assert _body(call(newbie, "GET", "/api/v2/me/invitations")) == []
    EmailAddress.objects.filter(email="newbie@example.test").update(verified=True)
    assert len(_body(call(newbie, "GET", "/api/v2/me/invitations"))) == 1


def test_i_accept_one_of_my_invitations_by_id(alice: Actor) -> None:
    # given newbie's invitation to acme as a viewer
    _, invitation_id = _invite(alice.client, "newbie@example.test", "viewer")
    newbie = _login("newbie@example.test")
    # when newbie accepts it from their list
    response = call(newbie, "POST", f"/api/v2/me/invitations/{invitation_id}/accept")
    # then newbie is a viewer of acme, at once
    assert (response.status_code, _body(response)) == (
        201, {"slug": "acme", "name": "Acme", "role": "viewer"}
    )  # fmt: skip
    assert call(newbie, "GET", f"{ACME}/tasks").status_code == 200
    assert Invitation.objects.get(pk=invitation_id).accepted_at is not None
    [event] = _events("invitation.accepted")
    assert event.after == {"email": "newbie@example.test", "role": "viewer"}
    assert _body(call(newbie, "GET", "/api/v2/me/invitations")) == []
    # and a second accept finds nothing pending
    again = call(newbie, "POST", f"/api/v2/me/invitations/{invitation_id}/accept")
    assert _problem(again, 404)["type"] == "/problems/not-found"


def test_i_decline_one_of_my_invitations_by_id(alice: Actor) -> None:
    _, invitation_id = _invite(alice.client, "newbie@example.test")
    newbie = _login("newbie@example.test")
    response = call(newbie, "POST", f"/api/v2/me/invitations/{invitation_id}/decline")
    assert (response.status_code, response.content) == (204, b"")
    assert Invitation.objects.get(pk=invitation_id).declined_at is not None
    assert len(_events("invitation.declined")) == 1
    assert _body(call(newbie, "GET", "/api/v2/me/invitations")) == []


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_someone_elses_invitation_id_is_404(alice: Actor, action: str) -> None:
    _, invitation_id = _invite(alice.client, "newbie@example.test")
    eve = _login("eve@example.test")
    response = call(eve, "POST", f"/api/v2/me/invitations/{invitation_id}/{action}")
    assert _problem(response, 404)["type"] == "/problems/not-found"
    invitation = Invitation.objects.get(pk=invitation_id)
    assert (invitation.accepted_at, invitation.declined_at) == (None, None)
    assert not Membership.objects.filter(user__email="eve@example.test").exists()


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_answering_by_id_needs_a_verified_address(alice: Actor, action: str) -> None:
    _, invitation_id = _invite(alice.client, "newbie@example.test")
    newbie = _login("newbie@example.test", verified=False)
    response = call(newbie, "POST", f"/api/v2/me/invitations/{invitation_id}/{action}")
    assert _problem(response, 403) == UNVERIFIED
    invitation = Invitation.objects.get(pk=invitation_id)
    assert (invitation.accepted_at, invitation.declined_at) == (None, None)


def test_accepting_by_id_keeps_the_inviters_authority_rule(alice: Actor) -> None:
    # given an admin invites someone as admin, then is demoted to member
    admin_user = UserFactory.create(email="admin2@acme.test")
    admin_membership = MembershipFactory.create(
        user=admin_user, org=alice.org, role=role_builtin("admin")
    )
    admin = Client(enforce_csrf_checks=False)
    admin.force_login(admin_user)
    _, invitation_id = _invite(admin, "newbie@example.test", "admin")
    changed = call(alice.client, "PATCH", f"{ACME}/members/{admin_membership.pk}", {
        "role": "member",
    })  # fmt: skip
    assert changed.status_code == 200
    # when the invitee accepts from their list, then the invitation no longer grants the role
    newbie = _login("newbie@example.test")
    refused = call(newbie, "POST", f"/api/v2/me/invitations/{invitation_id}/accept")
    assert _problem(refused, 403)["type"] == "/problems/permission-denied"
    assert not Membership.objects.filter(user__email="newbie@example.test").exists()


# ---------------------------------------------------------------------------------- verified


def test_creating_an_org_needs_a_verified_address() -> None:
    # given a user who has not verified their address
    unverified = _login("new@example.test", verified=False)
    # when they create an org, then it is refused and nothing is created
    response = call(unverified, "POST", "/api/v2/orgs", {"name": "Initech"})
    assert _problem(response, 403) == UNVERIFIED
    assert Organization.objects.count() == 0
    # and once verified, it works
    EmailAddress.objects.filter(email="new@example.test").update(verified=True)
    created = call(unverified, "POST", "/api/v2/orgs", {"name": "Initech"})
    assert (created.status_code, _body(created)) == (
        201, {"slug": "initech", "name": "Initech", "role": "owner"}
    )  # fmt: skip


def test_accepting_by_link_needs_a_verified_address(alice: Actor) -> None:
    token, invitation_id = _invite(alice.client, "newbie@example.test")
    newbie = _login("newbie@example.test", verified=False)
    response = call(newbie, "POST", "/api/v2/invitations/accept", {"token": token})
    assert _problem(response, 403) == UNVERIFIED
    assert not Membership.objects.filter(user__email="newbie@example.test").exists()
    assert Invitation.objects.get(pk=invitation_id).accepted_at is None


def test_me_says_whether_the_address_is_verified_and_what_i_may_do(
    alice: Actor, other_org: Organization
) -> None:
    # given alice owns acme and is a viewer of globex
    user = Membership.objects.get(user__email=alice.email).user
    MembershipFactory.create(user=user, org=other_org, role=role_builtin("viewer"))
    # when she asks who she is
    body = _body(call(alice.client, "GET", "/api/v2/me"))
    # then
    assert body == {
        "id": user.pk,
        "email": "alice@acme.test",
        "email_verified": True,
        "mfa_enabled": False,
        "orgs": [
            {
                "slug": "acme",
                "name": "Acme",
                "role": "owner",
                "permissions": sorted(OWNER),
                "mfa_required": False,
            },
            {
                "slug": "globex",
                "name": "Globex",
                "role": "viewer",
                "permissions": sorted(VIEWER),
                "mfa_required": False,
            },
        ],
    }
    assert sorted(MEMBER) != sorted(VIEWER)
    unverified = _login("new@example.test", verified=False)
    assert _body(call(unverified, "GET", "/api/v2/me"))["email_verified"] is False


def test_operators_create_owners_verified_and_refuse_an_unverified_account() -> None:
    # when an operator creates an org for a new address, its owner is verified
    out = StringIO()
    call_command("createorg", "--name", "Acme", "--owner-email", "ops@acme.test", "--json",
                 stdout=out)  # fmt: skip
    assert EmailAddress.objects.get(email="ops@acme.test").verified is True
    # and an existing account whose address is unverified gets no org
    UserFactory.create(email="squat@example.test", email_verified=False)
    with pytest.raises(CommandError, match=r"squat@example\.test has an account whose email"):
        call_command("createorg", "--name", "Globex", "--owner-email", "squat@example.test")
    assert list(Organization.objects.values_list("slug", flat=True)) == ["acme"]


def test_the_demo_command_creates_a_verified_owner(tmp_path: Any) -> None:
    call_command("demo", "--state", str(tmp_path / "demo.json"), stdout=StringIO())
    assert EmailAddress.objects.get(email="demo@taskscore.localhost").verified is True
    assert Organization.objects.filter(slug="demo").exists()


def test_an_invitation_older_than_its_expiry_is_not_listed(alice: Actor) -> None:
    _, invitation_id = _invite(alice.client, "newbie@example.test")
    Invitation.objects.filter(pk=invitation_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert _body(call(_login("newbie@example.test"), "GET", "/api/v2/me/invitations")) == []
