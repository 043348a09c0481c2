"""Fixtures shared by every test: the cast (alice, bob, carol, mallory), API clients, and real
processes (a Celery worker, the gunicorn-served API) running against the test database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client, override_settings

from config.celery import app as celery_app
from taskscore.orgs.models import Organization
from taskscore.orgs.services import CreatedKey, api_key_create
from taskscore.rbac.callers import OPERATOR
from taskscore.rbac.services import role_builtin
from taskscore.testing.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    org_plan_grant,
)
from taskscore.testing.fake_ai import FakeAIServer
from taskscore.testing.fake_stripe import FakeStripeServer
from taskscore.testing.processes import (
    BACKEND_DIR,
    Process,
    free_port,
    start_gunicorn,
    start_worker,
)

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
    MembershipFactory.create(user=user, org=org, role=role_builtin(role))
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return Actor(email=email, org=org, role=role, client=client)


@pytest.fixture
def alice(org: Organization) -> Actor:
    return _actor("alice@acme.test", org, "owner")


@pytest.fixture
def bob(org: Organization) -> Actor:
    return _actor("bob@acme.test", org, "member")


@pytest.fixture
def carol(org: Organization) -> Actor:
    return _actor("carol@acme.test", org, "viewer")


@pytest.fixture
def mallory(other_org: Organization) -> Actor:
    return _actor("mallory@globex.test", other_org, "owner")


@pytest.fixture
def owner_key(org: Organization) -> CreatedKey:
    org_plan_grant(org, "pro")  # API keys need Pro or higher
    return api_key_create(org=org, name="ci", role_key="owner", caller=OPERATOR)


@pytest.fixture
def other_org_key(other_org: Organization) -> CreatedKey:
    org_plan_grant(other_org, "pro")
    return api_key_create(org=other_org, name="ci", role_key="owner", caller=OPERATOR)


def test_process_env() -> dict[str, str]:
    """The environment for a child process that must use the test database, queue and AI."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=(
            f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        CELERY_QUEUE=settings.CELERY_TASK_DEFAULT_QUEUE,
        AI_PROVIDER=settings.AI_PROVIDER,
        AI_BASE_URL=settings.AI_BASE_URL,
        AI_MODEL=settings.AI_MODEL,
        STRIPE_API_BASE=settings.STRIPE_API_BASE,
        PYTHONPATH=str(BACKEND_DIR),
        PYTHONUNBUFFERED="1",
    )
    return env


test_process_env.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture(scope="session", autouse=True)
def fake_ai() -> Iterator[FakeAIServer]:
    """Every test scores against a fake OpenAI-compatible server on loopback (the worker
    processes too, through test_process_env): deterministic ratings, scriptable faults."""
    with FakeAIServer() as server:
        override = override_settings(
            AI_PROVIDER="openai", AI_BASE_URL=server.url, AI_MODEL="fake-model"
        )
        override.enable()
        try:
            yield server
        finally:
            override.disable()


@pytest.fixture(scope="session", autouse=True)
def fake_stripe_api() -> Iterator[str]:
    """Stripe's API for every test and child process: a fake on loopback (Checkout and the
    portal, which localstripe lacks, included). Tests needing its request log start their own."""
    with FakeStripeServer() as server:
        override = override_settings(STRIPE_API_BASE=server.url)
        override.enable()
        try:
            yield server.url
        finally:
            override.disable()


@pytest.fixture(autouse=True)
def _fake_ai_clean(fake_ai: FakeAIServer) -> Iterator[None]:
    fake_ai.reset()
    yield
    fake_ai.reset()
    fake_ai.configure(latency=(0.0, 0.0), fail_rate=0.0)


@pytest.fixture(scope="module")
def celery_worker(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    """A real Celery worker process consuming this run's queue against the test database.
    Module-scoped, so fault tests can run workers of their own with none of these around."""
    celery_app.control.purge()
    worker = start_worker(test_process_env(), log_dir=tmp_path_factory.mktemp("worker"))
    yield worker
    worker.stop()
    celery_app.control.purge()


@pytest.fixture(scope="session")
def api_web_origin() -> str:
    """The browser origin the API trusts for CSRF; the e2e tests override it with the web app's."""
    return "http://127.0.0.1:3000"


@pytest.fixture(scope="session")
def api_extra_env() -> dict[str, str]:
    """More environment for the API server; the e2e tests add the mail outbox."""
    return {}


@pytest.fixture(scope="session")
def api_server(
    django_db_setup: None,
    api_web_origin: str,
    api_extra_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The API served by gunicorn (as in production) on a free port; yields its base URL."""
    port = free_port()
    env = test_process_env() | {
        "WEB_ORIGIN": api_web_origin,
        "CSRF_TRUSTED_ORIGINS": api_web_origin,
        **api_extra_env,
    }
    server = start_gunicorn(env, port=port, log_dir=tmp_path_factory.mktemp("gunicorn"))
    yield f"http://127.0.0.1:{port}"
    server.stop()
