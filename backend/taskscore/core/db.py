"""Database connection habits shared by the app and the jobs."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
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
    if not connection.in_atomic_block:
        connection.close()


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
    values = [
        value if convert is None or value is None else convert(value, None, connection)
        for value, convert in zip(row, converters, strict=False)
    ]
    return model.from_db(connection.alias, names, values)
