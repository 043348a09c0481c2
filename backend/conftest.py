"""Fixtures shared by every test: the cast (alice, bob, carol, mallory), API clients, and real
processes (a Celery worker, the gunicorn-served API) running against the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from config.celery import app as celery_app
from taskscore.orgs.models import Organization, Role
from taskscore.orgs.services import CreatedKey, api_key_create
from taskscore.testing.factories import MembershipFactory, OrganizationFactory, UserFactory

BACKEND_DIR = Path(__file__).resolve().parent
PASSWORD = "correct-horse-battery-staple"


@dataclass
class Actor:
    """A user with a role in an org, logged in through `client`."""

    email: str
    org: Organization
    role: str
    client: Client


@pytest.fixture
def org(db: None) -> Organization:
    return OrganizationFactory.create(name="Acme", slug="acme")


@pytest.fixture
def other_org(db: None) -> Organization:
    return OrganizationFactory.create(name="Globex", slug="globex")


def _actor(email: str, org: Organization, role: str) -> Actor:
    user = UserFactory.create(email=email, password=PASSWORD)
    MembershipFactory.create(user=user, org=org, role=role)
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return Actor(email=email, org=org, role=role, client=client)


@pytest.fixture
def alice(org: Organization) -> Actor:
    return _actor("alice@acme.test", org, Role.OWNER)


@pytest.fixture
def bob(org: Organization) -> Actor:
    return _actor("bob@acme.test", org, Role.MEMBER)


@pytest.fixture
def carol(org: Organization) -> Actor:
    return _actor("carol@acme.test", org, Role.VIEWER)


@pytest.fixture
def mallory(other_org: Organization) -> Actor:
    return _actor("mallory@globex.test", other_org, Role.OWNER)


@pytest.fixture
def owner_key(org: Organization) -> CreatedKey:
    return api_key_create(org=org, name="ci", role=Role.OWNER, created_by=None)


@pytest.fixture
def other_org_key(other_org: Organization) -> CreatedKey:
    return api_key_create(org=other_org, name="ci", role=Role.OWNER, created_by=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listened on {port} within {timeout}s")


def test_process_env() -> dict[str, str]:
    """The environment for a child process that must use the test database and queue."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=(
            f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        CELERY_QUEUE=settings.CELERY_TASK_DEFAULT_QUEUE,
        PYTHONPATH=str(BACKEND_DIR),
        PYTHONUNBUFFERED="1",
    )
    return env


test_process_env.__test__ = False  # type: ignore[attr-defined]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: None, django_db_blocker: object) -> Iterator[None]:
    """A real Celery worker process consuming this run's queue against the test database."""
    celery_app.control.purge()
    log = open(BACKEND_DIR / ".pytest-worker.log", "wb")  # noqa: SIM115 - closed at teardown
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "-P", "threads", "-c", "4", "-l", "info",
            "-Q", settings.CELERY_TASK_DEFAULT_QUEUE,
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"pytest-{os.getpid()}@%h",
        ],
        cwd=BACKEND_DIR, env=test_process_env(), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while b" ready." not in (BACKEND_DIR / ".pytest-worker.log").read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            _stop(worker)
            raise RuntimeError(
                "Celery worker did not start:\n"
                + (BACKEND_DIR / ".pytest-worker.log").read_text(errors="replace")
            )
        time.sleep(0.1)
    yield
    _stop(worker)
    log.close()
    celery_app.control.purge()


@pytest.fixture(scope="session")
def api_web_origin() -> str:
    """The browser origin the API trusts for CSRF; the e2e tests override it with the web app's."""
    return "http://127.0.0.1:3000"


@pytest.fixture(scope="session")
def api_server(django_db_setup: None, api_web_origin: str) -> Iterator[str]:
    """The API served by gunicorn (as in production) on a free port; yields its base URL."""
    port = free_port()
    env = test_process_env() | {
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "WEB_WORKERS": "2",
        "WEB_ORIGIN": api_web_origin,
        "CSRF_TRUSTED_ORIGINS": api_web_origin,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=BACKEND_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=30, process=server)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(server)
