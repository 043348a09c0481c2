"""Shared set-up for the benchmarks: a dedicated database and queue, Django configured in this
process, and CPU accounting of child processes. Run from the repo root with the project venv."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "backend"
sys.path.insert(0, str(BACKEND))


# A benchmark's stack measures throughput and reliability, not quotas: every rate limit lifted.
NO_RATE_LIMITS = dict.fromkeys(
    (
        "RATE_LIMIT_PER_CALLER_PER_MINUTE",
        "RATE_LIMIT_PER_ORG_PER_MINUTE",
        "RATE_LIMIT_ACCOUNT_PER_MINUTE",
        "RATE_LIMIT_FAILED_AUTH_PER_MINUTE",
        "RATE_LIMIT_ANONYMOUS_PER_MINUTE",
    ),
    "1000000000",
)


def production_env(env: dict[str, str], *, log_level: str) -> dict[str, str]:
    """`env` for servers and workers run as production runs them: the production settings,
    throwaway Stripe secrets (a webhook secret already in `env` is kept: a run that signs webhooks
    set it), HTTPS known from the proxy's X-Forwarded-Proto, no mail sent. Nothing a benchmark
    sends calls Stripe."""
    import secrets

    return env | {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "STRIPE_SECRET_KEY": f"sk_test_bench_{secrets.token_hex(8)}",
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET")
        or f"whsec_bench_{secrets.token_hex(8)}",
        "STRIPE_API_BASE": "http://127.0.0.1:9",
        "TRUST_X_FORWARDED_PROTO": "true",
        "LOG_LEVEL": log_level,
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }


def bench_env(name: str, **overrides: str) -> dict[str, str]:
    """Environment for this process and its children: a `taskscore_bench` database next to the
    configured one, a private queue and cache prefix, so nothing touches real data."""
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/taskscore")
    parts = urlsplit(base_url)
    database_url = urlunsplit(parts._replace(path="/taskscore_bench"))
    run = f"{name}-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=database_url,
        CELERY_QUEUE=f"taskscore-{run}",
        AI_CACHE_KEY_PREFIX=f"ai-{run}",
        CACHE_KEY_PREFIX=f"ts-{run}",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(BACKEND),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def fake_ai_env(port: int, *, timeout_s: float) -> dict[str, str]:
    """Settings that point the app at the fake OpenAI-compatible server on loopback `port`
    (`taskscore.testing.processes.start_fake_ai`), answering within `timeout_s`."""
    return {
        "AI_PROVIDER": "openai",
        "AI_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "AI_MODEL": "fake-model",
        "AI_TIMEOUT_SECONDS": f"{timeout_s:g}",
    }


def django_setup(env: dict[str, str]) -> None:
    """Configure Django in this process with `env`, creating and migrating the bench database."""
    os.environ.update(env)
    import psycopg

    target = urlsplit(env["DATABASE_URL"])
    admin = urlunsplit(target._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [target.path.lstrip("/")]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{target.path.lstrip("/")}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def org_create(name: str, owner_email: str, plan: str = "business") -> dict[str, Any]:
    """An org on `plan` with its owner and an owner API key, made by `manage.py createorg` (as an
    operator makes one): its JSON, with `org`, `owner` and `api_key` (the key's `token`)."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("createorg", name=name, owner_email=owner_email, plan=plan, json=True, stdout=out)
    created: dict[str, Any] = json.loads(out.getvalue())
    return created


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def emit(figures: dict[str, object]) -> None:
    """The benchmark's result: one JSON object on the last line."""
    sys.stdout.flush()
    print(json.dumps(figures), flush=True)


def wait_until(predicate: object, *, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(interval)
    return False


def child_pids(pid: int) -> list[int]:
    """The pids of a process's children (e.g. a gunicorn master's workers), from /proc."""
    children: set[int] = set()
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children.update(int(child) for child in path.read_text().split())
        except OSError:
            continue
    return sorted(children)


def rss_mb(pid: int) -> float | None:
    """A process's resident set size (VmRSS) in MB, or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
