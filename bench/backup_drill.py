"""`make backup-drill`: can the database be restored from its backup, exactly?

1. A source database. By default its own, `taskscore_backup_drill_<pid>` (created, migrated and
   dropped here), filled with a few orgs as the app makes them (`createorg`, members, a custom
   role, role changes through the members service, a second scoring version created, published
   and activated through the scoring services) and then, in bulk SQL and `bulk_create`,
   BACKUP_DRILL_TASKS tasks spread over the orgs with their scores (every third scored task
   re-scored under the second version, so it has two), people's overrides and calibration
   labels, usage records (the triggers keep the period counts), the AI allowance, metered
   outbox rows, audit events, Stripe events, subscriptions, invoices, Checkout sessions,
   invitations, idempotency records and an org export's binary chunks.
2. `pg_dump --format=custom` of it into a temporary directory, inside a read-only REPEATABLE
   READ transaction whose snapshot pg_dump shares (`--snapshot`): the source's side of the
   comparison is read in that same snapshot, so a database that is written meanwhile still
   compares exactly against its dump.
3. A new database, `taskscore_backup_drill_<pid>_restored`, and `pg_restore --no-owner --no-acl
   --exit-on-error` into it.
4. The comparison (`compare`, `fingerprint`, `diff`): every table of the public schema in both
   (none missing, none extra), its exact row count, and a checksum of its whole content (the
   SHA-256 over each row's `md5(t::text)` in primary-key order, with the session settings that
   shape the text fixed on both sides); every sequence (present, not ahead of the source's, not
   behind the largest value of the column it numbers, so new rows get free ids); the schema
   (columns, indexes, constraints, triggers, functions, extensions); and BACKUP_DRILL_SAMPLE scores
   (`scoring_taskscore` rows chosen by `md5(id)`, with their task's `score_value`) compared
   value by value. Each difference is one mismatch.

A few human lines, then one JSON object as the last line: tables, rows (over all tables),
mismatches (target 0), dump_mb (MB, 10⁶ bytes), dump_s, restore_s, sample_scores, compare_s,
load_s (the generated source; null for an existing one) and source. Exits 1 when any mismatch
was found (each is printed), and non-zero when pg_dump or pg_restore fails.

Knobs:
  BACKUP_DRILL_SOURCE_URL   drill an existing database instead of a generated one, e.g.
                            postgres://backup@db.internal:5432/taskscore. Read-only: it is only
                            read, by pg_dump and by SELECTs in a READ ONLY transaction; it is
                            never migrated, written or dropped. The restored copy is made on the
                            server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432),
                            whose user must be allowed to create databases; pg_dump must be of
                            the source server's major version or newer. The source transaction
                            stays open while pg_dump runs and the source is read (not during the
                            restore).
  BACKUP_DRILL_TASKS        tasks in the generated database (20000)
  BACKUP_DRILL_ORGS         orgs in the generated database (4)
  BACKUP_DRILL_SAMPLE       scores compared value by value (500)
  BACKUP_DRILL_KEEP=1       keep both databases and the dump file (their names are printed)
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

TASKS = int(os.environ.get("BACKUP_DRILL_TASKS", "20000"))
ORGS = int(os.environ.get("BACKUP_DRILL_ORGS", "4"))
SAMPLE = int(os.environ.get("BACKUP_DRILL_SAMPLE", "500"))
KEEP = os.environ.get("BACKUP_DRILL_KEEP", "") == "1"
SOURCE_URL = os.environ.get("BACKUP_DRILL_SOURCE_URL", "")

# What shapes `t::text` (and so the checksums), fixed on both sides whatever the servers' defaults.
SESSION_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "3",
    "bytea_output": "hex",
}


# ---------------------------------------------------------------------------------- databases


def with_database(url: str, name: str) -> str:
    """`url` naming the database `name` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def database_create(url: str) -> None:
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name(url))))


