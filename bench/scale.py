"""`make bench-scale`: do the API's reads stay flat as an org's data grows from 10k to 1M tasks?

In its own database (`taskscore_scale`, created here and dropped at the end), two orgs shaped the
same — one with 1,000,000 tasks, one with 10,000 — are loaded with bulk SQL (`INSERT ... SELECT`
over `generate_series`, one transaction per table, the secondary indexes dropped before and rebuilt
after, as a restore does; then `VACUUM ANALYZE`), not through the API: each task's score (97%
scored, 2% failed, 1% queued), the task's usage record, and one audit event per 20 tasks, all
spread over the last 180 days; the newest 30 days of usage count in the current period (a
month's usage, as on a period's last day: 166,667 records at 1M). The titles' words (the title
search's index, `tasks_taskword`) are added by its trigger as the tasks are inserted, its primary
key built after them. Each read is then timed through the whole API stack in this process
(Django's test client: middleware, API-key auth, the permission cache, the selectors, the
presenters), the two orgs alternating so that both share the machine's load:

  list_first    GET /api/v2/orgs/{org}/tasks (50, newest first)
  list_deep     the same, with the cursor ~4,000 rows deep (followed through next_cursor)
  get           GET /api/v2/orgs/{org}/tasks/{id} (ids spread over the whole org)
  search        ?q=<a word in 0.1% of titles> (a page of its 10 tasks at 10k, of 50 of 1,000 at 1M)
  search_10     the same with limit=10: a full page at both sizes (10 of 10, 10 of 1,000), which
                tells the cost of the matches from that of the page's size
  search_page   ?q=<a word in 0.5% of titles>: a full page of 50 at both sizes (of 50, of 5,000)
  search_prefix ?q=<the first letters of that word> (as typed)
  search_words  ?q=<a word in 5% of titles> <the first letters of the rare one> (all of its titles
                have both)
  search_ranked ?q=<the rare word>&sort=-score (the index does not hold the score: the word's
                tasks are gathered and sorted, so this one is not flat; left out of the maximum)
  ranked        ?sort=-score
  status        ?status=failed
  audit         GET /api/v2/orgs/{org}/audit-events
  billing       GET /api/v2/orgs/{org}/billing (the usage count of the period)
  v1_offset     GET /api/v1/tasks?offset=4000 (v1 pages by offset and returns the count)

The last line prints each read's median and p95 at both sizes, `<read>_ratio_1m_to_10k`
(median over median) and `max_ratio_1m_to_10k` (over the reads that must be flat), plus v1 at
offset 900,000 (1M only).

Knobs: BENCH_SCALE_BIG (1000000), BENCH_SCALE_SMALL (10000), BENCH_SCALE_REPS (30),
BENCH_SCALE_KEEP=1 keeps the database (a second run then skips the load).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from common import bench_env, django_setup, emit, org_create

BIG = int(os.environ.get("BENCH_SCALE_BIG", "1000000"))
SMALL = int(os.environ.get("BENCH_SCALE_SMALL", "10000"))
REPS = int(os.environ.get("BENCH_SCALE_REPS", "30"))
KEEP = os.environ.get("BENCH_SCALE_KEEP", "") == "1"
DATABASE = "taskscore_scale"
SPAN_DAYS = 180
RARE_WORD = "zephyr"  # in 1 title of 1,000 (each of them begins with "Add", in 5% of titles)
PAGE_WORD = "nimbus"  # in 1 title of 200: 50 at 10k, a full page
DEEP_ROWS = 4000

VERBS = ["Add", "Fix", "Improve", "Remove", "Speed up", "Document", "Redesign", "Test",
         "Migrate", "Simplify", "Localize", "Audit", "Automate", "Split", "Merge", "Cache",
         "Validate", "Monitor", "Refactor", "Harden"]  # fmt: skip
OBJECTS = ["export", "import", "login", "billing page", "search", "dashboard", "API keys",
           "webhooks", "invoices", "onboarding", "settings", "notifications", "reports",
           "task list", "mobile layout", "dark mode", "CSV upload", "audit log", "roles",
           "password reset", "email digest", "charts", "filters", "sharing", "comments",
           "attachments", "calendar sync", "SSO", "rate limits", "backups"]  # fmt: skip
AREAS = ["for admins", "for new users", "on mobile", "in the web app", "in the API",
         "for large orgs", "for viewers", "in reports", "before the release", "for EU customers",
         "in the worker", "for trials"]  # fmt: skip
ACTIONS = ["member.invited", "member.role_changed", "api_key.created", "api_key.revoked",
           "role.created", "role.updated", "member.removed", "invitation.accepted"]  # fmt: skip
VARIANTS = 997  # distinct (attributes, score) shapes; a prime, so they do not align with status


def _database_url(env: dict[str, str]) -> str:
    return urlunsplit(urlsplit(env["DATABASE_URL"])._replace(path=f"/{DATABASE}"))


def _drop_database(url: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _variants(
    criteria: list[dict[str, Any]],
) -> list[tuple[dict[str, float], float, str, str]]:
    """VARIANTS (attributes, score value, breakdown JSON, inputs JSON) as the engine makes them."""
    import json

    from taskscore.scoring.criteria import criteria_parse
    from taskscore.scoring.engine import score_from_values
    from taskscore.scoring.recompute import INPUTS_VERSION

    parsed = criteria_parse(criteria)
    out = []
    for k in range(VARIANTS):
        attributes = {
            "reach": float((k * 37) % 1000),
            "impact": float((k * 7) % 11),
            "confidence": float((k * 13) % 101),
            "effort": float((k * 3) % 11),
        }
        ratings = {"clarity": float((k * 5) % 11)}
        values: dict[str, float | None] = {**attributes, **ratings}
        result = score_from_values(
            criteria=parsed, values=values, rationales={"clarity": "Clear enough."}
        )
        inputs = {
            "inputs_version": INPUTS_VERSION,
            "attributes": attributes,
            "ratings": ratings,
            "ai": {"provider": "openai", "model": "fake-model", "prompt_version": "bench",
                   "text_sha256": "0" * 64, "fields_sent": ["title", "description"],
                   "redacted": False, "redacted_kinds": [], "skipped": {}},
        }  # fmt: skip
        out.append(
            (
                attributes,
                result.value,
                json.dumps(result.breakdown_as_json()),
                json.dumps(inputs),
            )
        )
    return out


def _secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(DROP, CREATE) statements of the table's indexes that back no constraint."""
    cursor.execute(
        """
        SELECT 'DROP INDEX ' || i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [table],
    )
    return list(cursor.fetchall())


def _foreign_keys(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(DROP, ADD) statements of the table's foreign keys: checked once, in one join, when added
    back (as pg_restore does), instead of row by row at commit."""
    cursor.execute(
        """
        SELECT format('ALTER TABLE %%I DROP CONSTRAINT %%I', %s, conname),
               format('ALTER TABLE %%I ADD CONSTRAINT %%I %%s', %s, conname,
                      pg_get_constraintdef(oid))
        FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'
        """,
        [table, table, table],
    )
    return list(cursor.fetchall())


def _primary_key(cursor: Any, table: str) -> tuple[str, str]:
    """(DROP, ADD) statements of the table's primary key."""
    cursor.execute(
        """
        SELECT format('ALTER TABLE %%I DROP CONSTRAINT %%I', %s, conname),
               format('ALTER TABLE %%I ADD CONSTRAINT %%I %%s', %s, conname,
                      pg_get_constraintdef(oid))
        FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'
        """,
        [table, table, table],
    )
    return cursor.fetchone()


TABLES = [
    "tasks_task",
    "scoring_taskscore",
    "billing_usagerecord",
    "audit_auditevent",
    "tasks_taskword",
]
# Filled by a trigger as tasks are inserted, nothing refers to it: its primary key is built once
# after the load (sorted) rather than entry by entry during it.
DERIVED = ["tasks_taskword"]
# Reads whose cost follows the matches by design (docs/performance.md): left out of the maximum.
NOT_FLAT = {"search_ranked"}


def _load(org_id: int, version_id: int, count: int, variants: list[Any]) -> None:
    """`count` tasks of the org with their scores, usage records and audit events, in bulk SQL."""
    import json

    from django.db import connection, transaction

    attributes = [json.dumps(v[0]) for v in variants]
    values = [v[1] for v in variants]
    breakdowns = [v[2] for v in variants]
    inputs = [json.dumps({**json.loads(v[3]), "version_id": version_id, "version": 1})
              for v in variants]  # fmt: skip
    common = {
        "org": org_id,
        "n": count,
        "span": f"{SPAN_DAYS} days",
        "verbs": VERBS,
        "objects": OBJECTS,
        "areas": AREAS,
        "rare": RARE_WORD,
        "page_word": PAGE_WORD,
    }
    # Row i (0 = newest) of the org: created at now - i/n of the span; a deterministic id.
    task_rows = f"""
        SELECT i,
               md5(%(org)s::text || '-' || i)::uuid AS id,
               now() - (i::float8 / %(n)s) * %(span)s::interval AS created_at,
               CASE WHEN i %% 100 IN (3, 47) THEN 'failed'
                    WHEN i %% 100 = 71 THEN 'queued' ELSE 'scored' END AS status,
               1 + (i %% {VARIANTS}) AS variant
        FROM generate_series(0, %(n)s - 1) AS i
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO tasks_task (id, org_id, title, description, attributes, status,
                failure_reason, enqueued_at, claimed_at, attempts, score_value, created_at,
                updated_at)
            SELECT t.id, %(org)s,
                   (%(verbs)s::text[])[1 + (t.i * 7) %% {len(VERBS)}] || ' '
                     || (%(objects)s::text[])[1 + (t.i * 11) %% {len(OBJECTS)}] || ' '
                     || (%(areas)s::text[])[1 + (t.i * 13) %% {len(AREAS)}]
                     || CASE WHEN t.i %% 1000 = 500 THEN ' (' || %(rare)s || ')' ELSE '' END
                     || CASE WHEN t.i %% 200 = 37 THEN ' [' || %(page_word)s || ']' ELSE '' END
                     || ' #' || t.i,
                   'As a user I want this so that my team saves time. Done when it ships.',
                   ((%(attributes)s::text[])[t.variant])::jsonb,
                   t.status,
                   CASE WHEN t.status = 'failed' THEN 'The AI provider refused the request.'
                        ELSE '' END,
                   t.created_at,
                   CASE WHEN t.status = 'queued' THEN NULL ELSE t.created_at END,
                   CASE WHEN t.status = 'queued' THEN 0 ELSE 1 END,
                   CASE WHEN t.status = 'scored' THEN (%(values)s::float8[])[t.variant] END,
                   t.created_at, t.created_at
            FROM ({task_rows}) AS t
            """,
            {**common, "attributes": attributes, "values": values},
        )
        cursor.execute(
            f"""
            INSERT INTO scoring_taskscore (task_id, version_id, value, breakdown, ai_provider,
                ai_model, ai_calls, input_tokens, output_tokens, ai_latency_ms, cost_usd,
                inputs, created_at)
            SELECT t.id, %(version)s, (%(values)s::float8[])[t.variant],
                   ((%(breakdowns)s::text[])[t.variant])::jsonb, 'openai', 'fake-model', 1,
                   180, 40, 900, 0.000120, ((%(inputs)s::text[])[t.variant])::jsonb,
                   t.created_at + interval '2 seconds'
            FROM ({task_rows}) AS t
            WHERE t.status = 'scored'
            """,
            {**common, "version": version_id, "values": values, "breakdowns": breakdowns,
             "inputs": inputs},
        )  # fmt: skip
        cursor.execute(
            f"""
            INSERT INTO billing_usagerecord (org_id, task_id, period_start, created_at)
            SELECT %(org)s, t.id,
                   date_trunc('month', now(), 'UTC')
                     - make_interval(months => floor(t.i::float8 / %(n)s * {SPAN_DAYS} / 30)::int),
                   t.created_at
            FROM ({task_rows}) AS t
            """,
            common,
        )
        cursor.execute(
            f"""
            INSERT INTO audit_auditevent (org_id, actor_user_id, actor_label, action,
                target_type, target_id, before, after, created_at)
            SELECT %(org)s, NULL, 'owner' || (i %% 7) || '@scale.example',
                   (%(actions)s::text[])[1 + i %% {len(ACTIONS)}], 'member', (i %% 5000)::text,
                   '{{"role": "member"}}'::jsonb, '{{"role": "admin"}}'::jsonb,
                   now() - (i::float8 / %(events)s) * %(span)s::interval
            FROM generate_series(0, %(events)s - 1) AS i
            """,
            {**common, "actions": ACTIONS, "events": max(1, count // 20)},
        )


def _prepare(count_big: int, count_small: int) -> dict[str, Any]:
    from django.db import connection

    from taskscore.orgs.models import Organization
    from taskscore.scoring.selectors import version_active_require

    existing = {o.slug: o for o in Organization.objects.filter(slug__startswith="scale-")}
    orgs: dict[str, Any] = {}
    loaded = "scale-big" in existing
    started = time.monotonic()
    if not loaded:
        import json

        for label in ("big", "small"):
            created = org_create(f"Scale {label}", f"{label}@scale.example")
            Organization.objects.filter(pk=created["org"]["id"]).update(slug=f"scale-{label}")
            orgs[label] = {
                "id": created["org"]["id"],
                "token": created["api_key"]["token"],
            }
        version = version_active_require(org_id=orgs["big"]["id"])
        variants = _variants(version.criteria)
        with connection.cursor() as cursor:
            dropped = [
                d
                for table in TABLES
                for d in _foreign_keys(cursor, table) + _secondary_indexes(cursor, table)
            ] + [_primary_key(cursor, table) for table in DERIVED]
            for drop, _ in dropped:
                cursor.execute(drop)
        for label, count in (("big", count_big), ("small", count_small)):
            version_id = version_active_require(org_id=orgs[label]["id"]).pk
            _load(orgs[label]["id"], version_id, count, variants)
        with connection.cursor() as cursor:
            for _, create in dropped:
                cursor.execute(create)
        connection.ensure_connection()
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"VACUUM ANALYZE {table}")
        state = {label: orgs[label] for label in orgs}
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS bench_scale_state (state jsonb)")
            cursor.execute("INSERT INTO bench_scale_state VALUES (%s)", [json.dumps(state)])
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT state FROM bench_scale_state")
            import json

            raw = cursor.fetchone()[0]
            orgs = raw if isinstance(raw, dict) else json.loads(raw)
    return {
        "orgs": orgs,
        "load_s": round(time.monotonic() - started, 1),
        "loaded": not loaded,
    }


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    env = bench_env(
        "scale",
        RATE_LIMITS_ENABLED="false",
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        RBAC_CACHE_PREFIX=f"rbac-scale-{os.getpid()}",
    )
    env["DATABASE_URL"] = _database_url(env)
    if not KEEP:
        _drop_database(env["DATABASE_URL"])
    django_setup(env)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.DEBUG = False  # no query log kept in memory
    from django.urls import get_resolver

    assert get_resolver().url_patterns  # import every view and selector now, before the load
    try:
        prepared = _prepare(BIG, SMALL)
        orgs = prepared["orgs"]
        clients = {
            label: Client(HTTP_AUTHORIZATION=f"Bearer {orgs[label]['token']}")
            for label in ("big", "small")
        }
        sizes = {"big": BIG, "small": SMALL}
        errors = 0

        def get(label: str, path: str) -> Any:
            nonlocal errors
            response = clients[label].get(path)
            if response.status_code != 200:
                errors += 1
                raise SystemExit(f"{path} answered {response.status_code}: {response.content!r}")
            return response.json()

        # A cursor ~4,000 rows deep, followed page by page; ids spread over each org.
        deep: dict[str, str] = {}
        ids: dict[str, list[str]] = {}
        for label in ("big", "small"):
            slug = f"scale-{label}"
            cursor = None
            for _ in range(DEEP_ROWS // 50):
                page = get(label, f"/api/v2/orgs/{slug}/tasks?limit=50"
                           + (f"&cursor={cursor}" if cursor else ""))  # fmt: skip
                cursor = page["next_cursor"]
            deep[label] = cursor or ""
            with connection.cursor() as db:
                db.execute(
                    "SELECT md5(%s::text || '-' || i)::uuid::text"
                    " FROM generate_series(0, %s, %s) i",
                    [orgs[label]["id"], sizes[label] - 1, max(1, sizes[label] // 20)],
                )
                ids[label] = [row[0] for row in db.fetchall()]

        def paths(label: str, rep: int) -> dict[str, str]:
            base = f"/api/v2/orgs/scale-{label}"
            return {
                "list_first": f"{base}/tasks?limit=50",
                "list_deep": f"{base}/tasks?limit=50&cursor={deep[label]}",
                "get": f"{base}/tasks/{ids[label][rep % len(ids[label])]}",
                "search": f"{base}/tasks?limit=50&q={RARE_WORD}",
                "search_10": f"{base}/tasks?limit=10&q={RARE_WORD}",
                "search_page": f"{base}/tasks?limit=50&q={PAGE_WORD}",
                "search_prefix": f"{base}/tasks?limit=50&q={RARE_WORD[:4]}",
                "search_words": f"{base}/tasks?limit=50&q=add%20{RARE_WORD[:4]}",
                "search_ranked": f"{base}/tasks?limit=50&q={RARE_WORD}&sort=-score",
                "ranked": f"{base}/tasks?limit=50&sort=-score",
                "status": f"{base}/tasks?limit=50&status=failed",
                "audit": f"{base}/audit-events?limit=50",
                "billing": f"{base}/billing",
                "v1_offset": "/api/v1/tasks?limit=50&offset=4000",
            }

        samples: dict[str, dict[str, list[float]]] = {}
        for rep in range(-3, REPS):  # three rounds of warm-up
            for label in ("small", "big") if rep % 2 else ("big", "small"):
                for name, path in paths(label, rep).items():
                    started = time.perf_counter()
                    get(label, path)
                    elapsed = (time.perf_counter() - started) * 1000
                    if rep >= 0:
                        samples.setdefault(name, {}).setdefault(label, []).append(elapsed)
        far: list[float] = []
        far_offset = max(0, BIG - 100_000)
        for rep in range(-1, 5):
            started = time.perf_counter()
            get("big", f"/api/v1/tasks?limit=50&offset={far_offset}")
            if rep >= 0:
                far.append((time.perf_counter() - started) * 1000)

        figures: dict[str, Any] = {
            "tasks_big": BIG,
            "tasks_small": SMALL,
            "reps": REPS,
            "load_s": prepared["load_s"] if prepared["loaded"] else None,
        }
        ratios: dict[str, float] = {}
        for name, by_label in samples.items():
            big, small = by_label["big"], by_label["small"]
            figures[f"{name}_10k_ms"] = round(statistics.median(small), 2)
            figures[f"{name}_1m_ms"] = round(statistics.median(big), 2)
            figures[f"{name}_10k_p95_ms"] = round(_percentile(small, 0.95), 2)
            figures[f"{name}_1m_p95_ms"] = round(_percentile(big, 0.95), 2)
            ratios[name] = statistics.median(big) / statistics.median(small)
            figures[f"{name}_ratio_1m_to_10k"] = round(ratios[name], 3)
        figures[f"v1_offset_{far_offset}_1m_ms"] = round(statistics.median(far), 2)
        flat = {name: ratio for name, ratio in ratios.items() if name not in NOT_FLAT}
        figures["max_ratio_1m_to_10k"] = round(max(flat.values()), 3)
        figures["max_ratio_read"] = max(flat, key=lambda k: flat[k])
        figures["not_flat_by_design"] = sorted(NOT_FLAT)
        figures["errors"] = errors
        figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    finally:
        connection.close()
        if not KEEP:
            _drop_database(env["DATABASE_URL"])
    emit(figures)


if __name__ == "__main__":
    main()
