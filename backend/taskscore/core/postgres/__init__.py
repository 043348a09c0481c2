"""Django's Postgres backend (`ENGINE`, config/db_url.py), with the pool's check of a connection
it is about to lend made without a round trip (`base.py`, `connection_alive`).

With `CONN_HEALTH_CHECKS`, Django's pool (psycopg_pool) sends an empty query on every checkout:
a round trip to Postgres before each API request's first query, and twice in each scoring job
(which gives its connection back while it waits on the AI). Here the check looks at the idle
connection's socket instead: a connection the server closed (a restart, `pg_terminate_backend`,
an idle timeout) has its goodbye (an error message, then the end of the stream) waiting to be
read there; one still open has nothing. A connection with anything waiting is refused, so the
pool discards it and lends another (a new one if need be). What it cannot
see, as the empty query could not until TCP gave up, is a peer gone silently (a cut cable):
the first query then fails as it would have. Without a pool (`DATABASE_POOL_MAX_SIZE=0`),
Django's own health check of a persistent connection is unchanged."""

from __future__ import annotations

import select
from typing import Any

import psycopg
from psycopg.pq import ConnStatus


def connection_alive(conn: psycopg.Connection[Any]) -> None:
    """psycopg_pool's `check`: return if `conn` is still open, raise if it may not be."""
    pgconn = conn.pgconn
    if conn.closed or pgconn.status != ConnStatus.OK:
        raise psycopg.OperationalError("the connection is closed")
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        # An idle connection of this app (which LISTENs to nothing) is sent nothing but the
        # server's goodbye, whose last part (the end of the stream) may still be on its way.
        # Closed here: the pool keeps a connection given back open, and discards a closed one.
        conn.close()
        raise psycopg.OperationalError("the server sent an idle connection something: its end")