def database_drop(url: str) -> None:
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database_name(url))
            )
        )


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A connection URL for pg_dump/pg_restore without its password, which goes in PGPASSWORD
    (so it is not on the command line, where `ps` shows it)."""
    parts = urlsplit(url)
    env = dict(os.environ)
    netloc = parts.netloc
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}@{hostport}"
    return urlunsplit(parts._replace(netloc=netloc)), env


def server_version(url: str) -> str:
    with connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        conn.rollback()
    assert row is not None
    return str(row[0]).split()[0]


def tool_version(tool: str) -> str:
    out = subprocess.run([tool, "--version"], check=True, capture_output=True, text=True).stdout
    found = re.search(r"\d+(\.\d+)+", out)
    return found.group(0) if found else out.strip()


# -------------------------------------------------------------------------- dump and restore


def dump(source_url: str, path: Path, *, snapshot: str | None = None) -> float:
    """`pg_dump --format=custom` of the source into `path` (in `snapshot` when given); seconds."""
    dbname, env = _libpq(source_url)
    command = ["pg_dump", "--format=custom", f"--file={path}", f"--dbname={dbname}"]
    if snapshot:
        command.append(f"--snapshot={snapshot}")
    started = time.monotonic()
    subprocess.run(command, check=True, env=env)
    return time.monotonic() - started


def restore(path: Path, target_url: str) -> float:
    """`pg_restore` of the dump into the (new, empty) target database; seconds. Objects get the
    restoring user as owner and no grants (the source's roles need not exist on this server); the
    first error stops it."""
    dbname, env = _libpq(target_url)
    command = ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", f"--dbname={dbname}"]
    started = time.monotonic()
    subprocess.run([*command, str(path)], check=True, env=env)
    return time.monotonic() - started


def connect(url: str) -> psycopg.Connection[Any]:
    """A connection whose transactions are REPEATABLE READ and READ ONLY (the server refuses any
    write), with the settings that shape a row's text fixed."""
    conn = psycopg.connect(url, autocommit=True)
    for name, value in SESSION_SETTINGS.items():
        conn.execute(sql.SQL("SET {} TO {}").format(sql.Identifier(name), sql.Literal(value)))
    conn.autocommit = False
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


@contextmanager
def source_snapshot(url: str) -> Iterator[tuple[psycopg.Connection[Any], str]]:
    """A read-only transaction on the source and its exported snapshot, for pg_dump to share."""
    conn = connect(url)
    try:
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        yield conn, str(row[0])
    finally:
        conn.rollback()
        conn.close()


# ------------------------------------------------------------------------------ the comparison

SCHEMA_QUERIES = {
    "column": """
        SELECT format('%s.%s %s%s%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                      CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                      coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''))
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
          AND a.attnum > 0 AND NOT a.attisdropped
    """,
    "index": "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "constraint": """
        SELECT format('%s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    """,
    "trigger": """
        SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
    """,
    "function": """
        SELECT p.oid::regprocedure::text || ' ' || md5(pg_get_functiondef(p.oid))
        FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
    """,
    "extension": "SELECT extname || ' ' || extversion FROM pg_extension",
}


def _normalized(definition: str) -> str:
    """A definition without casts, parentheses and spaces: the same index or constraint read back
    from a restored database may be deparsed differently (Postgres 15 prints a partial index's
    `status IN (...)` as `(ARRAY[...])::text[]` before a dump and `ARRAY[(...)::text, ...]` after),
    yet a missing one, another column, value or operator still differs."""
    return re.sub(CAST_OR_PUNCTUATION, "", definition)


CAST_OR_PUNCTUATION = re.compile(
    r"::[a-z_][a-z0-9_]*(?: varying| precision| with(?:out)? time zone)?(?:\[\])?|[() ]"
)


# Kinds whose definitions are compared normalized (the others are compared as printed).
NORMALIZED = {"index", "constraint"}


@dataclass
class Fingerprint:
    """What a database holds, as compared: per table (rows, checksum), sequences, the schema's
    definitions by kind, and the sampled scores by id."""

    tables: dict[str, tuple[int, str]] = field(default_factory=dict)
    # name: (last_value, the largest value in the column it numbers); None: never used, or none
    sequences: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    schema: dict[str, dict[str, str]] = field(default_factory=dict)  # kind: {key: definition}
    scores: dict[int, dict[str, Any]] = field(default_factory=dict)
    sample_ids: list[int] = field(default_factory=list)


@dataclass
class Comparison:
    tables: int
    rows: int
    sample_scores: int
    problems: list[str]

    @property
    def mismatches(self) -> int:
        return len(self.problems)


def _table_checksum(conn: psycopg.Connection[Any], table: str) -> tuple[int, str]:
    """(rows, SHA-256 over each row's md5(t::text) in primary-key order). Streamed through a
    server-side cursor: any table size, constant memory. A table without a primary key is read
    in the order of the rows' md5 (so the checksum is of the multiset of its rows)."""
    pk = [
        row[0]
        for row in conn.execute(
            """
            SELECT a.attname FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = %s::regclass AND i.indisprimary
            ORDER BY array_position(i.indkey::int2[], a.attnum)
            """,
            [sql.Identifier("public", table).as_string(conn)],
        )
    ]
    order = (
        sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in pk)
        if pk
        else sql.SQL("1")
    )
    query = sql.SQL("SELECT md5(t::text) FROM {} AS t ORDER BY {}").format(
        sql.Identifier("public", table), order
    )
    digest = hashlib.sha256()
    rows = 0
    with conn.cursor(name=f"drill_{table}") as cursor:
        cursor.itersize = 10_000
        cursor.execute(query)
        for (row_md5,) in cursor:
            digest.update(row_md5.encode())
            rows += 1
    return rows, digest.hexdigest()


def _sequences(conn: psycopg.Connection[Any]) -> dict[str, tuple[int | None, int | None]]:
    """Each sequence's last value, and the largest value in the column it numbers (an identity
    or serial column)."""
    out: dict[str, tuple[int | None, int | None]] = {}
    rows = conn.execute(
        """
        SELECT s.sequencename, s.last_value, t.relname, a.attname
        FROM pg_sequences s
        JOIN pg_class c ON c.relname = s.sequencename AND c.relnamespace = 'public'::regnamespace
        LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
             AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        LEFT JOIN pg_class t ON t.oid = d.refobjid
        LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE s.schemaname = 'public'
        ORDER BY 1
        """
    ).fetchall()
    for name, last_value, table, column in rows:
        largest = None
        if table and column:
            query = sql.SQL("SELECT max({}) FROM {}").format(
                sql.Identifier(column), sql.Identifier("public", table)
            )
            row = conn.execute(query).fetchone()
            largest = row[0] if row else None
        out[name] = (last_value, largest)
    return out


def fingerprint(
    conn: psycopg.Connection[Any], *, sample: int = 500, sample_ids: list[int] | None = None
) -> Fingerprint:
    """Read everything compared from `conn` (in its current transaction: one snapshot). Scores
    sampled: `sample_ids` when given (the other side's choice), else `sample` chosen by md5(id)."""
    fp = Fingerprint()
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " AND relkind = 'r' ORDER BY relname"
        )
    ]
    for table in tables:
        fp.tables[table] = _table_checksum(conn, table)
    fp.sequences = _sequences(conn)
    for kind, query in SCHEMA_QUERIES.items():
        definitions = [row[0] for row in conn.execute(query)]
        fp.schema[kind] = {_normalized(d) if kind in NORMALIZED else d: d for d in definitions}
    if "scoring_taskscore" in fp.tables and "tasks_task" in fp.tables:
        if sample_ids is None:
            sample_ids = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM scoring_taskscore ORDER BY md5(id::text), id LIMIT %s",
                    [sample],
                )
            ]
        fp.sample_ids = list(sample_ids)
        cursor = conn.execute(
            """
            SELECT s.*, t.score_value AS task_score_value, t.status AS task_status
            FROM scoring_taskscore s JOIN tasks_task t ON t.id = s.task_id
            WHERE s.id = ANY(%s)
            """,
            [fp.sample_ids],
        )
        names = [column.name for column in cursor.description or []]
        for row in cursor:
            record = dict(zip(names, row, strict=True))
            fp.scores[record["id"]] = record
    return fp


