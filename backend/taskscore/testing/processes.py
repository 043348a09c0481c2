"""Real processes for tests and benchmarks: Celery workers, gunicorn, beat, the built web app, a
private Redis, the fake AI server, the offline Stripe stand-in. Each is a subprocess with its own
log file; `stop()` terminates, `kill()` sends SIGKILL (to test what survives a crash)."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from taskscore.testing.log_scan import run_dir

BACKEND_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    _log: object = field(repr=False, default=None)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def is_running(self) -> bool:
        return self.popen.poll() is None

    def wait_for_log(self, marker: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.log():
            if not self.is_running() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not log {marker!r}:\n{self.log()[-3000:]}")
            time.sleep(0.05)

    def wait_for_port(self, port: int, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not port_is_open(port):
            if not self.is_running() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not listen on {port}:\n{self.log()[-3000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the process group: no cleanup, no acknowledgements (a crashed host)."""
        if self.is_running():
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def stop(self, timeout: float = 15) -> None:
        if self.is_running():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


_spawned = itertools.count(1)


def spawn(
    name: str, args: list[str], *, env: dict[str, str], log_dir: Path, cwd: Path = BACKEND_DIR
) -> Process:
    """Start `args` with its output (stdout and stderr) in a log file: in `log_dir`, or during a
    test run in the run's directory, where the secrets scan reads it (taskscore.testing.log_scan;
    `log_dir` then holds only what the process keeps besides)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    test_run = run_dir()
    if test_run is not None:
        log_path = test_run / f"{name}-{os.getpid()}-{next(_spawned)}.log"
    else:
        log_path = log_dir / f"{name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - owned by the child for its lifetime
    popen = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    log.close()  # the child holds its own descriptor
    return Process(name=name, popen=popen, log_path=log_path)


def start_worker(
    env: dict[str, str],
    *,
    log_dir: Path,
    name: str = "worker",
    concurrency: int = 8,
    queue: str | None = None,
) -> Process:
    """A Celery worker (threads pool) consuming `queue` (default: the settings' queue)."""
    args = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "threads",
            "-c", str(concurrency), "-l", "info", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "-n", f"{name}-{time.monotonic_ns()}@%h"]  # fmt: skip
    if queue:
        args += ["-Q", queue]
    worker = spawn(name, args, env=env, log_dir=log_dir)
    worker.wait_for_log(" ready.", timeout=60)
    return worker


def start_gunicorn(env: dict[str, str], *, port: int, log_dir: Path, workers: int = 2) -> Process:
    env = env | {"API_HOST": "127.0.0.1", "API_PORT": str(port), "WEB_WORKERS": str(workers)}
    server = spawn(
        "gunicorn",
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        env=env,
        log_dir=log_dir,
    )
    server.wait_for_port(port, timeout=30)
    return server


def start_web_app(
    env: dict[str, str], *, port: int, django_origin: str, log_dir: Path, name: str = "next"
) -> Process:
    """The built Next.js app as `make run` serves it (frontend/server.mjs: `next start` that sets
    the client's address), forwarding /api and /_allauth to `django_origin`."""
    frontend = BACKEND_DIR.parent / "frontend"
    if not (frontend / ".next" / "BUILD_ID").exists():
        raise RuntimeError("The web app is not built: run `make build`.")
    server = spawn(
        name,
        [shutil.which("node") or "node", "server.mjs", "-H", "127.0.0.1", "-p", str(port)],
        env=env | {"DJANGO_ORIGIN": django_origin, "NEXT_TELEMETRY_DISABLED": "1"},
        log_dir=log_dir,
        cwd=frontend,
    )
    server.wait_for_port(port, timeout=60)
    return server


def start_redis(*, port: int, log_dir: Path) -> Process:
    """A throwaway redis-server that keeps nothing on disk: a restart loses every message."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    server = spawn(
        f"redis-{port}",
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(log_dir)],
        env=dict(os.environ),
        log_dir=log_dir,
    )  # fmt: skip
    server.wait_for_port(port, timeout=10)
    return server


def start_fake_ai(
    *, port: int, log_dir: Path, latency: str = "0:0", fail_rate: float = 0.0, seed: int = 1
) -> Process:
    server = spawn(
        "fake-ai",
        [sys.executable, "-m", "taskscore.testing.fake_ai", "--host", "127.0.0.1",
         "--port", str(port), "--latency", latency, "--fail-rate", str(fail_rate),
         "--seed", str(seed)],
        env=dict(os.environ, PYTHONPATH=str(BACKEND_DIR)),
        log_dir=log_dir,
    )  # fmt: skip
    server.wait_for_port(port, timeout=15)
    return server


def start_beat(env: dict[str, str], *, log_dir: Path) -> Process:
    """Celery beat with the project's schedule (the sweeper, purges), its state in `log_dir`."""
    beat = spawn(
        "beat",
        [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info",
         "-s", str(log_dir / "celerybeat-schedule")],
        env=env,
        log_dir=log_dir,
    )  # fmt: skip
    beat.wait_for_log("beat: Starting", timeout=60)
    return beat


def start_stripe_standin(
    *,
    port: int,
    log_dir: Path,
    webhook_url: str = "",
    webhook_secret: str = "whsec_standin_test",  # noqa: S107 - a test secret
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Process:
    """The offline Stripe stand-in (`taskscore.testing.stripe_standin`) on loopback, its webhook
    endpoint `webhook_url` ("" for none) signed with `webhook_secret`."""
    server = spawn(
        f"stripe-standin-{port}",
        [sys.executable, "-m", "taskscore.testing.stripe_standin", "--port", str(port),
         "--webhook-url", webhook_url, "--webhook-secret", webhook_secret, *extra_args],
        env=dict(env if env is not None else os.environ, PYTHONPATH=str(BACKEND_DIR)),
        log_dir=log_dir,
    )  # fmt: skip
    server.wait_for_port(port, timeout=20)
    return server
