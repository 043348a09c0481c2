"""Database connection habits shared by the jobs."""

from __future__ import annotations

from django.db import connection


def connection_release() -> None:
    """Give this thread's connection back to the pool (or close it) before waiting on the
    network, so that a worker's many threads waiting on the AI hold no connection between them.
    A no-op inside a transaction (a caller's, or a test's), which still needs it; the next query
    checks a connection out again."""
    if not connection.in_atomic_block:
        connection.close()