def diff(source: Fingerprint, target: Fingerprint) -> list[str]:
    """Every difference between the source and its restored copy, one line each."""
    problems: list[str] = []
    for table in sorted(source.tables.keys() - target.tables.keys()):
        problems.append(f"table {table}: missing from the restored database")
    for table in sorted(target.tables.keys() - source.tables.keys()):
        problems.append(f"table {table}: only in the restored database")
    for table in sorted(source.tables.keys() & target.tables.keys()):
        (rows, checksum), (rows_2, checksum_2) = source.tables[table], target.tables[table]
        if rows != rows_2:
            problems.append(f"table {table}: {rows} rows in the source, {rows_2} restored")
        if checksum != checksum_2:
            problems.append(f"table {table}: content differs (checksum {checksum[:12]}… vs "
                            f"{checksum_2[:12]}…)")  # fmt: skip
    # A sequence moves outside transactions: pg_dump saves its value when it reads it, after the
    # snapshot, so a live source's may be ahead by now. What matters: the restored one is not
    # ahead of the source, and it will not hand out a value its column already holds.
    for name in sorted(source.sequences.keys() - target.sequences.keys()):
        problems.append(f"sequence {name}: missing from the restored database")
    for name in sorted(target.sequences.keys() - source.sequences.keys()):
        problems.append(f"sequence {name}: only in the restored database")
    for name in sorted(source.sequences.keys() & target.sequences.keys()):
        (before, _), (after, largest) = source.sequences[name], target.sequences[name]
        if largest is not None and (after or 0) < largest:
            problems.append(f"sequence {name}: at {after}, behind its column's largest {largest}")
        if (after or 0) > (before or 0):
            problems.append(f"sequence {name}: at {after} restored, {before} in the source")
    for kind in SCHEMA_QUERIES:
        before_defs, after_defs = source.schema[kind], target.schema[kind]
        for key in sorted(before_defs.keys() - after_defs.keys()):
            problems.append(f"{kind} missing from the restored database: {before_defs[key]}")
        for key in sorted(after_defs.keys() - before_defs.keys()):
            problems.append(f"{kind} only in the restored database: {after_defs[key]}")
    for score_id in source.sample_ids:
        before_row, after_row = source.scores.get(score_id), target.scores.get(score_id)
        if after_row is None:
            problems.append(f"score {score_id}: missing from the restored database")
        elif before_row != after_row:
            assert before_row is not None
            fields = sorted(k for k in before_row if before_row.get(k) != after_row.get(k))
            problems.append(f"score {score_id}: {', '.join(fields)} differ")
    return problems


def comparison(source: Fingerprint, target: Fingerprint) -> Comparison:
    return Comparison(
        tables=len(source.tables),
        rows=sum(rows for rows, _ in source.tables.values()),
        sample_scores=len(source.sample_ids),
        problems=diff(source, target),
    )


def compare(source_url: str, target_url: str, *, sample: int = 500) -> Comparison:
    """Compare a database with its restored copy (each read in one read-only snapshot)."""
    with connect(source_url) as source_conn, connect(target_url) as target_conn:
        source = fingerprint(source_conn, sample=sample)
        target = fingerprint(target_conn, sample_ids=source.sample_ids)
        source_conn.rollback()
        target_conn.rollback()
    return comparison(source, target)


