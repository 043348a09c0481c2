"""gunicorn settings, read from the environment (see README "Configuration")."""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from taskscore.core.logs import logging_config

bind = f"{os.environ.get('API_HOST', '127.0.0.1')}:{os.environ.get('API_PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "1"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
# gunicorn's own lines (starting, workers booted or killed) as the app's: LOG_FORMAT, LOG_LEVEL.
logconfig_dict = logging_config(
    log_format=os.environ.get("LOG_FORMAT", "json"), level=os.environ.get("LOG_LEVEL", "INFO")
)
# Each request has its access line from Django (taskscore.request: method, path, status,
# duration, request id); WEB_ACCESS_LOG=1 adds gunicorn's own (client address, user agent), in
# the same format.
if os.environ.get("WEB_ACCESS_LOG", "") not in ("", "0"):
    logconfig_dict["loggers"]["gunicorn.access"]["level"] = "INFO"
control_socket_disable = True

# Metrics (taskscore.core.metrics): each worker writes its counters to files in
# PROMETHEUS_MULTIPROC_DIR and `GET /metrics` adds them up (prometheus_client's multiprocess
# mode). prometheus_client reads the variable when first imported, so it is set here, before any
# worker (or a --preload'ed app) imports it: a new directory per start, removed at exit, unless
# the environment names one, which is emptied at start. The owner is recorded as "<pid>:<dir>"
# so that a configuration reload (HUP) or a re-executed master never removes another's.
_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_METRICS_DIR_OWNER = "TASKSCORE_METRICS_DIR_OWNER"
if not os.environ.get(_METRICS_DIR):
    os.environ[_METRICS_DIR] = tempfile.mkdtemp(prefix="taskscore-metrics-")
    os.environ[_METRICS_DIR_OWNER] = f"{os.getpid()}:{os.environ[_METRICS_DIR]}"


def on_starting(server: Any) -> None:
    """Counters of a previous run (a directory the environment named) start again from zero."""
    directory = Path(os.environ[_METRICS_DIR])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker that exited leaves its counters (they still count) but not its live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


# Traces (taskscore.core.tracing), when OTEL_EXPORTER_OTLP_ENDPOINT is set: set up in each worker
# after the fork, before it loads the app (the span exporter's thread must be the worker's own,
# and Django's instrumentation adds its middleware before the handler is built); flushed when the
# worker exits. The app's default settings module, as config/wsgi.py, is chosen here because the
# instrumentation reads the settings before the worker imports config/wsgi.py.
def post_fork(server: Any, worker: Any) -> None:
    from taskscore.core.tracing import WEB_SERVICE, tracing_setup

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    tracing_setup(WEB_SERVICE)


def post_worker_init(worker: Any) -> None:
    """The app is loaded: what it loaded stays out of the garbage collector's full collections
    (a pause in the middle of a request)."""
    from taskscore.core.startup import startup_objects_freeze

    startup_objects_freeze()


def worker_exit(server: Any, worker: Any) -> None:
    from taskscore.core.tracing import tracing_shutdown

    tracing_shutdown()


def on_exit(server: Any) -> None:
    directory = os.environ.get(_METRICS_DIR, "")
    if os.environ.get(_METRICS_DIR_OWNER) == f"{os.getpid()}:{directory}":
        shutil.rmtree(directory, ignore_errors=True)
