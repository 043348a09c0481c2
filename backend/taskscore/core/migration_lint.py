"""The migration linter: operations that are unsafe while the previous release still runs.

A deploy migrates the database while the old code still serves (and afterwards, while a rollback
is possible). Every migration not yet shipped (not listed in the baseline of shipped migrations,
`migrations_shipped.txt` next to this module) is checked; shipped ones ran everywhere and are
history. The rules (docs/operations.md, "Upgrades and migrations"):

- `AddField` of a NOT NULL column without `db_default` to an existing table: the old code's
  INSERTs do not name the column and fail (Django drops a Python `default` after adding it).
- `AddField` with an index (`db_index`, `unique`, a `ForeignKey`), `AddIndex`, `AddConstraint`
  (CHECK, UNIQUE) on an existing table, `AlterField` adding an index: built or validated under a
  lock that blocks writes for the whole scan. Use `AddIndexConcurrently` (in a migration with
  `atomic = False`), or `RunSQL` with `CREATE INDEX CONCURRENTLY` / `ADD CONSTRAINT … NOT VALID`
  and a `VALIDATE CONSTRAINT` in a later migration.
- Contract steps (`RemoveField`, `DeleteModel`, `RenameField`, `RenameModel`, `AlterModelTable`,
  `AlterField` changing a column's type, name or NULL to NOT NULL) break the code still running
  that uses them. They belong to a release after the one whose code stopped using them, and are
  allowed only in a migration whose module says so: `ZERO_DOWNTIME = "contract: <why it is safe
  now>"`.
- `RunSQL` without `reverse_sql` (use `migrations.RunSQL.noop` to say nothing needs undoing), SQL
  that is a contract step (DROP COLUMN or TABLE, RENAME, SET NOT NULL, ALTER COLUMN … TYPE:
  the marker above), and SQL that creates an index without CONCURRENTLY, adds a CHECK or FOREIGN
  KEY constraint without NOT VALID, validates one in the atomic migration that added it, or runs
  CONCURRENTLY in an atomic migration.

Tables created by a migration that is not shipped yet are new: nothing reads or writes them, so
the rules about existing tables do not apply to them. Only the project's apps (`taskscore.*`) are
checked; `SeparateDatabaseAndState` is checked by its database operations.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps as global_apps
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import connection, migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.models import NOT_PROVIDED, CheckConstraint, Field, UniqueConstraint

BASELINE_PATH = Path(__file__).with_name("migrations_shipped.txt")
PROJECT_PACKAGE = "taskscore."
MARKER = "ZERO_DOWNTIME"
CONTRACT_PREFIX = "contract:"

MigrationKey = tuple[str, str]


@dataclass(frozen=True)
class Finding:
    migration: str  # "tasks.0006_task_priority"
    index: int  # the operation's position in the migration, from 1
    operation: str  # Django's description of it
    message: str

    def __str__(self) -> str:
        return f"{self.migration}: operation {self.index} ({self.operation}): {self.message}"


# ------------------------------------------------------------------------------ the baseline


def baseline_read(path: Path = BASELINE_PATH) -> set[str]:
    """The shipped migrations: one `app_label.migration_name` a line; `#` starts a comment."""
    shipped: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            shipped.add(name)
    return shipped


def project_app_labels() -> set[str]:
    return {
        config.label
        for config in global_apps.get_app_configs()
        if config.name.startswith(PROJECT_PACKAGE)
    }


def project_migrations(loader: MigrationLoader, labels: Iterable[str]) -> list[MigrationKey]:
    wanted = set(labels)
    return sorted(key for key in loader.disk_migrations if key[0] in wanted)


def baseline_text(keys: Iterable[MigrationKey]) -> str:
    header = (
        "# Migrations already shipped (run in production): the migration linter\n"
        "# (`manage.py lintmigrations`, docs/operations.md) checks every other one.\n"
        "# After a release is deployed: `manage.py lintmigrations --ship` adds its migrations.\n"
    )
    return header + "".join(f"{app}.{name}\n" for app, name in sorted(keys))


# ------------------------------------------------------------------------------ the checks


def lint(
    loader: MigrationLoader | None = None,
    *,
    shipped: set[str] | None = None,
    labels: Iterable[str] | None = None,
) -> tuple[list[MigrationKey], list[Finding]]:
    """The project's migrations not shipped yet, and what is unsafe in them."""
    loader = loader or MigrationLoader(None, ignore_no_migrations=True)
    shipped = baseline_read() if shipped is None else shipped
    keys = project_migrations(loader, project_app_labels() if labels is None else labels)
    pending = [key for key in keys if f"{key[0]}.{key[1]}" not in shipped]
    new_tables = {
        (key[0], operation.name_lower)
        for key in pending
        for operation in _database_operations(loader.disk_migrations[key].operations)
        if isinstance(operation, migrations.CreateModel)
    }
    findings: list[Finding] = []
    for key in pending:
        findings.extend(_lint_migration(loader, key, new_tables))
    return pending, findings


def _database_operations(operations: Sequence[Operation]) -> list[Operation]:
    flat: list[Operation] = []
    for operation in operations:
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            flat.extend(_database_operations(operation.database_operations))
        else:
            flat.append(operation)
    return flat


