"""Lighthouse on the web app as a logged-in person meets it: the stack started as `make run` starts
it (gunicorn, a Celery worker, the built Next.js app under `frontend/server.mjs`) on free ports
against a `taskscore_bench` database, an org with scored tasks, then Lighthouse (npm
`lighthouse`, Debian's chromium) on each page with the session cookie. Prints one JSON line: the
lowest performance, accessibility and best-practices scores (0–100) over the pages, and each
page's own.

    make lighthouse     # tasks, a task, members and billing; mobile emulation (the default)
    LIGHTHOUSE_PRESET=desktop make lighthouse
    LIGHTHOUSE_RUNS=3 LIGHTHOUSE_PAGES=tasks,reference make lighthouse

Options (environment):
- `LIGHTHOUSE_PRESET`: `mobile` (default) or `desktop`.
- `LIGHTHOUSE_PAGES`: which pages, comma-separated, of tasks, task, members, billing and
  reference (default: all five).
- `LIGHTHOUSE_RUNS`: how many runs (default 1), each in a new chromium against the same stack;
  each page's figures are then the median of its runs (`performance_runs`: every run's score).
- `LIGHTHOUSE_CACHE`: `warm` (default) empties the browser's cache and opens the reference page
  before each page, so every page finds the framework's and the shared components' scripts
  cached, as a person does who has just logged in or opened another page of the app, and loads
  only its own; `cold` empties it before each page, so every page is measured as a first visit
  (Lighthouse's own default); `shared` keeps one cache across the pages of a run (the behaviour
  before 2026-12-02, under which the first page measured, the tasks page, loaded ~225 KB of
  scripts and each later page ~10 KB, the rest coming from the cache).
- `LIGHTHOUSE_BASELINE`: a directory holding another build of the web app (a copy of `frontend/`
  with its `.next`, e.g. the last commit's). It is served too, by a second web app on the same
  API, database and session, and each run measures both builds' pages, the two taking turns at
  going first: a before/after comparison under the same machine state. Its figures are under
  `baseline`.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from common import ROOT, bench_env, django_setup, emit, fake_ai_env, wait_until

from taskscore.testing.processes import (
    Process,
    free_port,
    spawn,
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
PAGES = ("tasks", "task", "members", "billing", "reference")
WARMUP_PATH = "/password/forgot"  # LIGHTHOUSE_CACHE=warm: opened before each page
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
        "cache": os.environ.get("LIGHTHOUSE_CACHE", "warm"),
        "warmupPath": WARMUP_PATH,
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


def options() -> tuple[list[str], int]:
    """The pages to measure and how many runs, from LIGHTHOUSE_PAGES and LIGHTHOUSE_RUNS."""
    pages = [p.strip() for p in os.environ.get("LIGHTHOUSE_PAGES", ",".join(PAGES)).split(",")]
    unknown = sorted(set(pages) - set(PAGES))
    if unknown or not pages:
        sys.exit(f"LIGHTHOUSE_PAGES: unknown page(s) {unknown}; choose from {', '.join(PAGES)}")
    if os.environ.get("LIGHTHOUSE_CACHE", "warm") not in ("cold", "warm", "shared"):
        sys.exit("LIGHTHOUSE_CACHE is cold, warm or shared")
    runs = int(os.environ.get("LIGHTHOUSE_RUNS", "1"))
    if runs < 1:
        sys.exit("LIGHTHOUSE_RUNS must be at least 1")
    return pages, runs


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One page's figures over its runs: each category's median score, every run's performance
    score, the median total blocking time and largest contentful paint (ms), and the median main
    thread CPU time and the blocking time computed from it (scripts/lighthouse.mjs)."""
    figures: dict[str, Any] = {
        name: round(statistics.median(r["scores"][name] for r in results)) for name in CATEGORIES
    }
    figures["performance_runs"] = [r["scores"]["performance"] for r in results]
    for key, metric in (("tbt_ms", "total-blocking-time"), ("lcp_ms", "largest-contentful-paint")):
        figures[key] = round(statistics.median(r["numeric"][metric] for r in results))
    # Thread (CPU) time, steadier than the wall-clock figures on a machine shared with other work.
    figures["cpu_ms"] = round(statistics.median(r["cpuMs"] for r in results))
    figures["blocking_cpu_ms"] = round(statistics.median(r["blockingCpuMs"] for r in results))
    return figures


