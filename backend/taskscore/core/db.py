"""Database connection habits shared by the app and the jobs."""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import NOT_PROVIDED, Model
from psycopg.abc import AdaptContext
from psycopg.adapt import Loader
from psycopg.postgres import types as postgres_types
from psycopg.pq import Format

M = TypeVar("M", bound=Model)

_TIMESTAMPTZ_OID = postgres_types["timestamptz"].oid
# psycopg's own loader: compiled where its binary package is installed (requirements.txt).
_PSYCOPG_TIMESTAMPTZ: type[Loader] = psycopg.adapters.get_loader(  # type: ignore[assignment]
    _TIMESTAMPTZ_OID, Format.TEXT
)


def connection_release() -> None:
    """Give this thread's connection back to the pool (or close it) before waiting on the
    network, so that a worker's many threads waiting on the AI hold no connection between them.
    A no-op inside a transaction (a caller's, or a test's), which still needs it; the next query
    checks a connection out again."""
    db = connections[DEFAULT_DB_ALIAS]  # looked up once (see `fixed_fetch`)
    if not db.in_atomic_block:
        db.close()


class UTCTimestamptzLoader(Loader):
    """`timestamptz` values read by psycopg's own loader, in a session whose time zone is UTC.

    Django registers a loader that subclasses psycopg's pure-Python one, to label every value
    with the connection's time zone; psycopg's compiled loader cannot be subclassed, so every
    timestamp the ORM read was parsed in Python (~9 µs each: 1 ms of a page of 50 tasks' keys).
    In a UTC session psycopg's own loader returns the same values, aware and labelled
    `datetime.timezone.utc`. This one delegates to it."""

    # Django's `create_cursor` compares it with the connection's time zone.
    timezone = dt.UTC

    def __init__(self, oid: int, context: AdaptContext | None = None):
        super().__init__(oid, context)
        # The compiled loader's own method, called directly for each value.
        self.load = _PSYCOPG_TIMESTAMPTZ(oid, context).load  # type: ignore[method-assign]

    def load(self, data: Any) -> dt.datetime:  # replaced on each instance
        raise NotImplementedError


def timestamptz_loader_install(
    sender: type[BaseDatabaseWrapper], connection: BaseDatabaseWrapper, **kwargs: Any
) -> None:
    """`connection_created`: read `timestamptz` with `UTCTimestamptzLoader` on a Postgres
    connection whose session is in UTC (Django's own setting with USE_TZ); any other keeps
    Django's loader. A pooled connection keeps it across checkouts."""
    if connection.vendor != "postgresql" or connection.timezone is not dt.UTC:
        return
    raw = connection.connection
    if raw.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT) is UTCTimestamptzLoader:
        return
    if raw.info.parameter_status("TimeZone") != "UTC":
        return
    raw.adapters.register_loader(_TIMESTAMPTZ_OID, UTCTimestamptzLoader)


@functools.cache
def _model_loading(model: type[Model]) -> tuple[list[str], list[Callable[..., Any] | None]]:
    """The model's concrete fields' names in column order, and each one's `from_db_value`."""
    fields = model._meta.concrete_fields
    return [str(f.attname) for f in fields], [getattr(f, "from_db_value", None) for f in fields]