def _contract_reason(migration: migrations.Migration) -> str | None:
    """The reason the module's ZERO_DOWNTIME marker gives for a contract step, if any."""
    module = sys.modules.get(type(migration).__module__)
    marker = getattr(module, MARKER, None)
    if isinstance(marker, str) and marker.startswith(CONTRACT_PREFIX):
        reason = marker[len(CONTRACT_PREFIX) :].strip()
        return reason or None
    return None


def _lint_migration(
    loader: MigrationLoader, key: MigrationKey, new_tables: set[MigrationKey]
) -> list[Finding]:
    app_label, name = key
    migration = loader.disk_migrations[key]
    contract = _contract_reason(migration)
    state: ProjectState | None = None
    findings: list[Finding] = []
    for index, top in enumerate(migration.operations, start=1):
        for operation in _database_operations([top]):
            if isinstance(operation, migrations.AlterField) and not _is_new(
                app_label, operation.model_name_lower, new_tables
            ):
                if state is None:  # rendered only when needed (it costs)
                    state = loader.project_state(key, at_end=False)
                    for earlier in migration.operations[: index - 1]:
                        earlier.state_forwards(app_label, state)
                messages = _alter_field(app_label, operation, state, contract)
            else:
                messages = _check(app_label, operation, migration, new_tables, contract)
            findings.extend(
                Finding(f"{app_label}.{name}", index, operation.describe(), message)
                for message in messages
            )
        if state is not None:
            top.state_forwards(app_label, state)
    return findings


def _is_new(app_label: str, model_name_lower: str, new_tables: set[MigrationKey]) -> bool:
    return (app_label, model_name_lower) in new_tables


def _contract_step(what: str, contract: str | None) -> list[str]:
    if contract is not None:
        return []
    return [
        f"{what} is a contract step: it breaks the release still running. Ship it in a release "
        f"after the code stopped using it, in a migration marked "
        f'{MARKER} = "{CONTRACT_PREFIX} <why it is safe now>"'
    ]


def _check(
    app_label: str,
    operation: Operation,
    migration: migrations.Migration,
    new_tables: set[MigrationKey],
    contract: str | None,
) -> list[str]:
    model = str(
        getattr(operation, "model_name_lower", None)
        or getattr(operation, "old_name_lower", None)
        or getattr(operation, "name_lower", "")
    )
    existing = not _is_new(app_label, model, new_tables)
    if isinstance(operation, migrations.AddField):
        return _add_field(operation.field) if existing else []
    if isinstance(operation, AddIndexConcurrently):
        return _needs_non_atomic(migration, "CREATE INDEX CONCURRENTLY")
    if isinstance(operation, RemoveIndexConcurrently):
        return _needs_non_atomic(migration, "DROP INDEX CONCURRENTLY")
    if isinstance(operation, migrations.AddIndex):
        if existing:
            return [
                "AddIndex locks the table against writes while the index is built: use "
                "django.contrib.postgres.operations.AddIndexConcurrently in a migration "
                "with atomic = False"
            ]
        return []
    if isinstance(operation, migrations.AddConstraint):
        return _add_constraint(operation.constraint) if existing else []
    if isinstance(operation, migrations.RunSQL):
        return _run_sql(operation, migration, contract)
    if not existing:
        return []
    if isinstance(operation, migrations.RemoveField):
        return _contract_step(f"removing the column {operation.name!r}", contract)
    if isinstance(operation, migrations.DeleteModel):
        return _contract_step(f"dropping the table of {operation.name}", contract)
    if isinstance(operation, migrations.RenameField):
        return _contract_step(
            f"renaming the column {operation.old_name!r} to {operation.new_name!r}", contract
        )
    if isinstance(operation, migrations.RenameModel):
        return _contract_step(f"renaming the model {operation.old_name}", contract)
    if isinstance(operation, migrations.AlterModelTable):
        return _contract_step(f"renaming the table of {operation.name}", contract)
    return []


def _add_field(field: Field[Any, Any]) -> list[str]:
    if field.many_to_many:
        return []  # a new table of its own
    messages = []
    if not field.null and field.db_default is NOT_PROVIDED:
        messages.append(
            "adds a NOT NULL column without db_default to an existing table: the running "
            "release's INSERTs do not name it and fail. Add it with null=True (and backfill), "
            "or with db_default"
        )
    if _indexed(field):
        messages.append(
            "adds a column with an index (db_index, unique or a ForeignKey) to an existing "
            "table: the index is built without CONCURRENTLY, blocking writes. Add the field "
            "with db_index=False (no unique), then AddIndexConcurrently in a non-atomic migration"
        )
    return messages


def _indexed(field: Field[Any, Any]) -> bool:
    """Whether the column gets an index of its own (db_index: ForeignKey's default; unique)."""
    return bool(getattr(field, "db_index", False) or field.unique)