# ----------------------------------------------------------------- the generated source database

PLANS = ["business", "pro", "free", "pro"]
VERBS = ["Add", "Fix", "Improve", "Remove", "Speed up", "Document", "Redesign", "Test",
         "Migrate", "Simplify", "Localize", "Audit", "Automate", "Split", "Cache"]  # fmt: skip
OBJECTS = ["export", "import", "login", "billing page", "search", "dashboard", "API keys",
           "webhooks", "invoices", "onboarding", "settings", "notifications", "reports",
           "task list", "mobile layout", "CSV upload", "audit log", "roles", "backups"]  # fmt: skip
ACTIONS = ["member.invited", "member.role_changed", "api_key.created", "api_key.revoked",
           "role.created", "invitation.accepted", "scoring.version_activated"]  # fmt: skip
VARIANTS = 101  # distinct (attributes, scores) shapes; a prime, so they do not align with status


def _variants(v1: Any, v2: Any) -> list[dict[str, Any]]:
    """VARIANTS shapes of a task's attributes with its scores under both versions, as the engine
    makes them (breakdowns and inputs included)."""
    from taskscore.scoring.criteria import criteria_parse
    from taskscore.scoring.engine import score_from_values
    from taskscore.scoring.recompute import INPUTS_VERSION

    out = []
    for k in range(VARIANTS):
        attributes = {
            "reach": float((k * 37) % 1000),
            "impact": float((k * 7) % 11),
            "confidence": float((k * 13) % 101),
            "effort": float((k * 3) % 11),
        }
        ratings = {"clarity": float((k * 5) % 11)}
        shape: dict[str, Any] = {"attributes": attributes}
        for label, version in (("v1", v1), ("v2", v2)):
            result = score_from_values(
                criteria=criteria_parse(version.criteria),
                values={**attributes, **ratings},
                rationales={"clarity": f"Rated {ratings['clarity']:.0f}: goal and scope stated."},
            )
            shape[label] = {
                "value": result.value,
                "breakdown": result.breakdown_as_json(),
                "inputs": {
                    "inputs_version": INPUTS_VERSION, "version_id": version.pk,
                    "version": version.number, "attributes": attributes, "ratings": ratings,
                    "ai": {"provider": "openai", "model": "fake-model", "prompt_version": "drill",
                           "text_sha256": hashlib.sha256(str(k).encode()).hexdigest(),
                           "fields_sent": ["title", "description"], "redacted": k % 9 == 0,
                           "redacted_kinds": ["email"] if k % 9 == 0 else [], "skipped": {}},
                },
            }  # fmt: skip
        out.append(shape)
    return out