def start_baseline(
    env: dict[str, str], *, directory: Path, port: int, api: str, log_dir: Path
) -> Process:
    """The web app built in `directory` (LIGHTHOUSE_BASELINE), served as start_web_app serves
    frontend/."""
    if not (directory / ".next" / "BUILD_ID").exists():
        sys.exit(f"LIGHTHOUSE_BASELINE: {directory} holds no build (.next/BUILD_ID)")
    server = spawn(
        "next-baseline",
        [shutil.which("node") or "node", "server.mjs", "-H", "127.0.0.1", "-p", str(port)],
        env=env | {"DJANGO_ORIGIN": api, "NEXT_TELEMETRY_DISABLED": "1"},
        log_dir=log_dir,
        cwd=directory,
    )
    server.wait_for_port(port, timeout=60)
    return server


def main() -> None:
    if not (FRONTEND / ".next" / "BUILD_ID").exists():
        sys.exit("The web app is not built: run `make build`.")
    if not Path(CHROMIUM).exists():
        sys.exit(f"No chromium at {CHROMIUM}: run `make browser` or set CHROMIUM_PATH.")
    selected, runs = options()
    baseline_dir = os.environ.get("LIGHTHOUSE_BASELINE")
    builds = ["current", "baseline"] if baseline_dir else ["current"]
    scratch = Path(tempfile.mkdtemp(prefix="lighthouse-"))
    ai_port, api_port, web_port, baseline_port = free_port(), free_port(), free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    webs = {
        "current": f"http://127.0.0.1:{web_port}",
        "baseline": f"http://127.0.0.1:{baseline_port}",
    }
    env = bench_env(
        "lighthouse",
        **fake_ai_env(ai_port, timeout_s=30),
        AI_API_KEY="fake",
        WEB_ORIGIN=webs["current"],
        CSRF_TRUSTED_ORIGINS=",".join(webs[build] for build in builds),
        RATE_LIMITS_ENABLED="false",
    )
    django_setup(env)
    processes: list[Process] = [start_fake_ai(port=ai_port, log_dir=scratch)]
    by_page: dict[str, dict[str, list[dict[str, Any]]]] = {
        build: {name: [] for name in selected} for build in builds
    }
    try:
        processes.append(start_gunicorn(env, port=api_port, log_dir=scratch))
        processes.append(start_worker(env, log_dir=scratch))
        processes.append(start_web_app(env, port=web_port, django_origin=api, log_dir=scratch))
        if baseline_dir:
            processes.append(
                start_baseline(
                    env, directory=Path(baseline_dir), port=baseline_port, api=api, log_dir=scratch
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
        # Cookies belong to a host, not a port: the one session serves both builds.
        cookies = log_in(webs["current"], email)
        urls = {
            build: {
                "tasks": f"{webs[build]}/orgs/{slug}/tasks",
                "task": f"{webs[build]}/orgs/{slug}/tasks/{task_id}",
                "members": f"{webs[build]}/orgs/{slug}/members",
                "billing": f"{webs[build]}/orgs/{slug}/billing",
                # The same Lighthouse on a page with no data and little code: what this machine
                # and the framework alone score, so the app's pages can be read against it.
                "reference": f"{webs[build]}/password/forgot",
            }
            for build in builds
        }
        jar = {c["name"]: c["value"] for c in cookies}
        for build in builds:  # warm Next's server and Django's connections once
            for url in urls[build].values():
                requests.get(url, cookies=jar, timeout=30).raise_for_status()
        time.sleep(1)
        for run in range(runs):
            run_dir = scratch / f"run-{run + 1}"
            run_dir.mkdir()
            order = builds if run % 2 == 0 else builds[::-1]  # each build goes first in turn
            by_url = lighthouse(
                [urls[build][name] for build in order for name in selected], cookies, run_dir
            )
            for build in builds:
                for name in selected:
                    by_page[build][name].append(by_url[urls[build][name]])
    finally:
        for process in reversed(processes):
            process.stop()
    figures = figures_of(by_page["current"])
    figures["preset"] = os.environ.get("LIGHTHOUSE_PRESET", "mobile")
    figures["cache"] = os.environ.get("LIGHTHOUSE_CACHE", "warm")
    figures["runs"] = runs
    if baseline_dir:
        figures["baseline"] = figures_of(by_page["baseline"]) | {"directory": baseline_dir}
    emit(figures)


def figures_of(by_page: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The lowest of each category over the app's pages (not the reference), and each page's."""
    pages = {name: summary(results) for name, results in by_page.items() if name != "reference"}
    figures: dict[str, Any] = {
        key: min(scores[name] for scores in pages.values()) if pages else None
        for name, key in CATEGORIES.items()
    }
    figures["pages"] = pages
    if "reference" in by_page:
        figures["reference_page"] = summary(by_page["reference"])
    return figures


if __name__ == "__main__":
    main()
