"""Lighthouse on the web app as a logged-in person meets it: the stack started as `make run` starts
it (gunicorn, a Celery worker, the built Next.js app under `next start`) on free ports against a
`taskscore_bench` database, an org with scored tasks, then Lighthouse (npm `lighthouse`, Debian's
chromium) on each page with the session cookie. Prints one JSON line: the lowest performance,
accessibility and best-practices scores (0–100) over the pages, and each page's own.

    make lighthouse     # the tasks page and a task page, mobile emulation (Lighthouse's default)
    LIGHTHOUSE_PRESET=desktop make lighthouse
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from common import ROOT, bench_env, django_setup, emit, wait_until

from taskscore.testing.processes import (
    free_port,
    spawn,
    start_fake_ai,
    start_gunicorn,
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
EMAIL = "lighthouse@example.test"
PASSWORD = "a-long-lighthouse-password"  # noqa: S105 - a throwaway account in the bench database
TASKS = 30


def seed(slug: str) -> str:
    """A verified owner, an org and TASKS tasks; returns one task's id."""
    from taskscore.accounts.models import User
    from taskscore.accounts.services import user_create
    from taskscore.orgs.models import Organization
    from taskscore.orgs.services import org_create
    from taskscore.tasks.services import TaskInput, tasks_submit_batch

    Organization.objects.filter(slug=slug).delete()
    User.objects.filter(email=EMAIL).delete()
    owner = user_create(email=EMAIL, password=PASSWORD, is_email_verified=True)
    org = org_create(name="Lighthouse", owner=owner)
    assert org.slug == slug, org.slug
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
    return str(tasks[0].pk)


def log_in(web: str) -> str:
    """The Cookie header of a logged-in browser session, obtained as the web app logs in."""
    session = requests.Session()
    session.get(f"{web}/api/v2/auth/csrf", timeout=10).raise_for_status()
    token = session.cookies["csrftoken"]
    response = session.post(
        f"{web}/_allauth/browser/v1/auth/login",
        json={"email": EMAIL, "password": PASSWORD},
        headers={"X-CSRFToken": token, "Referer": f"{web}/login", "Origin": web},
        timeout=10,
    )
    response.raise_for_status()
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def lighthouse(url: str, cookie: str, scratch: Path) -> dict[str, float]:
    output = scratch / "report.json"
    args = [
        str(FRONTEND / "node_modules/.bin/lighthouse"), url,
        "--quiet", "--output=json", f"--output-path={output}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
        f"--extra-headers={json.dumps({'Cookie': cookie})}",
    ]  # fmt: skip
    if os.environ.get("LIGHTHOUSE_PRESET"):
        args.append(f"--preset={os.environ['LIGHTHOUSE_PRESET']}")
    env = dict(os.environ, CHROME_PATH=CHROMIUM, TMPDIR=str(scratch), HOME=str(scratch))
    subprocess.run(args, env=env, check=True, timeout=180)
    report = json.loads(output.read_text())
    scores = {
        name: round(100 * report["categories"][key]["score"]) for key, name in CATEGORIES.items()
    }
    failed = [
        audit["id"]
        for audit in report["audits"].values()
        if audit.get("score") is not None
        and audit["score"] < 0.9
        and audit.get("scoreDisplayMode") == "binary"
    ]
    print(f"{url}: {scores} failing audits: {failed}", file=sys.stderr)
    return scores


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
        next_env = dict(
            env, DJANGO_ORIGIN=f"http://127.0.0.1:{api_port}", NEXT_TELEMETRY_DISABLED="1"
        )
        web_server = spawn(
            "next",
            [
                str(FRONTEND / "node_modules/.bin/next"),
                "start",
                "-H",
                "127.0.0.1",
                "-p",
                str(web_port),
            ],
            env=next_env,
            log_dir=scratch,
            cwd=FRONTEND,
        )
        processes.append(web_server)
        web_server.wait_for_port(web_port, timeout=60)

        task_id = seed("lighthouse")
        from taskscore.tasks.models import Task

        wait_until(
            lambda: (
                not Task.objects.filter(
                    org__slug="lighthouse", status__in=["queued", "scoring"]
                ).exists()
            ),
            timeout=60,
        )
        cookie = log_in(web)
        pages = {
            "tasks": f"{web}/orgs/lighthouse/tasks",
            "task": f"{web}/orgs/lighthouse/tasks/{task_id}",
        }
        for url in pages.values():  # warm Next's server and Django's connections once
            requests.get(url, headers={"Cookie": cookie}, timeout=30)
        time.sleep(1)
        results = {name: lighthouse(url, cookie, scratch) for name, url in pages.items()}
    finally:
        for process in reversed(processes):
            process.stop()
    figures: dict[str, object] = {
        name: min(scores[name] for scores in results.values()) for name in CATEGORIES.values()
    }
    figures["preset"] = os.environ.get("LIGHTHOUSE_PRESET", "mobile")
    figures["pages"] = results
    emit(figures)


if __name__ == "__main__":
    main()
