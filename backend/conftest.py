"""Fixtures shared by every test: the cast (alice, bob, carol, mallory), API clients, and real
processes (a Celery worker, the gunicorn-served API) running against the test database; and the
scan of the run's logs for secrets when the session ends (taskscore.testing.log_scan)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
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
from taskscore.testing.log_scan import RUN_DIR_ENV, run_dir, scan_run, secret_register
from taskscore.testing.processes import (
    BACKEND_DIR,
    Process,
    free_port,
    start_gunicorn,
    start_worker,
)

PASSWORD = "correct-horse-battery-staple"


# ---------------------------------------------------------------------------------- the log scan
# The run's directory (created by the first process, xdist's controller included, and inherited by
# its workers and every process they start) collects every log of the run and the secrets it used;
# when the session ends, a secret found in any log fails the run, naming the file and the line.


class _RunLogHandler(logging.FileHandler):
    """The test process's own log records, as the production handler writes them."""


def _is_xdist_worker() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


def pytest_configure(config: pytest.Config) -> None:
    if not _is_xdist_worker():
        os.environ[RUN_DIR_ENV] = tempfile.mkdtemp(prefix="taskscore-test-run-")
    directory = run_dir()
    assert directory is not None
    root = logging.getLogger()
    console = next((h for h in root.handlers if h.get_name() == "console"), None)
    assert console is not None, "settings.LOGGING's console handler is not installed"
    handler = _RunLogHandler(
        directory / f"pytest-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log", delay=True
    )
    handler.setFormatter(console.formatter)
    for log_filter in console.filters:
        handler.addFilter(log_filter)
    root.addHandler(handler)
    secret_register("password", PASSWORD)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any log of it holds a secret (after every worker finished)."""
    directory = run_dir()
    if directory is None:
        return
    if not any(isinstance(h, _RunLogHandler) for h in logging.getLogger().handlers):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        _report(
            session,
            "the test process's log handler was removed during the run (logging reconfigured?): "
            f"its later lines went unchecked. Logs: {directory}",
        )
        return
    if _is_xdist_worker():
        return
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _RunLogHandler):
            handler.flush()
    findings = scan_run(directory)
    if not findings:
        if os.environ.get("TEST_KEEP_LOGS"):
            _report(
                session, f"no secret in this run's logs (kept in {directory})", is_failure=False
            )
        else:
            shutil.rmtree(directory, ignore_errors=True)
        return
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    lines = "\n".join(f"  {finding}" for finding in findings[:50])
    more = f"\n  … and {len(findings) - 50} more" if len(findings) > 50 else ""
    _report(
        session,
        f"{len(findings)} secret(s) in this run's logs (kept in {directory}):\n{lines}{more}",
    )


def _report(session: pytest.Session, text: str, *, is_failure: bool = True) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")
        reporter.write_sep("=", "secrets in the logs scan", red=is_failure, green=not is_failure)
        reporter.write_line(f"SECRETS SCAN: {text}")
    else:
        print(f"SECRETS SCAN: {text}")


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
    created = api_key_create(org=org, name="ci", role_key="owner", caller=OPERATOR)
    secret_register("API key token", created.token)
    return created


@pytest.fixture
def other_org_key(other_org: Organization) -> CreatedKey:
    org_plan_grant(other_org, "pro")
    created = api_key_create(org=other_org, name="ci", role_key="owner", caller=OPERATOR)
    secret_register("API key token", created.token)
    return created


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


@dataclass(frozen=True)
class ApiService:
    url: str
    process: Process  # its log: process.log()


@pytest.fixture(scope="session")
def api_service(
    django_db_setup: None,
    api_web_origin: str,
    api_extra_env: dict[str, str],
    fake_stripe_api: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ApiService]:
    """The API served by gunicorn (as in production) on a free port. Its Stripe is the session's
    fake, named here: the settings at the moment it starts may be a module's own fake (made by
    whichever test asks first), which is gone by the time later modules use this server."""
    extra = {"STRIPE_API_BASE": fake_stripe_api, **api_extra_env}
    yield from api_service_run(api_web_origin, extra, tmp_path_factory)


def api_service_run(
    api_web_origin: str, api_extra_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiService]:
    """Starts gunicorn for `api_service` (and the e2e tests' own, configured for the web app),
    yields it, and stops it."""
    port = free_port()
    env = test_process_env() | {
        "WEB_ORIGIN": api_web_origin,
        "CSRF_TRUSTED_ORIGINS": api_web_origin,
        **api_extra_env,
    }
    server = start_gunicorn(env, port=port, log_dir=tmp_path_factory.mktemp("gunicorn"))
    yield ApiService(url=f"http://127.0.0.1:{port}", process=server)
    server.stop()


@pytest.fixture(scope="session")
def api_server(api_service: ApiService) -> str:
    """The base URL of the API served by gunicorn (`api_service`)."""
    return api_service.url