def model_columns(model: type[Model], *, alias: str = "") -> str:
    """The model's concrete columns, in the order `model_from_row` reads them (`alias.` first)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(
        f"{prefix}{connection.ops.quote_name(str(f.column))}" for f in model._meta.concrete_fields
    )


def model_from_row(model: type[M], row: Sequence[Any]) -> M:
    """An instance from a row of `model_columns(model)` (extra values after them are ignored),
    its fields converted as the ORM converts them (a JSON field's text parsed): what a query
    through the ORM builds, without building the query each time."""
    names, converters = _model_loading(model)
    db = connections[DEFAULT_DB_ALIAS]  # looked up once (see `fixed_fetch`)
    values = [
        value if convert is None or value is None else convert(value, None, db)
        for value, convert in zip(row, converters, strict=False)
    ]
    return model.from_db(DEFAULT_DB_ALIAS, names, values)


@functools.cache
def _insert_plan(model: type[Model]) -> tuple[str, tuple[Any, ...]]:
    """The model's INSERT of every concrete field as a fixed statement, and those fields."""
    fields = tuple(model._meta.concrete_fields)
    if any(f.db_returning or f.generated or f.db_default is not NOT_PROVIDED for f in fields):
        raise TypeError(f"{model.__name__} has a value the database makes; insert it by the ORM")
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING 1", fields  # noqa: S608


def model_insert(instance: M) -> M:
    """Insert a new `instance` as `Model.save()` would (each field's `pre_save`, then its value
    prepared as the ORM prepares it: the timestamps of `auto_now`, a JSON field's adapter), by a
    fixed statement: the ORM's insert of a task cost ~1M instructions. No signals are sent (no
    model saved this way has receivers); a model whose values the database makes (a serial key,
    a `db_default`, a generated column) is refused."""
    sql, fields = _insert_plan(type(instance))
    db = connections[DEFAULT_DB_ALIAS]
    params = [f.get_db_prep_save(f.pre_save(instance, True), db) for f in fields]
    fixed_fetch(sql, params)
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    return instance


# The attribute of a psycopg connection holding its cursors for fixed statements, one per
# statement (`fixed_fetch`): they live and die with the connection, pooled or not.
_FIXED_CURSORS = "_taskscore_fixed_cursors"


def fixed_fetch(sql: str, params: Sequence[Any] | Mapping[str, Any], *, many: bool = False) -> Any:
    """Run a fixed statement (its SQL built once per process: the same `str` object every time)
    on this thread's connection, and return its first row (None without one) or, with `many`,
    all its rows. For the hot paths' few statements (a job's claim, a request's user), where
    Django's cursor costs more than the statement: each call made a Django cursor and a psycopg
    cursor and bound every parameter client-side through a fresh adapter lookup (~0.35M CPU
    instructions a statement; ~0.1M this way).

    Here the statement runs on a psycopg cursor kept with the connection for this SQL, which
    keeps its parsed query and adapters from one call to the next, with the parameters bound by
    the server (sent apart from the SQL, not quoted into it), and prepared on the connection the
    first time (a named statement of the extended protocol): Postgres then plans it once, not on
    every call, which was half its CPU per scoring job (docs/performance.md).
    `DATABASE_PREPARED_STATEMENTS=false` sends it unprepared, for a pooler in transaction mode
    that cannot keep prepared statements (pgbouncer before 1.21, or `max_prepared_statements`
    0). As Django's cursor does: the same connection and
    transaction, errors raised as Django's (`django.db.DatabaseError`), refused in a broken
    transaction, logged in `connection.queries_log` while Django logs queries (DEBUG, tests'
    query counts). A parameter the server cannot type from its context (a None, say) needs a
    cast in the SQL."""
    # The thread's wrapper looked up once: each attribute of the `connection` proxy looks it up
    # again in an asgiref Local (~16k instructions each).
    db = connections[DEFAULT_DB_ALIAS]
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    db.validate_no_broken_transaction()
    raw = db.connection
    cursors: dict[str, psycopg.Cursor[Any]] | None = getattr(raw, _FIXED_CURSORS, None)
    if cursors is None:
        cursors = {}
        setattr(raw, _FIXED_CURSORS, cursors)
    cursor = cursors.get(sql)
    if cursor is None or cursor.closed:
        cursor = cursors[sql] = psycopg.Cursor(raw)
    logged = db.queries_logged
    started = time.monotonic() if logged else 0.0
    with db.wrap_database_errors:
        if settings.DATABASE_PREPARED_STATEMENTS:
            # Django turns psycopg's preparing off for the connection (`prepare_threshold` None),
            # which also refuses `prepare=True`: turned on for this execution only, so Django's
            # own queries are neither prepared nor counted towards it.
            raw.prepare_threshold = 0
            try:
                cursor.execute(sql, params, prepare=True)
            finally:
                raw.prepare_threshold = None
        else:
            cursor.execute(sql, params, prepare=False)
        result = cursor.fetchall() if many else cursor.fetchone()
    if logged:
        db.queries_log.append(
            {
                "sql": db.ops.compose_sql(sql, params),  # type: ignore[attr-defined]
                "time": f"{time.monotonic() - started:.3f}",
            }
        )
    return result