def _bulk_tasks(org: dict[str, Any], count: int, offset: int) -> dict[str, int]:
    """`count` tasks of the org and everything that hangs off them, in bulk SQL (one statement
    per table, the way a busy org's history looks: 96% scored, 2% failed, 1% queued, 1% being
    scored; a third of the scored ones re-scored under version 2)."""
    import json

    from django.db import connection

    shapes = org["variants"]
    params: dict[str, Any] = {
        "org": org["id"],
        "n": count,
        "offset": offset,
        "owner": org["owner_id"],
        "key": org["api_key_id"],
        "v1": org["v1"],
        "v2": org["v2"],
        "verbs": VERBS,
        "objects": OBJECTS,
        "actions": ACTIONS,
        "attributes": [json.dumps(s["attributes"]) for s in shapes],
        "v1_values": [s["v1"]["value"] for s in shapes],
        "v2_values": [s["v2"]["value"] for s in shapes],
        "v1_breakdowns": [json.dumps(s["v1"]["breakdown"]) for s in shapes],
        "v2_breakdowns": [json.dumps(s["v2"]["breakdown"]) for s in shapes],
        "v1_inputs": [json.dumps(s["v1"]["inputs"]) for s in shapes],
        "v2_inputs": [json.dumps(s["v2"]["inputs"]) for s in shapes],
    }
    # Row i (0 = newest) of the org, created over the last 200 days; a deterministic id.
    rows = f"""
        SELECT i,
               md5(%(org)s::text || '-' || i)::uuid AS id,
               now() - make_interval(secs => (i + %(offset)s) * 17.3 + 3600) AS created_at,
               CASE WHEN i %% 100 IN (3, 47) THEN 'failed'
                    WHEN i %% 100 = 71 THEN 'queued'
                    WHEN i %% 100 = 89 THEN 'scoring' ELSE 'scored' END AS status,
               1 + (i %% {VARIANTS}) AS variant,
               i %% 3 = 0 AS rescored
        FROM generate_series(0, %(n)s - 1) AS i
    """
    statements = {
        "tasks": f"""
            INSERT INTO tasks_task (id, org_id, title, description, attributes, status,
                failure_reason, created_by_id, created_by_api_key_id, enqueued_at, claimed_at,
                attempts, score_value, created_at, updated_at)
            SELECT t.id, %(org)s,
                   (%(verbs)s::text[])[1 + (t.i * 7) %% {len(VERBS)}] || ' '
                     || (%(objects)s::text[])[1 + (t.i * 11) %% {len(OBJECTS)}] || ' #' || t.i,
                   CASE WHEN t.i %% 4 = 0 THEN ''
                        ELSE 'As a user I want this so that my team saves time. '
                             || 'Done when it ships and the docs say so. Ref: ' || md5(t.id::text)
                   END,
                   ((%(attributes)s::text[])[t.variant])::jsonb,
                   t.status,
                   CASE WHEN t.status = 'failed' THEN 'The AI provider refused the request.'
                        ELSE '' END,
                   CASE WHEN t.i %% 2 = 0 THEN %(owner)s END,
                   CASE WHEN t.i %% 2 = 1 THEN %(key)s END,
                   t.created_at,
                   CASE WHEN t.status = 'queued' THEN NULL ELSE t.created_at END,
                   CASE WHEN t.status = 'queued' THEN 0 WHEN t.status = 'failed' THEN 6 ELSE 1 END,
                   CASE WHEN t.status <> 'scored' THEN NULL
                        WHEN t.rescored THEN (%(v2_values)s::float8[])[t.variant]
                        ELSE (%(v1_values)s::float8[])[t.variant] END,
                   t.created_at, t.created_at + interval '2 seconds'
            FROM ({rows}) AS t
        """,
        "scores": f"""
            INSERT INTO scoring_taskscore (task_id, version_id, value, breakdown, ai_provider,
                ai_model, ai_calls, input_tokens, output_tokens, ai_latency_ms, cost_usd,
                inputs, created_at)
            SELECT t.id, %(v1)s, (%(v1_values)s::float8[])[t.variant],
                   ((%(v1_breakdowns)s::text[])[t.variant])::jsonb, 'openai', 'fake-model',
                   t.i %% 2, 150 + t.i %% 97, 30 + t.i %% 13, 400 + t.i %% 1500,
                   round((150 + t.i %% 97) * 0.00000015 + (30 + t.i %% 13) * 0.0000006, 6),
                   ((%(v1_inputs)s::text[])[t.variant])::jsonb,
                   t.created_at + interval '2 seconds'
            FROM ({rows}) AS t WHERE t.status = 'scored'
            UNION ALL
            SELECT t.id, %(v2)s, (%(v2_values)s::float8[])[t.variant],
                   ((%(v2_breakdowns)s::text[])[t.variant])::jsonb, 'openai', 'fake-model',
                   1, 150 + t.i %% 89, 30 + t.i %% 11, 350 + t.i %% 1700,
                   round((150 + t.i %% 89) * 0.00000015 + (30 + t.i %% 11) * 0.0000006, 6),
                   ((%(v2_inputs)s::text[])[t.variant])::jsonb,
                   t.created_at + interval '1 hour'
            FROM ({rows}) AS t WHERE t.status = 'scored' AND t.rescored
        """,
        "overrides": f"""
            INSERT INTO scoring_scoreoverride (id, org_id, task_id, criterion, value,
                machine_value, reason, created_by_id, created_by_api_key_id, created_at,
                cleared_at, cleared_by_id)
            SELECT md5('override-' || t.id::text)::uuid, %(org)s, t.id,
                   CASE WHEN t.i %% 100 = 7 THEN '' ELSE 'clarity' END,
                   CASE WHEN t.i %% 100 = 7 THEN 12.5 + (t.i %% 700) / 10.0 ELSE t.i %% 11 END,
                   (%(v1_values)s::float8[])[t.variant],
                   'Reviewed with the team: ' || (%(objects)s::text[])[1 + t.i %% {len(OBJECTS)}],
                   %(owner)s, NULL, t.created_at + interval '1 day',
                   CASE WHEN t.i %% 200 = 57 THEN t.created_at + interval '2 days' END,
                   CASE WHEN t.i %% 200 = 57 THEN %(owner)s END
            FROM ({rows}) AS t WHERE t.status = 'scored' AND t.i %% 50 = 7
        """,
        "ratings": """
            INSERT INTO scoring_humanrating (org_id, task_id, criterion, rating, source,
                created_by_id, created_at)
            SELECT %(org)s, t.id, 'clarity', (t.i * 7) %% 11,
                   CASE WHEN t.i %% 80 = 5 THEN 'import' ELSE 'review' END, %(owner)s,
                   t.created_at + interval '1 day'
            FROM ({rows}) AS t WHERE t.status = 'scored' AND t.i %% 40 = 5
        """.replace("{rows}", rows),
        "usage": """
            INSERT INTO billing_usagerecord (org_id, task_id, period_start, created_at)
            SELECT %(org)s, t.id, date_trunc('month', t.created_at, 'UTC'), t.created_at
            FROM ({rows}) AS t
        """.replace("{rows}", rows),
        "meter": """
            INSERT INTO billing_meteroutbox (org_id, identifier, quantity, created_at, sent_at,
                attempts, last_error)
            SELECT %(org)s, 'task-' || t.id, 1, t.created_at,
                   CASE WHEN t.i >= 25 THEN t.created_at + interval '1 minute' END,
                   CASE WHEN t.i >= 25 THEN 1 ELSE t.i %% 3 END,
                   CASE WHEN t.i < 25 AND t.i %% 3 > 0 THEN 'Stripe answered 503.' ELSE '' END
            FROM ({rows}) AS t WHERE %(metered)s
        """.replace("{rows}", rows),
        "audit": f"""
            INSERT INTO audit_auditevent (org_id, actor_user_id, actor_api_key_id, actor_label,
                action, target_type, target_id, before, after, created_at)
            SELECT %(org)s, CASE WHEN i %% 3 > 0 THEN %(owner)s END,
                   CASE WHEN i %% 3 = 0 THEN %(key)s END,
                   CASE WHEN i %% 3 = 0 THEN 'key ts_drill' ELSE 'owner@drill.example' END,
                   (%(actions)s::text[])[1 + i %% {len(ACTIONS)}], 'membership', (i %% 500)::text,
                   jsonb_build_object('role', 'member', 'email', 'm' || i %% 500 || '@d.example'),
                   jsonb_build_object('role', 'admin', 'email', 'm' || i %% 500 || '@d.example'),
                   now() - make_interval(secs => (i + %(offset)s) * 173.0)
            FROM generate_series(0, greatest(1, %(n)s / 10) - 1) AS i
        """,
    }
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for name, statement in statements.items():
            cursor.execute(statement, {**params, "metered": org["metered"]})
            counts[name] = cursor.rowcount
        # A person's active override of the whole score is the task's current score.
        cursor.execute(
            """
            UPDATE tasks_task t SET score_value = o.value FROM scoring_scoreoverride o
            WHERE o.task_id = t.id AND o.org_id = %(org)s AND o.criterion = ''
              AND o.cleared_at IS NULL
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO billing_aiusage (org_id, period_start, calls, cost_usd, updated_at)
            SELECT %(org)s, date_trunc('month', s.created_at, 'UTC'), sum(s.ai_calls),
                   sum(s.cost_usd), max(s.created_at)
            FROM scoring_taskscore s JOIN tasks_task t ON t.id = s.task_id
            WHERE t.org_id = %(org)s GROUP BY 2
            """,
            params,
        )
    return counts


