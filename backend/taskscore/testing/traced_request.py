"""Requests through Django's test client in a process of their own, traced as a gunicorn worker
is (`tracing_setup` before Django loads its handler), for tests and measurements: the tracer
provider, the instrumentations and their patches stay out of the process that runs this.

    python -m taskscore.testing.traced_request --path /api/v2/orgs/acme/tasks --request-id r-1 \\
        [--method POST --body '{"title": "t"}'] [--repeat 1000]

The environment chooses the settings, the database and the tracing (`OTEL_EXPORTER_OTLP_ENDPOINT`
and the rest); `TRACED_REQUEST_AUTHORIZATION`, when set, is sent as the `Authorization` header.
Prints one JSON object: the last answer's status and request id, whether tracing is on, the
tracing modules this process imported, its global tracer provider, the libraries instrumented,
and the seconds (wall clock, and this process's CPU) per request, the spans' export included.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

# What tracing imports when on; redis-py imports the OpenTelemetry API and the SDK's metrics by
# itself whenever they are installed (its own observability, off unless initialized).
TRACING_MODULES = (
    "opentelemetry.sdk.trace",
    "opentelemetry.instrumentation",
    "opentelemetry.exporter",
)


def _tracer_provider() -> str | None:
    """The global tracer provider's class, None when the API was never imported."""
    if "opentelemetry.trace" not in sys.modules:
        return None
    from opentelemetry import trace

    return type(trace.get_tracer_provider()).__name__


def _instrumented() -> list[str]:
    """The libraries whose calls are wrapped for tracing (Django: its middleware)."""
    import psycopg
    import redis
    from django.conf import settings

    wrapped = {
        "django": any("opentelemetry" in name for name in settings.MIDDLEWARE),
        "psycopg": hasattr(psycopg.connect, "__wrapped__"),
        "redis": hasattr(redis.Redis.execute_command, "__wrapped__"),
    }
    return [name for name, is_wrapped in wrapped.items() if is_wrapped]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="")
    parser.add_argument("--request-id", default="")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    from taskscore.core.tracing import WEB_SERVICE, tracing_flush, tracing_setup

    is_tracing = tracing_setup(WEB_SERVICE)
    import django

    django.setup()
    from django.test import Client

    headers = {}
    if os.environ.get("TRACED_REQUEST_AUTHORIZATION"):
        headers["authorization"] = os.environ["TRACED_REQUEST_AUTHORIZATION"]
    if args.request_id:
        headers["x-request-id"] = args.request_id
    client = Client(SERVER_NAME="127.0.0.1")
    # One request first: imports, connections and caches warm up outside the timing.
    response = client.generic(
        args.method, args.path, args.body, content_type="application/json", headers=headers
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(args.repeat - 1):
        response = client.generic(
            args.method, args.path, args.body, content_type="application/json", headers=headers
        )
    tracing_flush()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    json.dump(
        {
            "status": response.status_code,
            "request_id": response.get("X-Request-ID"),
            "tracing": is_tracing,
            "tracing_modules": sorted(m for m in sys.modules if m.startswith(TRACING_MODULES)),
            "tracer_provider": _tracer_provider(),
            "instrumented": _instrumented(),
            "seconds_per_request": elapsed / (args.repeat - 1) if args.repeat > 1 else None,
            # this process's CPU (every thread: the exporter's too), less disturbed by others
            "cpu_seconds_per_request": cpu / (args.repeat - 1) if args.repeat > 1 else None,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
