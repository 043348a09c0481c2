"""The built Next.js app served by `next start`, proxying to the gunicorn-served API, driven in
Debian's chromium by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from taskscore.testing.processes import BACKEND_DIR, free_port, spawn

# Playwright's sync API keeps an asyncio loop in this thread; Django then refuses ORM calls from
# it as "async context". The tests are plain synchronous code, so the guard does not apply.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

FRONTEND_DIR = BACKEND_DIR.parent / "frontend"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without these, chromium keeps trying to reach Google's services, which this offline machine
# refuses (see MACHINE-NOTES).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def web_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def api_web_origin(web_port: int) -> str:
    """The web app's origin, which the API must trust for CSRF (see api_server)."""
    return f"http://127.0.0.1:{web_port}"


@pytest.fixture(scope="session")
def web_app(
    api_server: str, web_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if not (FRONTEND_DIR / ".next" / "BUILD_ID").exists():
        pytest.fail("The web app is not built: run `make build` (make test does).")
    env = dict(os.environ, DJANGO_ORIGIN=api_server, NEXT_TELEMETRY_DISABLED="1")
    server = spawn(
        "next",
        [
            str(FRONTEND_DIR / "node_modules/.bin/next"),
            "start",
            "-H",
            "127.0.0.1",
            "-p",
            str(web_port),
        ],
        env=env,
        log_dir=tmp_path_factory.mktemp("next"),
        cwd=FRONTEND_DIR,
    )
    server.wait_for_port(web_port, timeout=60)
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


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