def _bulk_small(org: dict[str, Any], index: int) -> None:
    """The org's smaller tables through the ORM: invitations, Stripe's records, idempotency
    records, a preview run, an export with its binary chunks."""
    from datetime import timedelta

    from django.utils import timezone

    from taskscore.api.models import IdempotentRequest
    from taskscore.billing.models import (
        CheckoutSession,
        Invoice,
        Plan,
        StripeEvent,
        Subscription,
    )
    from taskscore.datarights.models import OrgExport, OrgExportChunk
    from taskscore.orgs.models import Invitation
    from taskscore.rbac.services import role_builtin
    from taskscore.scoring.models import PreviewRun

    now = timezone.now()
    org_id, owner_id = org["id"], org["owner_id"]
    member = role_builtin("member")
    Invitation.objects.bulk_create(
        Invitation(
            org_id=org_id, email=f"invitee{k}@org{index}.drill.example", role=member,
            token_hash=hashlib.sha256(f"invite-{org_id}-{k}".encode()).hexdigest(),
            invited_by_id=owner_id, expires_at=now + timedelta(days=7 - k),
            accepted_at=now - timedelta(hours=k) if k % 3 == 0 else None,
            revoked_at=now - timedelta(hours=k) if k % 3 == 1 else None,
        )
        for k in range(12)
    )  # fmt: skip
    plan = Plan.objects.get(code=PLANS[index % len(PLANS)])
    customer = f"cus_drill{org_id}"
    if plan.code != "free":
        Subscription.objects.create(
            org_id=org_id, stripe_subscription_id=f"sub_drill{org_id}",
            stripe_customer_id=customer, price_id=plan.stripe_price_id, plan=plan,
            status="active", current_period_start=now - timedelta(days=10),
            current_period_end=now + timedelta(days=20), created=now - timedelta(days=190),
            state_created=int((now - timedelta(days=10)).timestamp()),
        )  # fmt: skip
        CheckoutSession.objects.create(
            org_id=org_id, stripe_session_id=f"cs_drill{org_id}", plan=plan,
            completed_at=now - timedelta(days=190), stripe_subscription_id=f"sub_drill{org_id}",
        )  # fmt: skip
        Invoice.objects.bulk_create(
            Invoice(
                org_id=org_id, stripe_invoice_id=f"in_drill{org_id}_{m}",
                stripe_subscription_id=f"sub_drill{org_id}", number=f"DRILL-{org_id}-{m:04d}",
                status="paid" if m else "open", currency="usd",
                amount_due=plan.price_amount or 1234, amount_paid=plan.price_amount if m else 0,
                hosted_invoice_url=f"https://invoice.stripe.example/in_drill{org_id}_{m}",
                created=now - timedelta(days=30 * m), state_created=1_700_000_000 + m,
            )
            for m in range(7)
        )  # fmt: skip
        StripeEvent.objects.bulk_create(
            StripeEvent(
                event_id=f"evt_drill{org_id}_{k}", type=kind, org_id=org_id,
                created=1_700_000_000 + 60 * k,
                payload={"id": f"evt_drill{org_id}_{k}", "type": kind, "created": 1_700_000_000,
                         "data": {"object": {"customer": customer, "amount": 1900 + k,
                                             "lines": [{"price": plan.stripe_price_id}]}}},
                status="applied" if k % 10 else "ignored",
                reason="" if k % 10 else "older than the state", attempts=1, applied_at=now,
            )
            for k, kind in enumerate(
                ["customer.subscription.updated", "invoice.created", "invoice.finalized",
                 "invoice.paid", "invoice.payment_succeeded"] * 8
            )
        )  # fmt: skip
    IdempotentRequest.objects.bulk_create(
        IdempotentRequest(
            caller=f"user:{owner_id}", key=f"drill-{org_id}-{k}",
            request_hash=hashlib.sha256(f"POST /tasks {k}".encode()).hexdigest(),
            response_status=201, response_content_type="application/json",
            response_body=f'{{"id": "{k}", "title": "Task \u00e9\u00e8 {k}"}}'.encode(),
        )
        for k in range(40)
    )  # fmt: skip
    PreviewRun.objects.create(
        org_id=org_id, criteria=[{"kind": "attribute", "key": "reach", "weight": 1}], limit=20,
        task_ids=[], status="done", total=20, done=20,
        items=[{"rank": k, "current": 50.0 + k / 3, "new": 48.25 + k / 7} for k in range(20)],
        created_by_id=owner_id, started_at=now, finished_at=now,
    )  # fmt: skip
    export = OrgExport.objects.create(
        org_id=org_id, status="done", created_by_id=owner_id, started_at=now, finished_at=now,
        expires_at=now + timedelta(hours=24), total=3, done=3,
    )  # fmt: skip
    chunks = [
        b"".join(
            hashlib.sha256(f"{org_id}-{seq}-{n}".encode()).digest() for n in range(2048)
        )  # 64 KiB that do not compress, as gzip output does not
        for seq in range(3)
    ]
    OrgExportChunk.objects.bulk_create(
        OrgExportChunk(export=export, seq=seq, data=data) for seq, data in enumerate(chunks)
    )
    OrgExport.objects.filter(pk=export.pk).update(
        size_bytes=sum(map(len, chunks)), sha256=hashlib.sha256(b"".join(chunks)).hexdigest()
    )


