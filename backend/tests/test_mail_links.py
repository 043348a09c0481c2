"""Every link the backend mails opens a page of the web app: each mail kind is sent the way a
person causes it, and each link in it must be under WEB_ORIGIN and match a route of
`frontend/src/app` (route groups and dynamic segments resolved as Next.js does)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from taskscore.accounts.services import user_create
from taskscore.orgs.principals import principal_for_user
from taskscore.orgs.services import invitation_create
from taskscore.scoring.services import org_open

pytestmark = pytest.mark.django_db

APP_DIR = Path(__file__).resolve().parents[2] / "frontend" / "src" / "app"
LINK = re.compile(r"https?://[^\s<>\"']+")
ALLAUTH = "/_allauth/browser/v1"


def web_routes() -> list[re.Pattern[str]]:
    """The web app's pages as patterns: `(group)` folders add nothing to the path, `[name]`
    matches one segment."""
    patterns = []
    for page in APP_DIR.rglob("page.tsx"):
        parts = [p for p in page.parent.relative_to(APP_DIR).parts if not p.startswith("(")]
        regex = "/".join("[^/]+" if p.startswith("[") else re.escape(p) for p in parts)
        patterns.append(re.compile(f"^/{regex}$"))
    return patterns


def assert_opens_a_page(url: str, routes: list[re.Pattern[str]]) -> None:
    url = url.rstrip(".,;)")
    assert url.startswith(settings.WEB_ORIGIN + "/"), url
    path = url[len(settings.WEB_ORIGIN) :].split("?")[0]
    assert any(route.match(path) for route in routes), f"{path} is no page of the web app"


def post(client: Client, path: str, body: dict[str, str]) -> int:
    response = client.post(f"{ALLAUTH}{path}", json.dumps(body), content_type="application/json")
    return response.status_code


def test_the_route_table_knows_the_pages() -> None:
    routes = web_routes()
    assert any(r.match("/orgs/acme/tasks/123") for r in routes)
    assert not any(r.match("/no/such/page") for r in routes)


def test_every_link_in_every_mail_opens_a_page_of_the_web_app(
    django_capture_on_commit_callbacks: Any,
) -> None:
    routes = web_routes()
    client = Client()
    # Sign-up sends the verification mail (the person is logged in once it is verified: 401).
    signup = {"email": "new@example.test", "password": "a-long-pass-1"}
    assert post(client, "/auth/signup", signup) == 401
    # A sign-up with a taken address mails its owner instead (it suggests a password reset).
    owner = user_create(email="olga@acme.test", password="a-long-pass-2", is_email_verified=True)
    assert post(Client(), "/auth/signup", {**signup, "email": owner.email}) == 401
    # A reset for an account, and one for an address without an account (it suggests signing up).
    assert post(Client(), "/auth/password/request", {"email": owner.email}) == 200
    assert post(Client(), "/auth/password/request", {"email": "nobody@example.test"}) == 200
    # An invitation.
    org = org_open(name="Acme", owner=owner)
    with django_capture_on_commit_callbacks(execute=True):  # the mail is sent on commit
        invitation_create(
            org=org, email="invitee@example.test", role_key="member",
            caller=principal_for_user(owner.pk, org_slug=org.slug),
        )  # fmt: skip

    kinds = {m.subject for m in mail.outbox}
    assert len(mail.outbox) >= 5, kinds
    assert "[Taskscore] Account Already Exists" in kinds
    links = [link for message in mail.outbox for link in LINK.findall(str(message.body))]
    assert any("/account/verify-email/" in link for link in links)
    assert any("/account/password/reset/" in link for link in links)
    assert any("/invitations/" in link for link in links)
    for link in links:
        assert_opens_a_page(link, routes)
