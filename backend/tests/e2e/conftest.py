"""The stack as `make run` starts it — the API under gunicorn, a Celery worker, beat, and the built
Next.js app under its server (`frontend/server.mjs`) — against the test database, with the AI
faked on loopback and mail kept in an outbox directory; driven in Debian's chromium by Playwright.

Screenshots of every page, at desktop and at phone width, are kept in `E2E_ARTIFACTS_DIR`
(default `<repo>/.artifacts/e2e`) for people to look at."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, sync_playwright

from conftest import ApiService, api_service_run, test_process_env
from taskscore.testing.processes import (
    BACKEND_DIR,
    Process,
    free_port,
    start_beat,
    start_stripe_standin,
    start_web_app,
)

# Playwright's sync API keeps an asyncio loop in this thread; Django then refuses ORM calls from
# it as "async context". The tests are plain synchronous code, so the guard does not apply.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

FRONTEND_DIR = BACKEND_DIR.parent / "frontend"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS_DIR = Path(os.environ.get("E2E_ARTIFACTS_DIR", BACKEND_DIR.parent / ".artifacts" / "e2e"))
# Without these, chromium keeps trying to reach Google's services, which this offline machine
# refuses (see docs/testing.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def web_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def api_web_origin(web_port: int) -> str:
    """The web app's origin, which the API must trust for CSRF (see api_server)."""
    return f"http://127.0.0.1:{web_port}"


@pytest.fixture(scope="session")
def api_service(
    django_db_setup: None,
    api_web_origin: str,
    api_extra_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ApiService]:
    """The browser tests' own API server: it trusts the web app's origin, mails to the outbox and
    talks to the Stripe stand-in. Not the one the other tests share (a session fixture is made
    once, by whichever test asks first: with pytest-xdist that may be either kind)."""
    yield from api_service_run(api_web_origin, api_extra_env, tmp_path_factory)


@pytest.fixture(scope="session")
def api_server(api_service: ApiService) -> str:
    return api_service.url


@pytest.fixture(scope="session")
def outbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outbox")


@pytest.fixture(scope="session")
def standin_port() -> int:
    return free_port()


STANDIN_WEBHOOK_SECRET = "whsec_e2e_standin"


@pytest.fixture(scope="session")
def api_extra_env(outbox_dir: Path, standin_port: int) -> dict[str, str]:
    """Mail goes to the outbox and Stripe is the offline stand-in (as under `make run`): the API
    talks to it on `standin_port` once a test starts it (`stripe_standin`)."""
    return {
        "TEST_EMAIL_BACKEND": "taskscore.integrations.mail.outbox.OutboxEmailBackend",
        "TEST_MAIL_OUTBOX_DIR": str(outbox_dir),
        "STRIPE_API_BASE": f"http://127.0.0.1:{standin_port}",
        "STRIPE_WEBHOOK_SECRET": STANDIN_WEBHOOK_SECRET,
    }


@pytest.fixture(scope="session")
def stripe_standin(
    api_server: str, standin_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The offline Stripe stand-in (Checkout, the portal, hosted invoices) as `make run` starts
    it, its signed webhooks registered to the API's endpoint; yields its base URL. Its state is
    kept in memory only, so each run starts with no customers."""
    standin = start_stripe_standin(
        port=standin_port,
        log_dir=tmp_path_factory.mktemp("stripe-standin"),
        webhook_url=f"{api_server}/api/webhooks/stripe",
        webhook_secret=STANDIN_WEBHOOK_SECRET,
        extra_args=("--state-file", ""),
        env=test_process_env(),
    )
    yield f"http://127.0.0.1:{standin_port}"
    standin.stop()


@pytest.fixture(scope="module")
def beat(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """Celery beat, as `make run` runs it: the sweeper recovers tasks whose job was lost."""
    process = start_beat(test_process_env(), log_dir=tmp_path_factory.mktemp("beat"))
    yield process
    process.stop()


@pytest.fixture(scope="session")
def web_app(
    api_server: str, web_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if not (FRONTEND_DIR / ".next" / "BUILD_ID").exists():
        pytest.fail("The web app is not built: run `make build` (make test does).")
    server = start_web_app(
        dict(os.environ),
        port=web_port,
        django_origin=api_server,
        log_dir=tmp_path_factory.mktemp("next"),
    )
    yield f"http://127.0.0.1:{web_port}"
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No chromium at {CHROMIUM}: run `make browser` or set CHROMIUM_PATH.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# How chromium reports, on the console, a script, style or frame the page's policy refused.
CSP_VIOLATION = re.compile(r"Content Security Policy")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context. A journey fails when anything in that context broke
    the web app's Content-Security-Policy (it would not have run for a real visitor)."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    violations: list[str] = []
    context.on(
        "console", lambda m: violations.append(m.text) if CSP_VIOLATION.search(m.text) else None
    )
    page = context.new_page()
    yield page
    context.close()
    assert violations == [], "the Content-Security-Policy refused something the page needs"


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Errors the page logs to its console (a failed request, a React warning)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


Shoot = Callable[[str], None]


@pytest.fixture
def shoot(page: Page, request: pytest.FixtureRequest) -> Shoot:
    """`shoot("tasks-empty")` saves the page as it is now at desktop and at phone width."""
    folder = ARTIFACTS_DIR / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def save(name: str) -> None:
        number = next(counter)
        original = page.viewport_size or DESKTOP
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.wait_for_timeout(150)  # let the layout settle at the new width
            page.screenshot(path=str(folder / f"{number:02d}-{name}-{label}.png"), full_page=True)
        page.set_viewport_size(original)

    return save


def read_outbox(outbox_dir: Path) -> list[dict[str, object]]:
    import json

    return [json.loads(path.read_text()) for path in sorted(outbox_dir.glob("*.json"))]


def tab_to(page: Page, target: Locator, *, limit: int = 150, backwards: bool = False) -> None:
    """Presses Tab (or Shift+Tab) until `target` has the focus, as a keyboard user moves; fails
    if it cannot be reached within `limit` presses (so it is not reachable by keyboard)."""
    key = "Shift+Tab" if backwards else "Tab"
    handle = target.element_handle()
    assert handle is not None, "the target is not on the page"
    for _ in range(limit):
        if page.evaluate("(element) => document.activeElement === element", handle):
            return
        page.keyboard.press(key)
    raise AssertionError(f"could not reach {target} with {key} in {limit} presses")