def populate(*, tasks: int, orgs: int) -> dict[str, int]:
    """Fill the configured (migrated) database as described in the module's docstring; returns
    how many rows of the main kinds were made. Needs Django set up, and Redis (the members
    service invalidates cached permissions)."""
    import io
    import json

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction

    from taskscore.accounts.models import User
    from taskscore.orgs.models import ApiKey, Membership
    from taskscore.orgs.services import member_role_change
    from taskscore.rbac.callers import OPERATOR
    from taskscore.rbac.services import role_builtin, role_create
    from taskscore.scoring.models import ScoringVersion
    from taskscore.scoring.services import version_activate, version_create, version_publish

    weights = [orgs - k for k in range(orgs)]  # the first org the largest
    totals: dict[str, int] = {}
    offset = 0
    for index in range(orgs):
        out = io.StringIO()
        call_command("createorg", name=f"Drill org {index + 1}",
                     owner_email=f"owner{index + 1}@drill.example",
                     plan=PLANS[index % len(PLANS)], json=True, stdout=out)  # fmt: skip
        created = json.loads(out.getvalue())
        org_id = created["org"]["id"]
        owner_id = created["owner"]["id"]
        with transaction.atomic():
            users = User.objects.bulk_create(
                User(email=f"member{k}@org{index + 1}.drill.example", name=f"Member {k}",
                     password=make_password(None))
                for k in range(12)
            )  # fmt: skip
            roles = [role_builtin(key) for key in ("member", "viewer", "admin")]
            memberships = Membership.objects.bulk_create(
                Membership(org_id=org_id, user=user, role=roles[k % 3])
                for k, user in enumerate(users)
            )
        for membership in memberships[:3]:
            member_role_change(org_id=org_id, membership_id=membership.pk, role_key="admin",
                               caller=OPERATOR)  # fmt: skip
        if PLANS[index % len(PLANS)] == "business":
            role_create(org_id=org_id, key="analyst", name="Analyst",
                        permissions=sorted(role_builtin("viewer").permissions),
                        caller=OPERATOR)  # fmt: skip
        v1 = ScoringVersion.objects.get(org_id=org_id, is_active=True)
        criteria = [
            {**c, "weight": c["weight"] + 1} if c["key"] == "impact" else c for c in v1.criteria
        ]
        draft = version_create(org_id=org_id, model_id=v1.model_id, criteria=criteria,
                               notes="Impact weighs more", user_id=owner_id)  # fmt: skip
        version_publish(org_id=org_id, model_id=v1.model_id, number=draft.number)
        v2 = version_activate(org_id=org_id, model_id=v1.model_id, number=draft.number)
        count = tasks * weights[index] // sum(weights) if index < orgs - 1 else tasks - offset
        org = {
            "id": org_id,
            "owner_id": owner_id,
            "api_key_id": ApiKey.objects.get(prefix=created["api_key"]["prefix"]).pk,
            "v1": v1.pk,
            "v2": v2.pk,
            "variants": _variants(v1, v2),
            "metered": PLANS[index % len(PLANS)] == "business",
        }
        with transaction.atomic():
            counts = _bulk_tasks(org, count, offset)
            _bulk_small(org, index)
        for name, n in counts.items():
            totals[name] = totals.get(name, 0) + n
        offset += count
    return totals


