"""The migration linter (taskscore.core.migration_lint, `manage.py lintmigrations`): each unsafe
operation in an unshipped migration is found, its safe form is not, and the tree as it is passes.

Each case copies the `tasks` app's shipped migrations (those in the baseline) into a temporary
package, adds migrations after them, and points MIGRATION_MODULES at it: the added ones are not
shipped. No database is touched."""

from __future__ import annotations

import shutil
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from taskscore.core.migration_lint import (
    BASELINE_PATH,
    Finding,
    baseline_read,
    lint,
    project_app_labels,
    project_migrations,
)

TASKS_MIGRATIONS = Path(__file__).resolve().parent.parent / "taskscore" / "tasks" / "migrations"
LAST_SHIPPED = "0005_task_count"

HEADER = """\
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
"""


def _migration(body: str, *, depends_on: str = LAST_SHIPPED, extra: str = "") -> str:
    return (
        HEADER
        + textwrap.dedent(extra)
        + "\n\nclass Migration(migrations.Migration):\n"
        + f"    dependencies = [('tasks', {depends_on!r})]\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )


@pytest.fixture
def tasks_package(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    name = f"migrlint_{uuid.uuid4().hex[:12]}"
    directory = tmp_path / name
    directory.mkdir()
    shipped = baseline_read()
    for source in TASKS_MIGRATIONS.glob("*.py"):
        if source.name == "__init__.py" or f"tasks.{source.stem}" in shipped:
            shutil.copy(source, directory / source.name)
    sys.path.insert(0, str(tmp_path))
    try:
        yield name, directory
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]


def _lint(tasks_package: tuple[str, Path], migrations: dict[str, str]) -> list[Finding]:
    name, directory = tasks_package
    for migration, text in migrations.items():
        (directory / f"{migration}.py").write_text(text, encoding="utf-8")
    with override_settings(MIGRATION_MODULES={"tasks": name}):
        loader = MigrationLoader(None, ignore_no_migrations=True)
        pending, findings = lint(loader, shipped=baseline_read())
    assert pending == sorted(("tasks", migration) for migration in migrations)
    return findings


UNSAFE: dict[str, tuple[str, str]] = {
    "add_field_not_null": (
        "operations = [migrations.AddField('task', 'priority', models.IntegerField(default=0))]",
        "NOT NULL column without db_default",
    ),
    "add_field_with_index": (
        "operations = [migrations.AddField('task', 'ref', "
        "models.CharField(max_length=20, null=True, db_index=True))]",
        "without CONCURRENTLY",
    ),
    "add_index": (
        "operations = [migrations.AddIndex('task', "
        "models.Index(fields=['title'], name='task_title_plain'))]",
        "AddIndexConcurrently",
    ),
    "add_index_concurrently_atomic": (
        "operations = [AddIndexConcurrently('task', "
        "models.Index(fields=['title'], name='task_title_plain'))]",
        "atomic = False",
    ),
    "run_sql_without_reverse": (
        "operations = [migrations.RunSQL('UPDATE tasks_task SET attempts = 0 WHERE false')]",
        "without reverse_sql",
    ),
    "run_sql_index_not_concurrently": (
        "operations = [migrations.RunSQL("
        "'CREATE INDEX task_x ON tasks_task (title)', 'DROP INDEX task_x')]",
        "CREATE INDEX without CONCURRENTLY",
    ),
    "run_sql_constraint_validated": (
        "operations = [migrations.RunSQL("
        "'ALTER TABLE tasks_task ADD CONSTRAINT task_attempts_max CHECK (attempts < 100)', "
        "'ALTER TABLE tasks_task DROP CONSTRAINT task_attempts_max')]",
        "without NOT VALID",
    ),
    "run_sql_validate_same_migration": (
        "operations = [migrations.RunSQL(["
        "'ALTER TABLE tasks_task ADD CONSTRAINT task_attempts_max CHECK (attempts < 100) "
        "NOT VALID', 'ALTER TABLE tasks_task VALIDATE CONSTRAINT task_attempts_max'], "
        "'ALTER TABLE tasks_task DROP CONSTRAINT task_attempts_max')]",
        "same transaction",
    ),
    "run_sql_drop_column": (
        "operations = [migrations.RunSQL('ALTER TABLE tasks_task DROP COLUMN failure_reason', "
        "\"ALTER TABLE tasks_task ADD COLUMN failure_reason text NOT NULL DEFAULT ''\")]",
        "contract step",
    ),
    "add_check_constraint": (
        "operations = [migrations.AddConstraint('task', models.CheckConstraint("
        "condition=models.Q(attempts__lt=100), name='task_attempts_max'))]",
        "NOT VALID",
    ),
    "add_unique_constraint": (
        "operations = [migrations.AddConstraint('task', models.UniqueConstraint("
        "fields=['org', 'title'], name='task_org_title_unique'))]",
        "CONCURRENTLY",
    ),
    "remove_field": (
        "operations = [migrations.RemoveField('task', 'failure_reason')]",
        "contract step",
    ),
    "rename_field": (
        "operations = [migrations.RenameField('task', 'title', 'name')]",
        "contract step",
    ),
    "alter_field_type": (
        "operations = [migrations.AlterField('task', 'attempts', "
        "models.BigIntegerField(default=0))]",
        "contract step",
    ),
    "alter_field_not_null": (
        "operations = [migrations.AlterField('task', 'enqueued_at', models.DateTimeField())]",
        "NOT NULL",
    ),
    "delete_model": ("operations = [migrations.DeleteModel('TaskCount')]", "contract step"),
    "rename_model": ("operations = [migrations.RenameModel('TaskCount', 'TaskTally')]", "contract"),
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_operation_is_flagged(tasks_package: tuple[str, Path], case: str) -> None:
    body, expected = UNSAFE[case]
    findings = _lint(tasks_package, {"0006_unsafe": _migration(body)})
    assert len(findings) == 1, findings
    finding = findings[0]
    assert finding.migration == "tasks.0006_unsafe"
    assert finding.index == 1
    assert expected in finding.message
    assert str(finding).startswith("tasks.0006_unsafe: operation 1 (")


SAFE: dict[str, tuple[str, str]] = {
    "add_field_nullable": (
        "operations = [migrations.AddField('task', 'priority', models.IntegerField(null=True))]",
        "",
    ),
    "add_field_db_default": (
        "operations = [migrations.AddField('task', 'priority', "
        "models.IntegerField(default=0, db_default=0))]",
        "",
    ),
    "add_fk_without_index": (
        "operations = [migrations.AddField('task', 'parent', models.ForeignKey("
        "'tasks.task', null=True, on_delete=models.SET_NULL, db_index=False))]",
        "",
    ),
    "add_index_concurrently": (
        "atomic = False\n"
        "operations = [AddIndexConcurrently('task', "
        "models.Index(fields=['title'], name='task_title_plain'))]",
        "",
    ),
    "run_sql_concurrently_with_reverse": (
        "atomic = False\n"
        "operations = [migrations.RunSQL("
        "'CREATE INDEX CONCURRENTLY task_x ON tasks_task (title)', "
        "'DROP INDEX CONCURRENTLY task_x')]",
        "",
    ),
    "run_sql_not_valid_then_noop_reverse": (
        "operations = [migrations.RunSQL("
        "'ALTER TABLE tasks_task ADD CONSTRAINT task_attempts_max CHECK (attempts < 100) "
        "NOT VALID', 'ALTER TABLE tasks_task DROP CONSTRAINT task_attempts_max'), "
        "migrations.RunSQL('SELECT 1', migrations.RunSQL.noop)]",
        "",
    ),
    "contract_step_marked": (
        "operations = [migrations.RemoveField('task', 'failure_reason'), "
        "migrations.AlterField('task', 'attempts', models.BigIntegerField(default=0))]",
        'ZERO_DOWNTIME = "contract: release 41 stopped reading failure_reason"\n',
    ),
    "run_sql_contract_marked": (
        "operations = [migrations.RunSQL('ALTER TABLE tasks_task DROP COLUMN failure_reason', "
        "\"ALTER TABLE tasks_task ADD COLUMN failure_reason text NOT NULL DEFAULT ''\")]",
        'ZERO_DOWNTIME = "contract: release 41 stopped reading failure_reason"\n',
    ),
    "new_table_anything_goes": (
        "operations = [migrations.CreateModel('Note', [('id', models.BigAutoField("
        "primary_key=True)), ('task', models.ForeignKey('tasks.task', "
        "on_delete=models.CASCADE))]), "
        "migrations.AddField('note', 'body', models.TextField(default='')), "
        "migrations.AddIndex('note', models.Index(fields=['body'], name='note_body')), "
        "migrations.AddConstraint('note', models.CheckConstraint("
        "condition=models.Q(body__gt=''), name='note_body_set'))]",
        "",
    ),
    "state_only_removal": (
        "operations = [migrations.SeparateDatabaseAndState(state_operations=["
        "migrations.RemoveField('task', 'failure_reason')])]",
        "",
    ),
}


@pytest.mark.parametrize("case", sorted(SAFE))
def test_safe_form_is_not_flagged(tasks_package: tuple[str, Path], case: str) -> None:
    body, extra = SAFE[case]
    assert _lint(tasks_package, {"0006_safe": _migration(body, extra=extra)}) == []


def test_contract_marker_needs_a_reason(tasks_package: tuple[str, Path]) -> None:
    body = "operations = [migrations.RemoveField('task', 'failure_reason')]"
    findings = _lint(
        tasks_package, {"0006_unsafe": _migration(body, extra='ZERO_DOWNTIME = "contract:"\n')}
    )
    assert [finding.index for finding in findings] == [1]


def test_a_table_created_in_an_earlier_unshipped_migration_is_new(
    tasks_package: tuple[str, Path],
) -> None:
    create = (
        "operations = [migrations.CreateModel('Note', "
        "[('id', models.BigAutoField(primary_key=True))])]"
    )
    add = "operations = [migrations.AddField('note', 'body', models.TextField(default=''))]"
    findings = _lint(
        tasks_package,
        {
            "0006_note": _migration(create),
            "0007_note_body": _migration(add, depends_on="0006_note"),
        },
    )
    assert findings == []


def test_every_finding_of_a_migration_is_reported(tasks_package: tuple[str, Path]) -> None:
    body = (
        "operations = [migrations.AddField('task', 'priority', models.IntegerField(default=0)), "
        "migrations.AddField('task', 'note', models.TextField(null=True)), "
        "migrations.RenameField('task', 'title', 'name')]"
    )
    findings = _lint(tasks_package, {"0006_unsafe": _migration(body)})
    assert [finding.index for finding in findings] == [1, 3]


def test_the_current_tree_passes(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("lintmigrations")
    assert "nothing unsafe" in capsys.readouterr().out


def test_the_migrations_not_in_the_baseline_are_the_newest_of_their_app() -> None:
    # (so the baseline misses no migration that shipped; the unshipped ones are linted)
    loader = MigrationLoader(None, ignore_no_migrations=True)
    shipped = baseline_read(BASELINE_PATH)
    for app in project_app_labels():
        names = [name for _, name in project_migrations(loader, [app])]
        old = [name for name in names if f"{app}.{name}" in shipped]
        new = [name for name in names if f"{app}.{name}" not in shipped]
        assert not old or not new or max(old) < min(new), app


def test_the_command_exits_1_on_a_finding(tasks_package: tuple[str, Path]) -> None:
    name, directory = tasks_package
    body = "operations = [migrations.RenameField('task', 'title', 'name')]"
    (directory / "0006_unsafe.py").write_text(_migration(body), encoding="utf-8")
    with override_settings(MIGRATION_MODULES={"tasks": name}), pytest.raises(CommandError) as exc:
        call_command("lintmigrations")
    assert exc.value.returncode == 1
    assert "1 unsafe operation(s) in 1 unshipped migration(s)" in str(exc.value)


def test_ship_adds_the_current_migrations(tmp_path: Path) -> None:
    baseline = tmp_path / "shipped.txt"
    baseline.write_text("# nothing yet\nolder.0001_gone\n", encoding="utf-8")
    call_command("lintmigrations", "--ship", "--baseline", str(baseline))
    shipped = baseline_read(baseline)
    assert "older.0001_gone" in shipped
    assert baseline_read(BASELINE_PATH) <= shipped
