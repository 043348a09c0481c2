"""Two-factor authentication (allauth.mfa through its headless API) and an org's requirement of
it for owners and admins (ADR 0012, "MFA"; the security module names it: tests/test_security.py).

Codes are computed here from the secret, as an authenticator app does (allauth's own TOTP
functions); a code is valid one 30-second step early or late (MFA_TOTP_TOLERANCE), so a code
computed just before a request is still valid when it arrives."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from cryptography.fernet import InvalidToken
from django.core.management import call_command
from django.test import Client

from conftest import PASSWORD, Actor
from taskscore.accounts.models import User
from taskscore.audit.models import AuditEvent
from taskscore.orgs.models import Organization
from taskscore.orgs.services import CreatedKey
from taskscore.rbac.services import role_builtin, role_create
from taskscore.testing.factories import UserFactory
from tests.access_helpers import join
from tests.authz_cases import SETUP_CALLER

pytestmark = pytest.mark.django_db

ALLAUTH = "/_allauth/browser/v1"
ACME = "/api/v2/orgs/acme"


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now for `secret`."""
    return str(format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD)))


def totp_next_code(secret: str) -> str:
    """The code the app shows next: valid already (one step early), and still in a minute."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + 1
    return str(format_hotp_value(hotp_value(secret, counter)))


def wrong_code(secret: str) -> str:
    """A code that is not valid now nor in the next minute."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD
    near = {format_hotp_value(hotp_value(secret, counter + step)) for step in range(-1, 4)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in near)