def _add_constraint(constraint: Any) -> list[str]:
    if isinstance(constraint, UniqueConstraint):
        return [
            "AddConstraint (UNIQUE) builds its index under a lock that blocks writes: CREATE "
            "UNIQUE INDEX CONCURRENTLY (non-atomic), then ADD CONSTRAINT … UNIQUE USING INDEX, "
            "by RunSQL inside SeparateDatabaseAndState"
        ]
    kind = "CHECK" if isinstance(constraint, CheckConstraint) else type(constraint).__name__
    return [
        f"AddConstraint ({kind}) checks every row while holding a lock that blocks writes: "
        "RunSQL 'ALTER TABLE … ADD CONSTRAINT … NOT VALID' (state by SeparateDatabaseAndState), "
        "then 'VALIDATE CONSTRAINT' in a later migration"
    ]


def _alter_field(
    app_label: str, operation: migrations.AlterField, state: ProjectState, contract: str | None
) -> list[str]:
    old = state.apps.get_model(app_label, operation.model_name)._meta.get_field(operation.name)
    after = state.clone()
    operation.state_forwards(app_label, after)
    new = after.apps.get_model(app_label, operation.model_name)._meta.get_field(operation.name)
    assert isinstance(old, Field)
    assert isinstance(new, Field)
    messages: list[str] = []
    old_type, new_type = old.db_type(connection), new.db_type(connection)
    if old_type != new_type:
        messages += _contract_step(
            f"changing the column {operation.name!r} from {old_type} to {new_type} (a table "
            "rewrite under an exclusive lock, and values the running release may not handle)",
            contract,
        )
    if old.column != new.column:
        messages += _contract_step(
            f"renaming the column {old.column!r} to {new.column!r}", contract
        )
    if old.null and not new.null:
        messages += _contract_step(
            f"making {operation.name!r} NOT NULL (the running release may still write NULL; "
            "the scan holds an exclusive lock unless a validated CHECK (… IS NOT NULL) "
            "NOT VALID constraint proves it first)",
            contract,
        )
    if _indexed(new) and not _indexed(old):
        messages.append(
            "adds an index (db_index or unique) to an existing column: built without "
            "CONCURRENTLY, blocking writes. Use AddIndexConcurrently in a non-atomic migration"
        )
    return messages


_CREATE_INDEX = re.compile(r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", re.I)
_CONCURRENTLY = re.compile(r"\b(?:CREATE|DROP)\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\b", re.I)
_ADD_CONSTRAINT = re.compile(
    r"\bADD\s+CONSTRAINT\s+\S+\s+(?:CHECK|FOREIGN\s+KEY)\b[^;]*?(?=;|$)", re.I | re.S
)
_NOT_VALID = re.compile(r"\bNOT\s+VALID\b", re.I)
_VALIDATE = re.compile(r"\bVALIDATE\s+CONSTRAINT\b", re.I)
_CONTRACT_SQL = re.compile(
    r"\bDROP\s+(?:COLUMN|TABLE)\b|\bRENAME\b|\bSET\s+NOT\s+NULL\b"
    r"|\bALTER\s+COLUMN\s+\S+\s+(?:SET\s+DATA\s+)?TYPE\b",
    re.I,
)


def _sql_text(sql: Any) -> str:
    if isinstance(sql, str):
        return sql
    parts = []
    for statement in sql or ():
        parts.append(statement[0] if isinstance(statement, list | tuple) else str(statement))
    return ";\n".join(parts)


def _run_sql(
    operation: migrations.RunSQL, migration: migrations.Migration, contract: str | None
) -> list[str]:
    messages: list[str] = []
    if operation.reverse_sql is None:
        messages.append(
            "RunSQL without reverse_sql cannot be rolled back: give the SQL that undoes it "
            "(or migrations.RunSQL.noop when nothing needs undoing)"
        )
    sql = _sql_text(operation.sql)
    found = _CONTRACT_SQL.search(sql)
    if found:
        what = " ".join(found.group(0).split()).upper()
        messages += _contract_step(f"SQL that runs {what}", contract)
    if _CREATE_INDEX.search(sql):
        messages.append(
            "CREATE INDEX without CONCURRENTLY blocks writes while it builds: CREATE INDEX "
            "CONCURRENTLY, in a migration with atomic = False"
        )
    if _CONCURRENTLY.search(sql):
        messages += _needs_non_atomic(migration, "CREATE/DROP INDEX CONCURRENTLY")
    for match in _ADD_CONSTRAINT.finditer(sql):
        if not _NOT_VALID.search(match.group(0)):
            messages.append(
                "ADD CONSTRAINT (CHECK or FOREIGN KEY) without NOT VALID checks every row under "
                "a lock that blocks writes: add it NOT VALID, and VALIDATE CONSTRAINT in a "
                "later migration"
            )
    if migration.atomic and _VALIDATE.search(sql) and _NOT_VALID.search(sql):
        messages.append(
            "adds a constraint NOT VALID and validates it in the same transaction, which keeps "
            "the lock of the ADD for the whole scan: VALIDATE CONSTRAINT in a later migration"
        )
    return messages


def _needs_non_atomic(migration: migrations.Migration, what: str) -> list[str]:
    if migration.atomic:
        return [f"{what} cannot run in a transaction: set atomic = False on the migration"]
    return []
