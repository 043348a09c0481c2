"""The local mail outbox over HTTP (`/api/dev/outbox`), and the settings that allow it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from conftest import Actor
from taskscore.testing.processes import BACKEND_DIR

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

BACKEND = "taskscore.integrations.mail.outbox.OutboxEmailBackend"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def test_mail_the_app_sends_is_listed_and_read_back(
    alice: Actor, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # given the outbox on, and two invitations sent through the API
    with override_settings(EMAIL_BACKEND=BACKEND, MAIL_OUTBOX_DIR=str(tmp_path)):
        urls = []
        for email in ("first@example.test", "second@example.test"):
            with django_capture_on_commit_callbacks(execute=True):
                created = alice.client.post(
                    "/api/v2/orgs/acme/invitations",
                    json.dumps({"email": email, "role": "member"}),
                    content_type="application/json",
                )
            assert created.status_code == 201
            urls.append(created.json()["accept_url"])
        # when the outbox is listed (no login needed)
        listed = Client().get("/api/dev/outbox")
        # then both messages are there, newest first, with the accept links
        assert listed.status_code == 200
        items = listed.json()["items"]
        assert [(m["to"], m["links"]) for m in items] == [
            (["second@example.test"], [urls[1]]),
            (["first@example.test"], [urls[0]]),
        ]
        assert items[0]["subject"] == "You are invited to Acme on Taskscore"
        assert items[0]["from"] == "Taskscore <noreply@taskscore.localhost>"
        assert urls[1] in items[0]["body"]
        # and one message reads back by its id
        one = Client().get(f"/api/dev/outbox/{items[1]['id']}")
        assert (one.status_code, one.json()) == (200, items[1])


def test_the_outbox_is_a_404_when_it_is_off() -> None:
    with override_settings(MAIL_OUTBOX_DIR=""):
        listed = _problem(Client().get("/api/dev/outbox"), 404)
        one = _problem(Client().get("/api/dev/outbox/20260101T000000000000Z-00000000"), 404)
    assert listed["type"] == one["type"] == "/problems/not-found"
    assert "MAIL_OUTBOX_DIR" in listed["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "..%2Fsecret",
        "..",
        "%2E%2E",
        "secret",
        "..%2F..%2Fsecret",
        "20260101T000000000000Z-00000000",
        "20260101T000000000000Z-00000000%2F..%2F..%2Fsecret",
    ],
)
def test_ids_that_are_not_messages_are_refused(tmp_path: Path, path: str) -> None:
    # given an outbox next to a file no one should read through it
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (tmp_path / "secret.json").write_text('{"secret": true}')
    (outbox / "secret.json").write_text('{"secret": true}')
    # when it is asked for by a crafted id, then the answer is a 404 without the file
    with override_settings(MAIL_OUTBOX_DIR=str(outbox)):
        response = Client().get(f"/api/dev/outbox/{path}")
    body = _problem(response, 404)
    assert body["type"] == "/problems/not-found"
    assert "secret" not in body


def test_the_outbox_is_read_only(tmp_path: Path) -> None:
    with override_settings(MAIL_OUTBOX_DIR=str(tmp_path)):
        response = Client().post("/api/dev/outbox", "{}", content_type="application/json")
    assert _problem(response, 405)["type"] == "/problems/method-not-allowed"
    assert list(tmp_path.iterdir()) == []


def test_the_outbox_is_not_part_of_the_v2_contract() -> None:
    paths = Client().get("/api/v2/openapi.json").json()["paths"]
    assert [p for p in paths if "outbox" in p] == []


# ---------------------------------------------------------------------------------- settings


# Production refuses to start without its secrets (tests/test_security.py, finding 2).
PRODUCTION_SECRETS = {
    "DJANGO_SECRET_KEY": "x" * 50,
    "STRIPE_SECRET_KEY": "sk_test_outbox_tests",
    "STRIPE_WEBHOOK_SECRET": "whsec_outbox_tests",
}


def _settings_of(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Import a settings module in a fresh interpreter with exactly this environment."""
    code = f"import json, {module} as s; print(json.dumps([s.MAIL_OUTBOX_DIR, s.EMAIL_BACKEND]))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BACKEND_DIR, env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_local_runs_keep_mail_in_the_repos_outbox_by_default() -> None:
    result = _settings_of("config.settings.local")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [str(BACKEND_DIR.parent / ".local" / "outbox"), BACKEND]


def test_local_runs_honour_a_set_email_backend_or_an_empty_outbox() -> None:
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    chosen = _settings_of("config.settings.local", EMAIL_BACKEND=smtp)
    off = _settings_of("config.settings.local", MAIL_OUTBOX_DIR="")
    assert json.loads(chosen.stdout)[1] == smtp
    assert json.loads(off.stdout) == ["", "django.core.mail.backends.console.EmailBackend"]


@pytest.mark.parametrize(
    "env", [{"MAIL_OUTBOX_DIR": "/srv/taskscore/outbox"}, {"EMAIL_BACKEND": BACKEND}], ids=str
)
def test_production_refuses_the_outbox(env: dict[str, str]) -> None:
    result = _settings_of("config.settings.production", **PRODUCTION_SECRETS, **env)
    assert result.returncode == 1
    assert "ImproperlyConfigured: MAIL_OUTBOX_DIR and the outbox mail backend are for local " in (
        result.stderr
    )


def test_production_starts_without_the_outbox() -> None:
    result = _settings_of("config.settings.production", **PRODUCTION_SECRETS)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["", "django.core.mail.backends.console.EmailBackend"]
