"""The backup drill's comparison (`make backup-drill`, bench/backup_drill.py): a small database
made by the drill's own generator, dumped and restored into a new database, compares equal; and a
changed score, a missing row, a sequence set back and a missing index in the restored copy are
each found.

These tests commit (transaction=True): pg_dump reads the test database from another session."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DRILL = Path(__file__).resolve().parents[2] / "bench" / "backup_drill.py"


def _drill() -> ModuleType:
    """bench/backup_drill.py as a module (bench/ is not a package; its dataclasses need the
    module registered while it loads)."""
    name = "bench_backup_drill"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, DRILL)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _test_database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_restored_copy_compares_equal_and_each_change_to_it_is_found(tmp_path: Path) -> None:
    drill = _drill()
    made = drill.populate(tasks=300, orgs=2)
    assert made["tasks"] == 300
    assert made["scores"] > 300  # a third of the scored tasks have a score from each version
    source = _test_database_url()
    # Named after this process: another test run on the same server cannot meet it.
    name = connection.settings_dict["NAME"]
    target = drill.with_database(source, f"{name}_restored_{os.getpid()}")
    drill.database_drop(target)
    try:
        drill.dump(source, tmp_path / "taskscore.dump")
        drill.database_create(target)
        drill.restore(tmp_path / "taskscore.dump", target)

        result = drill.compare(source, target, sample=10_000)  # every score, value by value
        assert result.problems == []
        assert result.mismatches == 0
        assert result.tables > 30
        assert result.rows > 1000
        assert result.sample_scores == made["scores"]

        with psycopg.connect(target, autocommit=True) as conn:
            row = conn.execute(
                "UPDATE scoring_taskscore SET value = value + 1e-9"
                " WHERE id = (SELECT min(id) FROM scoring_taskscore) RETURNING id"
            ).fetchone()
            assert row is not None
            changed_score = row[0]
        result = drill.compare(source, target, sample=10_000)
        assert result.mismatches == 2
        assert result.problems[0].startswith("table scoring_taskscore: content differs")
        assert result.problems[1] == f"score {changed_score}: value differ"

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(
                "DELETE FROM audit_auditevent WHERE id = (SELECT max(id) FROM audit_auditevent)"
            )
            conn.execute("DROP INDEX task_title_trgm")
            conn.execute("SELECT setval('audit_auditevent_id_seq', 1)")
        result = drill.compare(source, target, sample=0)
        assert result.sample_scores == 0
        assert result.mismatches == 5, result.problems
        assert result.problems[0].startswith("table audit_auditevent: ")
        assert "restored" in result.problems[0]  # the counts
        assert result.problems[1].startswith("table audit_auditevent: content differs")
        assert result.problems[2].startswith("table scoring_taskscore: content differs")
        assert result.problems[3].startswith(
            "sequence audit_auditevent_id_seq: at 1, behind its column's largest"
        )
        assert result.problems[4].startswith(
            "index missing from the restored database: CREATE INDEX task_title_trgm"
        )
    finally:
        drill.database_drop(target)
