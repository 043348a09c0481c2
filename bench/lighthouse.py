"""Lighthouse on the web app as a logged-in person meets it: the stack started as `make run` starts
it (gunicorn, a Celery worker, the built Next.js app under `frontend/server.mjs`) on free ports
against a `taskscore_bench` database, an org with scored tasks, then Lighthouse (npm
`lighthouse`, Debian's chromium) on each page with the session cookie. Prints one JSON line: the
lowest performance, accessibility and best-practices scores (0–100) over the pages, and each
page's own.

    make lighthouse     # tasks, a task, members and billing; mobile emulation (the default)
    LIGHTHOUSE_PRESET=desktop make lighthouse
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from common import ROOT, bench_env, django_setup, emit, wait_until

from taskscore.testing.processes import (
    free_port,
    start_fake_ai,
    start_gunicorn,
    start_web_app,
    start_worker,
)

FRONTEND = ROOT / "frontend"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CATEGORIES = {
    "performance": "performance",
    "accessibility": "accessibility",
    "best-practices": "best_practices",
}
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)
PASSWORD = "a-long-lighthouse-password"  # noqa: S105 - a throwaway account in the bench database
TASKS = 30


def seed() -> tuple[str, str, str]:
    """A verified owner, an org of their own and TASKS tasks (new ones each run: the bench
    database keeps earlier runs); returns the owner's email, the org's slug and one task's id."""
    from taskscore.accounts.services import user_create
    from taskscore.scoring.services import org_open
    from taskscore.tasks.services import TaskInput, tasks_submit_batch

    run = uuid.uuid4().hex[:8]
    email = f"lighthouse-{run}@example.test"
    owner = user_create(email=email, password=PASSWORD, is_email_verified=True)
    org = org_open(name=f"Lighthouse {run}", owner=owner)
    items = [
        TaskInput(
            title=f"Task {n}: export reports for finance",
            description="Goal: finance downloads the monthly report as CSV. Done when it does.",
            attributes={
                "reach": float(10 * n),
                "impact": float(n % 10),
                "confidence": 80.0,
                "effort": float(1 + n % 9),
            },
        )
        for n in range(TASKS)
    ]
    tasks = tasks_submit_batch(org_id=org.pk, items=items, user_id=owner.pk, api_key_id=None)
    return email, org.slug, str(tasks[0].pk)


def log_in(web: str, email: str) -> list[dict[str, str]]:
    """The cookies of a logged-in browser session, obtained as the web app logs in."""
    session = requests.Session()
    session.get(f"{web}/api/v2/auth/csrf", timeout=10).raise_for_status()
    token = session.cookies["csrftoken"]
    response = session.post(
        f"{web}/_allauth/browser/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"X-CSRFToken": token, "Referer": f"{web}/login", "Origin": web},
        timeout=10,
    )
    response.raise_for_status()
    cookies = [{"name": c.name, "value": c.value, "url": web} for c in session.cookies]
    # What the browser remembers after its first page (frontend: useRememberTimeZone).
    return [*cookies, {"name": "ts_tz", "value": "UTC", "url": web}]


def lighthouse(urls: list[str], cookies: list[dict[str, str]], scratch: Path) -> dict[str, Any]:
    """Lighthouse on each URL in one chromium holding the session (scripts/lighthouse.mjs)."""
    options = {
        "urls": urls,
        "cookies": cookies,
        "chromePath": CHROMIUM,
        "preset": os.environ.get("LIGHTHOUSE_PRESET", "mobile"),
        "outputDir": str(scratch),
    }
    env = dict(os.environ, TMPDIR=str(scratch), HOME=str(scratch))
    done = subprocess.run(
        [shutil.which("node") or "node", "scripts/lighthouse.mjs", json.dumps(options)],
        cwd=FRONTEND, env=env, check=True, timeout=600, capture_output=True, text=True,
    )  # fmt: skip
    results: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    for url, result in results.items():
        print(f"{url}: {result}", file=sys.stderr)
        if result["finalUrl"] != url:
            sys.exit(f"{url} ended at {result['finalUrl']}: the session did not hold")
    return results


def main() -> None:
    if not (FRONTEND / ".next" / "BUILD_ID").exists():
        sys.exit("The web app is not built: run `make build`.")
    if not Path(CHROMIUM).exists():
        sys.exit(f"No chromium at {CHROMIUM}: run `make browser` or set CHROMIUM_PATH.")
    scratch = Path(tempfile.mkdtemp(prefix="lighthouse-"))
    ai_port, api_port, web_port = free_port(), free_port(), free_port()
    web = f"http://127.0.0.1:{web_port}"
    env = bench_env(
        "lighthouse",
        AI_PROVIDER="openai",
        AI_BASE_URL=f"http://127.0.0.1:{ai_port}/v1",
        AI_API_KEY="fake",
        AI_MODEL="fake-model",
        WEB_ORIGIN=web,
        CSRF_TRUSTED_ORIGINS=web,
        RATE_LIMITS_ENABLED="false",
    )
    django_setup(env)
    processes = [start_fake_ai(port=ai_port, log_dir=scratch)]
    try:
        processes.append(start_gunicorn(env, port=api_port, log_dir=scratch))
        processes.append(start_worker(env, log_dir=scratch))
        processes.append(
            start_web_app(
                env, port=web_port, django_origin=f"http://127.0.0.1:{api_port}", log_dir=scratch
            )
        )

        email, slug, task_id = seed()
        from taskscore.tasks.models import Task

        wait_until(
            lambda: (
                not Task.objects.filter(org__slug=slug, status__in=["queued", "scoring"]).exists()
            ),
            timeout=60,
        )
        cookies = log_in(web, email)
        pages = {
            "tasks": f"{web}/orgs/{slug}/tasks",
            "task": f"{web}/orgs/{slug}/tasks/{task_id}",
            "members": f"{web}/orgs/{slug}/members",
            "billing": f"{web}/orgs/{slug}/billing",
        }
        jar = {c["name"]: c["value"] for c in cookies}
        for url in pages.values():  # warm Next's server and Django's connections once
            requests.get(url, cookies=jar, timeout=30).raise_for_status()
        time.sleep(1)
        # The same Lighthouse on a page with no data and little code: what this machine and the
        # framework alone score, so the app's pages can be read against it.
        reference = f"{web}/password/forgot"
        by_url = lighthouse([*pages.values(), reference], cookies, scratch)
        results = {name: by_url[url]["scores"] for name, url in pages.items()}
    finally:
        for process in reversed(processes):
            process.stop()
    figures: dict[str, object] = {
        name.replace("-", "_"): min(scores[name] for scores in results.values())
        for name in CATEGORIES
    }
    figures["preset"] = os.environ.get("LIGHTHOUSE_PRESET", "mobile")
    figures["pages"] = results
    figures["reference_page"] = by_url[reference]["scores"]
    emit(figures)


if __name__ == "__main__":
    main()
