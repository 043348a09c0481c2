from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from psycopg.postgres import types as postgres_types
from psycopg.pq import Format

from taskscore.core.db import (
    UTCTimestamptzLoader,
    fixed_fetch,
    model_columns,
    model_from_row,
    model_insert,
)
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


def test_a_model_inserted_by_a_fixed_statement_reads_back_as_the_orms_own_insert() -> None:
    org = OrganizationFactory.create()
    fields = {
        "org_id": org.pk,
        "title": "Fixed insert",
        "description": "",
        "attributes": {"reach": 3.5, "tags": ["a", "b"], "note": None},
        "enqueued_at": dt.datetime(2026, 3, 1, 6, 30, 0, 123456, tzinfo=dt.UTC),
    }
    before = dt.datetime.now(dt.UTC)
    with CaptureQueriesContext(connection) as queries:
        inserted = model_insert(Task(**fields))
    by_orm = Task.objects.create(**fields)

    assert len(queries) == 1
    assert not inserted._state.adding
    assert before <= inserted.created_at <= inserted.updated_at  # auto_now_add and auto_now
    names = [f.attname for f in Task._meta.concrete_fields]
    read, expected = Task.objects.get(pk=inserted.pk), Task.objects.get(pk=by_orm.pk)
    assert {n: getattr(read, n) for n in names} == {n: getattr(inserted, n) for n in names}
    differ = {"id", "created_at", "updated_at"}  # each insert's own
    assert {n: getattr(read, n) for n in names if n not in differ} == {
        n: getattr(expected, n) for n in names if n not in differ
    }
    assert read.status == "queued"  # the model's default


def test_a_fixed_insert_runs_in_the_callers_transaction() -> None:
    org = OrganizationFactory.create()
    task = Task(org_id=org.pk, title="Rolled back", attributes={})
    with pytest.raises(RuntimeError), transaction.atomic():
        _insert_then_fail(task)
    assert not Task.objects.filter(pk=task.pk).exists()


def _insert_then_fail(task: Task) -> None:
    model_insert(task)
    raise RuntimeError


def test_a_fixed_insert_refuses_a_model_whose_key_the_database_makes() -> None:
    with pytest.raises(TypeError, match="the database makes"):
        model_insert(Organization(name="Serial key", slug="serial-key"))


_ORG_NAME_SQL = "SELECT name FROM orgs_organization WHERE id = %(id)s"
_ORG_SLUG_SQL = "UPDATE orgs_organization SET slug = %s WHERE id = %s"
_ORG_RENAME_SQL = "UPDATE orgs_organization SET name = %s WHERE id = %s RETURNING name"
_ORG_RESLUG_SQL = "UPDATE orgs_organization SET slug = %s WHERE id = %s RETURNING slug"


def test_a_fixed_statement_reads_what_djangos_cursor_reads() -> None:
    org = OrganizationFactory.create(name="Acme")

    assert fixed_fetch(_ORG_NAME_SQL, {"id": org.pk}) == ("Acme",)
    assert fixed_fetch(_ORG_NAME_SQL, {"id": 0}) is None
    now = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
    assert fixed_fetch("SELECT %s::timestamptz, %s", [now, 7]) == (now, 7)
    assert fixed_fetch("SELECT generate_series(1, %s)", [3], many=True) == [(1,), (2,), (3,)]


def test_a_fixed_statement_keeps_its_cursor_with_the_connection() -> None:
    org = OrganizationFactory.create()
    fixed_fetch(_ORG_NAME_SQL, {"id": org.pk})
    kept = dict(connection.connection._taskscore_fixed_cursors)
    fixed_fetch(_ORG_NAME_SQL, {"id": org.pk})

    assert connection.connection._taskscore_fixed_cursors[_ORG_NAME_SQL] is (kept[_ORG_NAME_SQL])