# ---------------------------------------------------------------------------------- the drill


def main() -> None:
    # Here, not at the top: the test imports this module's functions without bench/ on the path.
    from common import bench_env, django_setup, emit

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below
    pid = os.getpid()
    env = bench_env(
        "backup-drill",
        RBAC_CACHE_PREFIX=f"rbac-backup-drill-{pid}",
        RATE_LIMIT_PREFIX=f"rl-backup-drill-{pid}",
        AI_CACHE_KEY_PREFIX=f"ai-backup-drill-{pid}",
        DATABASE_POOL_MAX_SIZE="0",  # no pooled connections left open on the dumped database
    )
    name = f"taskscore_backup_drill_{pid}"
    restored_url = with_database(env["DATABASE_URL"], f"{name}_restored")
    generated = not SOURCE_URL
    source_url = SOURCE_URL or with_database(env["DATABASE_URL"], name)
    dump_dir = Path(tempfile.mkdtemp(prefix="taskscore-backup-drill-"))
    dump_path = dump_dir / "taskscore.dump"
    load_s: float | None = None
    try:
        if generated:
            database_drop(source_url)
            env["DATABASE_URL"] = source_url
            started = time.monotonic()
            django_setup(env)  # creates and migrates it
            from django.db import connections

            totals = populate(tasks=TASKS, orgs=ORGS)
            connections.close_all()
            load_s = time.monotonic() - started
            labels = {"tasks": "tasks", "scores": "scores", "audit": "audit events",
                      "usage": "usage records"}  # fmt: skip
            made = ", ".join(f"{totals[k]:,} {label}" for k, label in labels.items())
            print(f"source: {database_name(source_url)}, generated in {load_s:.1f} s: "
                  f"{ORGS} orgs, {made}")  # fmt: skip
        else:
            print(f"source: {database_name(source_url)} on {urlsplit(source_url).hostname} "
                  "(existing; read only)")  # fmt: skip
        print(f"server {server_version(source_url)}, pg_dump {tool_version('pg_dump')}, "
              f"pg_restore {tool_version('pg_restore')}")  # fmt: skip

        with source_snapshot(source_url) as (conn, snapshot):
            dump_s = dump(source_url, dump_path, snapshot=snapshot)
            started = time.monotonic()
            source = fingerprint(conn, sample=SAMPLE)
            compare_s = time.monotonic() - started
        dump_mb = dump_path.stat().st_size / 1_000_000
        print(f"pg_dump --format=custom: {dump_mb:.2f} MB in {dump_s:.2f} s ({dump_path})")

        database_drop(restored_url)
        database_create(restored_url)
        restore_s = restore(dump_path, restored_url)
        print(f"pg_restore into {database_name(restored_url)}: {restore_s:.2f} s")

        started = time.monotonic()
        with connect(restored_url) as conn:
            target = fingerprint(conn, sample_ids=source.sample_ids)
            conn.rollback()
        compare_s += time.monotonic() - started
        result = comparison(source, target)
        schema = sum(len(definitions) for definitions in source.schema.values())
        print(f"compared {result.tables} tables ({result.rows:,} rows: counts and content "
              f"checksums), {len(source.sequences)} sequences, {schema} schema objects, "
              f"{result.sample_scores} sampled scores value by value, in {compare_s:.2f} s: "
              f"{result.mismatches} mismatches")  # fmt: skip
        for problem in result.problems[:50]:
            print(f"  MISMATCH {problem}")
        if len(result.problems) > 50:
            print(f"  … and {len(result.problems) - 50} more")
    finally:
        if KEEP:
            kept = [database_name(restored_url)]
            if generated:
                kept.append(database_name(source_url))
            print(f"kept (BACKUP_DRILL_KEEP=1): databases {', '.join(kept)}; dump {dump_path}")
        else:
            shutil.rmtree(dump_dir, ignore_errors=True)
            database_drop(restored_url)
            if generated:  # never the existing database given as the source
                database_drop(source_url)
    emit(
        {
            "tables": result.tables,
            "rows": result.rows,
            "mismatches": result.mismatches,
            "dump_mb": round(dump_mb, 2),
            "dump_s": round(dump_s, 2),
            "restore_s": round(restore_s, 2),
            "sample_scores": result.sample_scores,
            "compare_s": round(compare_s, 2),
            "load_s": round(load_s, 1) if load_s is not None else None,
            "source": "generated" if generated else "existing",
        }
    )
    if result.mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
