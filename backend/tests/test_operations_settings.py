"""Settings an operator changes when Taskscore runs on several hosts (docs/operations.md): the AI
result cache on a Redis of its own, server-side cursors off behind pgbouncer, and a Prometheus
scrape over plain HTTP that production's HTTPS redirect lets through."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import Client, override_settings
from redis import Redis

from taskscore.integrations.ai.base import Rubric
from taskscore.scoring.ai import ai_provider, ai_result_cache
from taskscore.testing.fake_ai import FakeAIServer
from taskscore.testing.processes import BACKEND_DIR, free_port, start_redis

TOKEN = "metrics-token-for-tests-0123456789"


def _setting(module: str, expression: str, **env: str) -> object:
    """`expression` over the settings `module`, imported in a fresh interpreter with only `env`."""
    secrets_env = {
        name: secrets.token_urlsafe(32)
        for name in ("DJANGO_SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
    }
    done = subprocess.run(
        [sys.executable, "-c", f"import json, {module} as s; print(json.dumps({expression}))"],
        cwd=BACKEND_DIR, env={"PATH": "/usr/bin:/bin", "MAIL_OUTBOX_DIR": "", **secrets_env, **env},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_ai_result_cache_keeps_its_answers_on_its_own_redis(
    fake_ai: FakeAIServer, tmp_path: Path
) -> None:
    port = free_port()
    server = start_redis(port=port, log_dir=tmp_path)
    try:
        own = Redis.from_url(f"redis://127.0.0.1:{port}/0", decode_responses=True)
        scope = f"ops-test-{uuid.uuid4()}"
        with override_settings(AI_CACHE_REDIS_URL=f"redis://127.0.0.1:{port}/0"):
            ai_result_cache().assess(
                ai_provider(), rubric=Rubric(question="Is it clear?"), task_text="A task",
                scope=scope,
            )  # fmt: skip
        assert any(scope in key for key in own.keys("*"))
    finally:
        server.stop()


@pytest.mark.parametrize(("value", "expected"), [(None, False), ("true", True)])
def test_server_side_cursors_can_be_turned_off_for_pgbouncer(
    value: str | None, expected: bool
) -> None:
    env = {} if value is None else {"DATABASE_DISABLE_SERVER_SIDE_CURSORS": value}
    disabled = _setting(
        "config.settings.production", "s.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS']", **env
    )
    assert disabled is expected


@pytest.mark.django_db
def test_production_lets_a_plain_http_scrape_through_and_redirects_the_rest() -> None:
    exempt = _setting("config.settings.production", "s.SECURE_REDIRECT_EXEMPT")
    with override_settings(
        SECURE_SSL_REDIRECT=True, SECURE_REDIRECT_EXEMPT=exempt, METRICS_TOKEN=TOKEN
    ):
        scrape = Client().get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
        api = Client().get("/api/v2/me")
    assert scrape.status_code == 200
    assert api.status_code == 301
    assert api["Location"].startswith("https://")