def test_a_fixed_statement_runs_in_the_callers_transaction() -> None:
    org = OrganizationFactory.create(name="Before")
    with transaction.atomic():
        sid = transaction.savepoint()
        assert fixed_fetch(_ORG_RENAME_SQL, ["After", org.pk]) == ("After",)
        assert Organization.objects.get(pk=org.pk).name == "After"
        transaction.savepoint_rollback(sid)

    assert Organization.objects.get(pk=org.pk).name == "Before"


def test_a_fixed_statements_error_is_djangos_and_a_broken_transaction_refuses_it() -> None:
    org = OrganizationFactory.create()
    other = OrganizationFactory.create()
    with transaction.atomic():
        # django.db's IntegrityError, as the jobs' retries and the callers expect; an error
        # inside an atomic block without a savepoint breaks the transaction, as the ORM's do.
        with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
            fixed_fetch(_ORG_SLUG_SQL, [other.slug, org.pk])
        with pytest.raises(TransactionManagementError):
            fixed_fetch(_ORG_NAME_SQL, {"id": org.pk})


def test_a_fixed_statement_is_counted_with_the_requests_queries() -> None:
    org = OrganizationFactory.create(name="Acme")
    with CaptureQueriesContext(connection) as queries:
        fixed_fetch(_ORG_NAME_SQL, {"id": org.pk})

    assert len(queries.captured_queries) == 1
    assert f"WHERE id = {org.pk}" in queries.captured_queries[0]["sql"]


def _prepared_here() -> list[str]:
    """The statements prepared on this connection, as Postgres holds them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time")
        return [row[0] for row in cursor.fetchall()]


def test_a_fixed_statement_is_prepared_once_on_its_connection_and_djangos_queries_never() -> None:
    org = OrganizationFactory.create(name="Acme")
    for _ in range(3):
        assert fixed_fetch(_ORG_NAME_SQL, {"id": org.pk}) == ("Acme",)
    Organization.objects.get(pk=org.pk)  # Django's own query, on the same connection

    prepared = _prepared_here()
    assert prepared.count("SELECT name FROM orgs_organization WHERE id = $1") == 1
    assert not any('"orgs_organization"' in statement for statement in prepared)
    # Preparing stays off for Django's queries on this connection, as Django set it.
    assert connection.connection.prepare_threshold is None


def test_a_prepared_fixed_statement_runs_again_after_an_error_and_a_rollback() -> None:
    org = OrganizationFactory.create(name="Acme")
    other = OrganizationFactory.create()
    assert fixed_fetch(_ORG_RESLUG_SQL, ["fresh-slug", org.pk]) == ("fresh-slug",)
    with pytest.raises(IntegrityError), transaction.atomic():
        fixed_fetch(_ORG_RESLUG_SQL, [other.slug, org.pk])

    assert fixed_fetch(_ORG_RESLUG_SQL, ["fresher-slug", org.pk]) == ("fresher-slug",)


@pytest.mark.django_db(transaction=True)
def test_a_fixed_statement_survives_psycopgs_rollback_which_drops_its_prepared_statements() -> None:
    org = OrganizationFactory.create(name="Acme")
    fixed_fetch(_ORG_NAME_SQL, {"id": org.pk})
    transaction.set_autocommit(False)
    try:
        fixed_fetch(_ORG_NAME_SQL, {"id": org.pk})
        transaction.rollback()  # psycopg forgets its prepared statements and deallocates them
    finally:
        transaction.set_autocommit(True)

    assert fixed_fetch(_ORG_NAME_SQL, {"id": org.pk}) == ("Acme",)


def test_fixed_statements_are_sent_unprepared_when_the_setting_says_so(settings: Any) -> None:
    settings.DATABASE_PREPARED_STATEMENTS = False
    org = OrganizationFactory.create(name="Acme")
    before = _prepared_here()

    assert fixed_fetch(_ORG_NAME_SQL, {"id": org.pk}) == ("Acme",)
    assert _prepared_here() == before
