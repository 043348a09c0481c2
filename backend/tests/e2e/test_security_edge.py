"""The web app's edge, through the real thing (frontend/server.mjs, Next's proxy, gunicorn): the
address Django counts is the connection's, never one a client names; log-in limits per address
and per account; the security headers of the web app's pages and assets; the API docs under
their policy. Findings 3 and 4 of docs/decisions/0012-security-hardening.md (the rest of their
tests: tests/test_security.py).

Clients here connect from several of loopback's addresses (127.0.0.0/8 all reach the web app on
127.0.0.1): to the web app, as to any server, those are different clients."""

from __future__ import annotations

import functools
import http.client
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.cookiejar import CookieJar
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
from redis import Redis

from conftest import test_process_env
from taskscore.accounts.services import user_create
from taskscore.api.common.security_headers import DATA_POLICY, PERMISSIONS_POLICY
from taskscore.testing.processes import free_port, start_gunicorn, start_web_app

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-edge-password"
UNKNOWN_KEY = f"ts_{'0' * 12}_{'A' * 40}"  # well-formed, in no org: a failed authentication


class _FromAddress(urllib.request.HTTPHandler):
    """Connects from `source` (a loopback address): the web app sees another client."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(http.client.HTTPConnection, source_address=(self.source, 0))
        return self.do_open(connection, req)


@dataclass
class WebClient:
    """A client of the web app at `source`, with its own cookies (a browser, as far as the
    web app and Django can tell)."""

    web_app: str
    source: str
    cookies: CookieJar = field(default_factory=CookieJar)

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Message, bytes]:
        opener = urllib.request.build_opener(
            _FromAddress(self.source), urllib.request.HTTPCookieProcessor(self.cookies)
        )
        request = urllib.request.Request(
            self.web_app + path, method=method, headers=headers or {},
            data=None if body is None else json.dumps(body).encode(),
        )  # fmt: skip
        if body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with opener.open(request, timeout=15) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def log_in(self, email: str, password: str, *, spoofed: str) -> tuple[int, list[str]]:
        """Logs in as the web app's login page does (CSRF cookie, then allauth), claiming to
        come from `spoofed` in every forwarding header; (status, allauth's error codes)."""
        self.request("GET", "/api/v2/auth/csrf")
        token = next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken")
        status, _, body = self.request(
            "POST", "/_allauth/browser/v1/auth/login", {"email": email, "password": password},
            {"X-CSRFToken": str(token), "Origin": self.web_app, **_spoofing(spoofed)},
        )  # fmt: skip
        errors = json.loads(body).get("errors", []) if status != 200 else []
        return status, [error.get("code") for error in errors]


def _spoofing(address: str) -> dict[str, str]:
    """Every header a client could use to name its own address."""
    return {"X-Forwarded-For": address, "X-Real-IP": address, "Forwarded": f"for={address}"}


def _failed_auth_buckets() -> set[str]:
    """The addresses whose failed authentications Django's rate limiter has counted."""
    prefix = f"{settings.RATE_LIMIT_PREFIX}:f:"
    keys = Redis.from_url(settings.REDIS_URL).scan_iter(f"{prefix}*", count=1000)
    return {key.decode().removeprefix(prefix) for key in keys}


def _accounts(*names: str) -> list[str]:
    emails = [f"{name}-{free_port()}@example.test" for name in names]  # fresh across the run
    for email in emails:
        user_create(email=email, password=PASSWORD, is_email_verified=True)
    return emails


# ------------------------------------------------------------------------------------ Finding 3


def test_django_counts_the_connection_s_address_not_one_the_client_names(web_app: str) -> None:
    """Finding 3: Next's server passed a client's own X-Forwarded-For on to Django. A bad API key
    sent through the web app from 127.0.0.2, claiming another address in every forwarding header,
    is counted against 127.0.0.2."""
    client = WebClient(web_app, "127.0.0.2")

    status, _, _ = client.request(
        "GET", "/api/v2/orgs/acme/tasks",
        headers={"Authorization": f"Bearer {UNKNOWN_KEY}", **_spoofing("198.51.100.7")},
    )  # fmt: skip

    assert status == 401
    counted = _failed_auth_buckets()
    assert "127.0.0.2" in counted
    assert not any(address.startswith("198.51.100.") for address in counted)


def test_ten_wrong_passwords_from_one_client_do_not_lock_out_another(web_app: str) -> None:
    """Finding 3: through the web app every browser was one address to Django, so ten wrong
    passwords a minute from anyone locked everyone out. One guess at each of ten accounts from
    127.0.0.3, each claiming another address: 127.0.0.3 is refused even with a right password,
    127.0.0.4 logs in."""
    *victims, own, neighbours = _accounts(*[f"victim{n}" for n in range(10)], "own", "neighbour")
    attacker, neighbour = WebClient(web_app, "127.0.0.3"), WebClient(web_app, "127.0.0.4")

    guesses = [
        attacker.log_in(victim, "not-the-password", spoofed=f"198.51.100.{n}")
        for n, victim in enumerate(victims)
    ]
    refused = attacker.log_in(own, PASSWORD, spoofed="198.51.100.99")
    admitted = neighbour.log_in(neighbours, PASSWORD, spoofed="198.51.100.3")

    assert guesses == [(400, ["email_password_mismatch"])] * 10
    assert refused == (400, ["too_many_login_attempts"])
    assert admitted == (200, [])


def test_an_account_with_five_failed_logins_waits_whatever_the_address_and_says_so(
    web_app: str, page: Page
) -> None:
    """Finding 3, per account: five wrong passwords for one account from five addresses; then
    its owner, with the right password in the browser, is told to wait (readably, on the log-in
    page) and stays logged out."""
    (victim,) = _accounts("victim")
    for n in range(5):
        guess = WebClient(web_app, f"127.0.0.{10 + n}").log_in(
            victim, "not-the-password", spoofed="198.51.100.1"
        )
        assert guess == (400, ["email_password_mismatch"])

    page.goto(f"{web_app}/login")
    page.get_by_label("Email").fill(victim)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    refusal = "Too many failed login attempts. Try again later."
    expect(page.get_by_role("alert").filter(has_text=refusal)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login$"))


@pytest.fixture(scope="module")
def behind_a_load_balancer(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The web app and the API as `make run` starts them with WEB_TRUSTED_PROXY_HOPS=1 (a load
    balancer in front of the web app); Django then counts two hops by default."""
    logs = tmp_path_factory.mktemp("behind-a-load-balancer")
    api_port, web_port = free_port(), free_port()
    web_origin = f"http://127.0.0.1:{web_port}"
    env = test_process_env() | {
        "WEB_TRUSTED_PROXY_HOPS": "1",
        "WEB_ORIGIN": web_origin,
        "CSRF_TRUSTED_ORIGINS": web_origin,
    }
    api = start_gunicorn(env, port=api_port, log_dir=logs, workers=1)
    try:
        web = start_web_app(
            env, port=web_port, django_origin=f"http://127.0.0.1:{api_port}", log_dir=logs,
            name="next-behind-a-load-balancer",
        )  # fmt: skip
        yield web_origin
        web.stop()
    finally:
        api.stop()


def test_behind_a_trusted_proxy_the_address_it_saw_is_counted(behind_a_load_balancer: str) -> None:
    """Finding 3, configured: behind one more proxy (it appends the address it saw), the web
    app keeps that proxy's entry and Django counts it; what the client wrote before it, and the
    proxy's own address, are not counted."""
    client = WebClient(behind_a_load_balancer, "127.0.0.20")  # the load balancer's address

    status, _, _ = client.request(
        "GET", "/api/v2/orgs/acme/tasks",
        headers={"Authorization": f"Bearer {UNKNOWN_KEY}",
                 "X-Forwarded-For": "198.51.100.7, 203.0.113.77"},
    )  # fmt: skip

    assert status == 401
    counted = _failed_auth_buckets()
    assert "203.0.113.77" in counted
    assert not {"198.51.100.7", "127.0.0.20"} & counted


# ---------------------------------------------------------------------------- Finding 4: headers


def _security_headers(headers: Message) -> dict[str, str | None]:
    names = ("Permissions-Policy", "X-Content-Type-Options", "Referrer-Policy")
    return {name: headers.get(name) for name in names}


EXPECTED = {
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def test_the_web_app_s_pages_assets_and_api_answers_carry_their_security_headers(
    web_app: str,
) -> None:
    """Finding 4: each page has a Content-Security-Policy with a nonce of its own (no eval, no
    framing), which every script of the page carries; pages, build assets and the API through
    the web app say the same Permissions-Policy, no MIME sniffing and no Referer off the site."""
    client = WebClient(web_app, "127.0.0.1")
    pages = [client.request("GET", path) for path in ("/login", "/login", "/no-such-page")]
    nonces = []
    for _, headers, body in pages:
        policy = headers["Content-Security-Policy"].split("; ")
        found = re.fullmatch(
            r"script-src 'self' 'nonce-([A-Za-z0-9+/=]+)' 'strict-dynamic'", policy[1]
        )
        assert found, policy
        scripts = re.findall(r"<script\b[^>]*>", body.decode())
        assert scripts
        assert [s for s in scripts if f'nonce="{found.group(1)}"' not in s] == []
        assert "frame-ancestors 'none'" in policy
        assert _security_headers(headers) == EXPECTED
        nonces.append(found.group(1))
    assert [status for status, _, _ in pages] == [200, 200, 404]
    assert len(set(nonces)) == 3

    script = re.search(r'src="(/_next/static/[^"]+\.js)"', pages[0][2].decode())
    assert script
    asset_status, asset_headers, _ = client.request("GET", script.group(1))
    api_status, api_headers, _ = client.request("GET", "/api/v2/me")

    assert (asset_status, _security_headers(asset_headers)) == (200, EXPECTED)
    assert (api_status, _security_headers(api_headers)) == (401, EXPECTED)
    assert api_headers["Content-Security-Policy"] == DATA_POLICY


def test_the_api_docs_work_under_their_policy(api_server: str, page: Page) -> None:
    """Finding 4: Django's HTML pages get a policy of scripts and styles from their own origin;
    Swagger UI runs under it (the page fixture fails on any violation)."""
    page.goto(f"{api_server}/api/v2/docs")

    # Swagger UI lays out the whole v2 document first: seconds on a busy machine.
    expect(page.locator(".opblock").first).to_be_visible(timeout=90_000)