def allauth(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """An allauth headless request; returns (status, JSON body)."""
    response = client.generic(
        method,
        f"{ALLAUTH}{path}",
        json.dumps(body) if body is not None else "",
        content_type="application/json",
    )
    return response.status_code, json.loads(response.content) if response.content else None


def login(email: str, password: str = PASSWORD) -> tuple[Client, int, Any]:
    """A fresh browser logging in with email and password: (client, status, body)."""
    client = Client()
    status, body = allauth(client, "POST", "/auth/login", {"email": email, "password": password})
    return client, status, body


def pending_flow(body: Any) -> dict[str, Any] | None:
    return next((f for f in body["data"]["flows"] if f.get("is_pending")), None)


def totp_set_up(client: Client, password: str = PASSWORD) -> str:
    """Sets up TOTP in a logged-in browser as the web app does (confirming the password first,
    as allauth asks before every change to two-factor); returns the secret."""
    status, body = allauth(client, "GET", "/account/authenticators/totp")
    assert status == 404, body  # none yet: allauth offers a new secret
    secret: str = body["meta"]["secret"]
    assert body["meta"]["totp_url"].startswith("otpauth://totp/")
    assert body["meta"]["totp_url"].endswith("&issuer=Taskscore")
    assert allauth(client, "POST", "/auth/reauthenticate", {"password": password})[0] == 200
    status, body = allauth(
        client, "POST", "/account/authenticators/totp", {"code": totp_code(secret)}
    )
    assert status == 200, body
    return secret


def with_totp(email: str) -> str:
    """Gives the user an authenticator app (as if set up); returns its secret."""
    secret = str(generate_totp_secret())
    TOTP.activate(User.objects.get(email=email), secret)
    return secret


def require_mfa(org: Organization) -> None:
    Organization.objects.filter(pk=org.pk).update(mfa_required_for_admins=True)


def user(email: str = "olga@acme.test") -> User:
    return UserFactory.create(email=email, password=PASSWORD)


# ---------------------------------------------------------------------------------- log-in


def test_totp_is_set_up_with_a_code_and_then_the_log_in_asks_for_one() -> None:
    # given a person logged in with their password
    user()
    client, status, _ = login("olga@acme.test")
    assert status == 200
    # when they set up an authenticator app: a wrong code is refused, the right one accepted
    status, body = allauth(client, "GET", "/account/authenticators/totp")
    secret = body["meta"]["secret"]
    wrong = wrong_code(secret)
    status, body = allauth(client, "POST", "/account/authenticators/totp", {"code": wrong})
    assert status == 400
    assert body["errors"][0]["param"] == "code"
    assert not Authenticator.objects.exists()
    # and the right one is taken once they have confirmed who they are (allauth asks before
    # every change to two-factor authentication; the web app asks for the password then)
    status, body = allauth(
        client, "POST", "/account/authenticators/totp", {"code": totp_code(secret)}
    )
    assert status == 401
    assert "reauthenticate" in {f["id"] for f in body["data"]["flows"]}
    assert not Authenticator.objects.exists()
    assert allauth(client, "POST", "/auth/reauthenticate", {"password": PASSWORD})[0] == 200
    status, body = allauth(
        client, "POST", "/account/authenticators/totp", {"code": totp_code(secret)}
    )
    assert status == 200
    # then recovery codes were made with it, and /me says two-factor is on
    status, body = allauth(client, "GET", "/account/authenticators/recovery-codes")
    assert status == 200
    assert len(body["data"]["unused_codes"]) == body["data"]["total_code_count"] == 10
    assert client.get("/api/v2/me").json()["mfa_enabled"] is True

    # when they log in again in another browser
    other, status, body = login("olga@acme.test")
    # then the password alone does not log in: the two-factor step is pending
    assert status == 401
    flow = pending_flow(body)
    assert flow is not None
    assert (flow["id"], sorted(flow["types"])) == ("mfa_authenticate", ["recovery_codes", "totp"])
    assert other.get("/api/v2/me").status_code == 401
    # and a wrong code is refused, the app's current code logs in
    status, _ = allauth(other, "POST", "/auth/2fa/authenticate", {"code": wrong})
    assert status == 400
    assert other.get("/api/v2/me").status_code == 401
    status, body = allauth(other, "POST", "/auth/2fa/authenticate", {"code": totp_code(secret)})
    assert status == 200
    assert body["meta"]["is_authenticated"] is True
    assert {m["method"] for m in body["data"]["methods"]} == {"password", "mfa"}
    assert other.get("/api/v2/me").status_code == 200


def test_a_totp_code_logs_in_once() -> None:
    # given a person with an authenticator app who logged in with a code
    user()
    secret = with_totp("olga@acme.test")
    code = totp_code(secret)
    first, _, _ = login("olga@acme.test")
    assert allauth(first, "POST", "/auth/2fa/authenticate", {"code": code})[0] == 200
    # when the same code is sent again (someone who saw it over the shoulder)
    second, status, _ = login("olga@acme.test")
    assert status == 401
    status, _ = allauth(second, "POST", "/auth/2fa/authenticate", {"code": code})
    # then it is refused
    assert status == 400
    assert second.get("/api/v2/me").status_code == 401


def test_a_recovery_code_logs_in_once() -> None:
    # given a person who set up an authenticator app and kept the recovery codes
    user()
    client, _, _ = login("olga@acme.test")
    totp_set_up(client)
    _, body = allauth(client, "GET", "/account/authenticators/recovery-codes")
    recovery_code = body["data"]["unused_codes"][0]
    # (shown once: asked again, allauth counts them without showing them)
    _, again = allauth(client, "GET", "/account/authenticators/recovery-codes")
    assert again["data"]["unused_code_count"] == 10
    assert "unused_codes" not in again["data"]
    # when they log in with a recovery code instead of the app's code
    other, status, _ = login("olga@acme.test")
    assert status == 401
    status, body = allauth(other, "POST", "/auth/2fa/authenticate", {"code": recovery_code})
    # then they are logged in, and that code is used up
    assert status == 200
    assert other.get("/api/v2/me").status_code == 200
    _, body = allauth(other, "GET", "/account/authenticators")
    codes = next(a for a in body["data"] if a["type"] == "recovery_codes")
    assert codes["unused_code_count"] == 9
    # and the same recovery code does not log in again
    third, _, _ = login("olga@acme.test")
    status, _ = allauth(third, "POST", "/auth/2fa/authenticate", {"code": recovery_code})
    assert status == 400
    assert third.get("/api/v2/me").status_code == 401


def test_regenerated_recovery_codes_replace_the_old_ones() -> None:
    # given a person with recovery codes
    user()
    client, _, _ = login("olga@acme.test")
    totp_set_up(client)
    _, body = allauth(client, "GET", "/account/authenticators/recovery-codes")
    old = set(body["data"]["unused_codes"])
    # when they make new ones
    status, body = allauth(client, "POST", "/account/authenticators/recovery-codes")
    # then they get ten new codes, and an old one no longer logs in
    assert status == 200
    new = set(body["data"]["unused_codes"])
    assert len(new) == 10
    assert not old & new
    other, _, _ = login("olga@acme.test")
    status, _ = allauth(other, "POST", "/auth/2fa/authenticate", {"code": sorted(old)[0]})
    assert status == 400
    status, _ = allauth(other, "POST", "/auth/2fa/authenticate", {"code": sorted(new)[0]})
    assert status == 200


def test_two_factor_secrets_are_stored_encrypted_and_survive_a_secret_key_rotation(
    settings: Any,
) -> None:
    # given a person who set up an authenticator app (and so has recovery codes)
    user()
    client, _, _ = login("olga@acme.test")
    secret = totp_set_up(client)
    # then the database holds neither the app's secret nor the recovery codes' seed in the clear
    stored = {a.type: a.data for a in Authenticator.objects.all()}
    assert set(stored) == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
    assert secret not in json.dumps(stored)
    adapter = get_mfa_adapter()
    assert adapter.decrypt(stored[Authenticator.Type.TOTP]["secret"]) == secret
    seed = adapter.decrypt(stored[Authenticator.Type.RECOVERY_CODES]["seed"])
    assert seed not in json.dumps(stored)
    # when SECRET_KEY is rotated with the old key kept as a fallback, the app's codes still log in
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-" + "x" * 40, [old_key]
    other, status, _ = login("olga@acme.test")
    assert status == 401
    status, _ = allauth(other, "POST", "/auth/2fa/authenticate", {"code": totp_code(secret)})
    assert status == 200
    # and without the old key the stored secret reads as nothing at all, not as a secret
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(InvalidToken):
        get_mfa_adapter().decrypt(stored[Authenticator.Type.TOTP]["secret"])
    # until `manage.py mfa_reencrypt` (run while the fallback is still there) has re-encrypted
    # both secrets under the new key: then the old key may go and the codes still log in
    settings.SECRET_KEY_FALLBACKS = [old_key]
    out = io.StringIO()
    call_command("mfa_reencrypt", stdout=out)
    assert out.getvalue().strip() == "re-encrypted 2"
    settings.SECRET_KEY_FALLBACKS = []
    fresh, _, _ = login("olga@acme.test")
    status, _ = allauth(fresh, "POST", "/auth/2fa/authenticate", {"code": totp_next_code(secret)})
    assert status == 200


def test_turning_totp_off_asks_to_confirm_it_is_you_with_a_code() -> None:
    # given a person logged in with their password and an authenticator app's code
    user()
    secret = with_totp("olga@acme.test")
    client, _, _ = login("olga@acme.test")
    assert allauth(client, "POST", "/auth/2fa/authenticate", {"code": totp_code(secret)})[0] == 200
    # when they turn it off: allauth asks them to confirm who they are first
    status, body = allauth(client, "DELETE", "/account/authenticators/totp")
    assert status == 401
    assert {f["id"] for f in body["data"]["flows"]} >= {"reauthenticate", "mfa_reauthenticate"}
    assert Authenticator.objects.filter(type=Authenticator.Type.TOTP).exists()
    # then a wrong code does not confirm it, the app's next code does, and it is turned off
    status, _ = allauth(client, "POST", "/auth/2fa/reauthenticate", {"code": wrong_code(secret)})
    assert status == 400
    assert allauth(client, "DELETE", "/account/authenticators/totp")[0] == 401
    status, _ = allauth(
        client, "POST", "/auth/2fa/reauthenticate", {"code": totp_next_code(secret)}
    )
    assert status == 200
    status, _ = allauth(client, "DELETE", "/account/authenticators/totp")
    assert status == 200
    assert not Authenticator.objects.exists()
    assert client.get("/api/v2/me").json()["mfa_enabled"] is False


def test_a_person_with_two_factor_can_still_change_their_email() -> None:
    # given a person with an authenticator app, logged in with a code
    user()
    secret = with_totp("olga@acme.test")
    client, _, _ = login("olga@acme.test")
    assert allauth(client, "POST", "/auth/2fa/authenticate", {"code": totp_code(secret)})[0] == 200
    # when they change their address (allauth adds the new one unverified until its link is opened)
    status, body = allauth(client, "POST", "/account/email", {"email": "olga@new.test"})
    # then it is taken (allauth refuses that by default; verification is mandatory here instead)
    assert status == 200, body
    assert {(a["email"], a["verified"]) for a in body["data"]} == {
        ("olga@acme.test", True),
        ("olga@new.test", False),
    }


# ---------------------------------------------------------------------------------- the org's rule


@pytest.fixture
def dave(org: Organization) -> Actor:
    """An admin of acme."""
    return join("dave@acme.test", org, role_builtin("admin"))


def problem_of(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_an_org_that_requires_two_factor_refuses_its_owners_and_admins_without_it(
    alice: Actor, bob: Actor, dave: Actor, owner_key: CreatedKey, erin: Actor
) -> None:
    # given acme requires two-factor of owners and admins; alice (owner) has it, dave (admin),
    # bob (member) and erin (a custom role that may not manage anyone) do not
    with_totp(alice.email)
    require_mfa(alice.org)
    # when each asks for the tasks
    statuses = {
        actor.email: actor.client.get(f"{ACME}/tasks").status_code
        for actor in (alice, dave, bob, erin)
    }
    # then only dave is refused, with the problem that says why
    assert statuses == {
        alice.email: 200,
        dave.email: 403,
        bob.email: 200,
        erin.email: 200,
    }
    problem = problem_of(dave.client.get(f"{ACME}/tasks"))
    assert problem["type"] == "/problems/mfa-required"
    assert problem["status"] == 403
    assert "two-factor" in problem["detail"]
    # and writes too: nothing he sends is applied
    response = dave.client.post(
        f"{ACME}/tasks", {"title": "x", "attributes": {}}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not alice.org.tasks.exists()
    # and /me, outside the org, tells the web app what to show
    me = dave.client.get("/api/v2/me").json()
    assert me["mfa_enabled"] is False
    assert me["orgs"] == [
        {
            "slug": "acme",
            "name": "Acme",
            "role": "admin",
            "permissions": me["orgs"][0]["permissions"],
            "mfa_required": True,
        }
    ]
    assert bob.client.get("/api/v2/me").json()["orgs"][0]["mfa_required"] is False
    # and the org's API keys are not affected
    response = Client().get(f"{ACME}/tasks", headers={"authorization": f"Bearer {owner_key.token}"})
    assert response.status_code == 200


def test_a_custom_role_that_may_manage_members_counts_as_an_admin(org: Organization) -> None:
    # given a custom role that may manage members (and little else), held by frank
    role = role_create(
        org_id=org.pk, key="coadmin", name="Co-admin",
        permissions=["task.read", "members.read", "members.manage"], caller=SETUP_CALLER,
    )  # fmt: skip
    frank = join("frank@acme.test", org, role)
    # when acme requires two-factor of owners and admins
    require_mfa(org)
    # then frank is refused until he sets it up
    assert frank.client.get(f"{ACME}/tasks").status_code == 403
    with_totp(frank.email)
    assert frank.client.get(f"{ACME}/tasks").status_code == 200


def test_setting_up_two_factor_lifts_the_refusal_at_once(alice: Actor, dave: Actor) -> None:
    # given dave refused for lack of two-factor
    with_totp(alice.email)
    require_mfa(alice.org)
    assert dave.client.get(f"{ACME}/tasks").status_code == 403
    # when he sets it up through allauth (in a browser logged in with his password)
    browser, status, _ = login(dave.email, "password")
    assert status == 200
    assert browser.get(f"{ACME}/tasks").status_code == 403  # setting it up is not refused
    totp_set_up(browser, password="password")
    # then his next request is served
    assert browser.get(f"{ACME}/tasks").status_code == 200
    assert dave.client.get(f"{ACME}/tasks").status_code == 200


# ---------------------------------------------------------------------------------- the setting


def test_an_owner_requires_two_factor_from_the_next_request_on_and_it_is_audited(
    alice: Actor, dave: Actor
) -> None:
    # given dave (admin) was just served, so his grant is cached
    assert dave.client.get(f"{ACME}/tasks").status_code == 200
    with_totp(alice.email)
    # when alice, who has two-factor, requires it
    response = alice.client.patch(
        f"{ACME}/security", {"mfa_required_for_admins": True}, content_type="application/json"
    )
    # then it is on, and dave's very next request is refused
    assert response.status_code == 200
    assert response.json() == {"mfa_required_for_admins": True}
    assert alice.client.get(f"{ACME}/security").json() == {"mfa_required_for_admins": True}
    assert dave.client.get(f"{ACME}/tasks").status_code == 403
    # and the audit log says who changed what
    event = AuditEvent.objects.get(action="org.security_changed")
    assert (event.actor_label, event.before, event.after) == (
        alice.email,
        {"mfa_required_for_admins": False},
        {"mfa_required_for_admins": True},
    )
    # and turning it off again serves dave again, audited too
    response = alice.client.patch(
        f"{ACME}/security", {"mfa_required_for_admins": False}, content_type="application/json"
    )
    assert response.json() == {"mfa_required_for_admins": False}
    assert dave.client.get(f"{ACME}/tasks").status_code == 200
    assert AuditEvent.objects.filter(action="org.security_changed").count() == 2


def test_an_owner_without_two_factor_cannot_require_it(alice: Actor) -> None:
    # when alice, who has no authenticator app, requires two-factor
    response = alice.client.patch(
        f"{ACME}/security", {"mfa_required_for_admins": True}, content_type="application/json"
    )
    # then she is told to set it up for herself first, and nothing changed
    assert response.status_code == 409
    assert "yourself first" in problem_of(response)["detail"]
    assert Organization.objects.get(slug="acme").mfa_required_for_admins is False
    assert not AuditEvent.objects.filter(action="org.security_changed").exists()


@pytest.mark.parametrize("who", ["dave", "bob", "owner_key"])
def test_only_an_owner_in_person_changes_the_setting(
    who: str, alice: Actor, dave: Actor, bob: Actor, owner_key: CreatedKey
) -> None:
    # given an admin, a member, and the org's owner API key
    clients = {
        "dave": (dave.client, {}),
        "bob": (bob.client, {}),
        "owner_key": (Client(), {"authorization": f"Bearer {owner_key.token}"}),
    }
    client, headers = clients[who]
    # when one of them requires two-factor
    response = client.patch(
        f"{ACME}/security",
        {"mfa_required_for_admins": True},
        content_type="application/json",
        headers=headers,
    )
    # then it is refused for lack of the owner's permission (the key holds it, but is no person)
    assert response.status_code == 403
    problem = problem_of(response)
    assert (problem["type"], problem["permission"]) == ("/problems/permission-denied", "org.owner")
    assert Organization.objects.get(slug="acme").mfa_required_for_admins is False
    assert not AuditEvent.objects.filter(action="org.security_changed").exists()


def test_an_owner_who_lost_two_factor_cannot_lift_the_requirement_without_it(
    alice: Actor, org: Organization
) -> None:
    # given acme requires two-factor and a second owner without it
    with_totp(alice.email)
    require_mfa(org)
    olga = join("olga@acme.test", org, role_builtin("owner"))
    # when she tries to turn the requirement off
    response = olga.client.patch(
        f"{ACME}/security", {"mfa_required_for_admins": False}, content_type="application/json"
    )
    # then she is refused like every other request of hers to the org
    assert response.status_code == 403
    assert problem_of(response)["type"] == "/problems/mfa-required"
    assert Organization.objects.get(slug="acme").mfa_required_for_admins is True
