"""The session store (accounts.sessions): a logged-in browser's requests read the session from
the cache, not Postgres; logging out ends it at once; a failing cache fails no request."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import Actor
from taskscore.accounts.backends import REPLACED
from taskscore.accounts.models import User
from taskscore.accounts.sessions import SessionStore
from tests.test_mfa import login

pytestmark = pytest.mark.django_db

ME = "/api/v2/me"
DEAD_CACHE = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
}


def _session_reads(actor: Actor) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = actor.client.get(ME)
    reads = sum('FROM "django_session"' in q["sql"] for q in captured.captured_queries)
    return response.status_code, reads


def test_a_session_read_once_is_served_from_the_cache(bob: Actor) -> None:
    assert bob.client.get(ME).status_code == 200  # the first read fills the cache

    assert _session_reads(bob) == (200, 0)


def test_a_copy_lives_session_cache_seconds_at_most(bob: Actor, settings: Any) -> None:
    settings.SESSION_CACHE_SECONDS = 0  # a copy that expires at once: Postgres every time
    cache.delete(SessionStore.cache_key_prefix + bob.client.cookies["sessionid"].value)
    assert _session_reads(bob) == (200, 1)
    assert _session_reads(bob) == (200, 1)


def test_logging_out_ends_the_session_at_once(bob: Actor) -> None:
    bob.client.get(ME)
    cookie = bob.client.cookies["sessionid"].value

    response = bob.client.delete("/_allauth/browser/v1/auth/session")

    assert response.status_code == 401  # allauth: logged out
    assert not Session.objects.filter(session_key=cookie).exists()
    bob.client.cookies["sessionid"] = cookie  # the old cookie, replayed
    assert bob.client.get(ME).status_code == 401


def test_a_failing_cache_fails_no_request(bob: Actor, settings: Any) -> None:
    bob.client.get(ME)
    settings.CACHES = DEAD_CACHE

    assert _session_reads(bob) == (200, 1)  # from Postgres
    response = bob.client.delete("/_allauth/browser/v1/auth/session")
    assert response.status_code == 401
    assert bob.client.get(ME).status_code == 401


def _user_reads(actor: Actor) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = actor.client.get(ME)
    reads = sum(
        "FROM accounts_user" in q["sql"].replace('"', "") for q in captured.captured_queries
    )
    return response.status_code, reads


def test_a_session_loads_its_user_in_one_statement_and_only_while_active(bob: Actor) -> None:
    assert _user_reads(bob) == (200, 1)

    User.objects.filter(email=bob.email).update(is_active=False)

    assert bob.client.get(ME).status_code == 401


@pytest.mark.parametrize("replaced", sorted(REPLACED))
def test_a_session_logged_in_by_a_replaced_backend_stays_logged_in(
    bob: Actor, replaced: str
) -> None:
    browser = Client()
    browser.force_login(User.objects.get(email=bob.email), backend=replaced)

    response = browser.get(ME)

    assert response.status_code == 200
    assert response.json()["email"] == bob.email


def test_logging_in_through_allauth_records_one_of_the_replacements(bob: Actor) -> None:
    browser, status, _ = login(bob.email)
    assert status == 200

    session = SessionStore(browser.cookies["sessionid"].value).load()

    # (Django's, which logs in by the email too, comes first and authenticates.)
    assert session[BACKEND_SESSION_KEY] in set(REPLACED.values())
    assert browser.get(ME).status_code == 200
