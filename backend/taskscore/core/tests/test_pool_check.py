"""The pool's check of a connection it lends (taskscore.core.postgres), on the real Postgres:
an open connection passes without a query, one whose server side has gone is refused, and the
pool then lends a working one."""

from __future__ import annotations

import select
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection
from psycopg_pool import ConnectionPool

from taskscore.core.postgres import connection_alive

pytestmark = pytest.mark.django_db


def _params() -> dict[str, Any]:
    return connection.get_connection_params() | {"autocommit": True}


@pytest.fixture
def admin() -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(**_params()) as conn:
        yield conn


def _terminated(conn: psycopg.Connection[Any], admin: psycopg.Connection[Any]) -> None:
    """The server ends `conn`'s backend; returns once its goodbye has reached the socket."""
    admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
    poller = select.poll()
    poller.register(conn.pgconn.socket, select.POLLIN)
    assert poller.poll(5000), "the server's goodbye did not arrive"


def _last_query(admin: psycopg.Connection[Any], pid: int) -> str:
    row = admin.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    assert row is not None
    return str(row[0])


def test_an_open_connection_passes_without_a_query(admin: psycopg.Connection[Any]) -> None:
    with psycopg.connect(**_params()) as conn:
        marker = f"SELECT 'marker {uuid.uuid4()}'"
        conn.execute(marker)
        connection_alive(conn)
        connection_alive(conn)
        assert _last_query(admin, conn.info.backend_pid) == marker  # nothing sent since
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_connection_the_server_ended_is_refused(admin: psycopg.Connection[Any]) -> None:
    conn = psycopg.connect(**_params())
    try:
        _terminated(conn, admin)
        with pytest.raises(psycopg.OperationalError):
            connection_alive(conn)
        assert conn.closed  # so that the pool discards it
    finally:
        conn.close()


def test_the_pool_lends_a_working_connection_after_the_server_ended_its_idle_one(
    admin: psycopg.Connection[Any],
) -> None:
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        kwargs=_params(), min_size=1, max_size=1, check=connection_alive, open=True
    )
    try:
        with pool.connection() as conn:
            first = conn.info.backend_pid
        with pool.connection() as conn:  # kept idle in the pool, lent again
            assert conn.info.backend_pid == first
            idle = conn
        _terminated(idle, admin)
        with pool.connection(timeout=10) as conn:
            assert conn.info.backend_pid != first
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        pool.close()


def test_djangos_pool_checks_with_it() -> None:
    pool = connection.pool  # type: ignore[attr-defined]  # the Postgres backend's
    if pool is None:
        pytest.skip("this run's settings pool no connections (DATABASE_POOL_MAX_SIZE=0)")
    assert pool._check is connection_alive
