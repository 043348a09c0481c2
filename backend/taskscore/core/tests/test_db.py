from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from psycopg.postgres import types as postgres_types
from psycopg.pq import Format

from taskscore.core.db import UTCTimestamptzLoader, model_columns, model_from_row
from taskscore.orgs.models import Organization
from taskscore.tasks.models import Task
from taskscore.testing.factories import OrganizationFactory, TaskFactory

pytestmark = pytest.mark.django_db

TIMESTAMPTZ = postgres_types["timestamptz"].oid


def _read(sql: str) -> dt.datetime:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        value: dt.datetime = cursor.fetchone()[0]
    return value


def test_a_timestamp_with_any_offset_is_read_as_the_same_instant_in_utc() -> None:
    value = _read("SELECT '2026-03-01 12:00:00.123456+05:30'::timestamptz")

    assert value == dt.datetime(2026, 3, 1, 6, 30, 0, 123456, tzinfo=dt.UTC)
    assert value.tzinfo is dt.UTC  # as Django's own loader labels it
    assert connection.connection.adapters.get_loader(TIMESTAMPTZ, Format.TEXT) is (
        UTCTimestamptzLoader
    )


def test_timestamps_are_parsed_by_psycopgs_compiled_loader() -> None:
    _read("SELECT now()")  # a connection, with its loaders
    loader = UTCTimestamptzLoader(TIMESTAMPTZ, connection.connection)

    # psycopg's binary package (requirements.txt): its loader is compiled, not Python.
    assert type(loader.load.__self__).__module__.startswith("psycopg_binary")  # type: ignore[attr-defined]


def test_a_model_keeps_its_timestamps_to_the_microsecond() -> None:
    org = Organization.objects.create(name="Clock", slug="clock")
    written = dt.datetime(2026, 12, 3, 23, 59, 59, 999999, tzinfo=dt.UTC)
    Organization.objects.filter(pk=org.pk).update(created_at=written)

    read = Organization.objects.values_list("created_at", flat=True).get(pk=org.pk)

    assert read == written
    assert read.tzinfo is dt.UTC


def test_a_model_read_from_a_row_equals_the_orms_own_read() -> None:
    org = OrganizationFactory.create()
    written = TaskFactory.create(org=org, attributes={"reach": 3.5, "effort": 2.0})
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {model_columns(Task)}, 42 FROM tasks_task WHERE id = %s",  # noqa: S608
            [written.pk],
        )
        row = cursor.fetchone()

    task = model_from_row(Task, row)  # the value after the columns left alone

    expected = Task.objects.get(pk=written.pk)
    names = [f.attname for f in Task._meta.concrete_fields]
    assert {n: getattr(task, n) for n in names} == {n: getattr(expected, n) for n in names}
    assert task.attributes == {"reach": 3.5, "effort": 2.0}  # JSON parsed, as the ORM does
    assert not task._state.adding
