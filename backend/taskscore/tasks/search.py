"""The task list's title search (`q`), served by the words index (`TaskWord`; ADR 0014).

What matches. `q` and every title are split into words: runs of letters and digits, lower-cased
(`tasks_title_words()` in Postgres, the one definition, which the triggers keeping the index use
too). A task matches when its title has every word of `q`, in any order and any case, the last
one possibly as the start of a longer word (as one types: "dark mo" finds "Dark mode", "zeph"
finds "Zephyr"). A `q` without a letter or digit filters nothing.

How a page is found, in the list's own order, so that it costs about a page of rows rather than
a row per match:

- Newest or oldest first: one term of `q` drives. Its index rows are read in the list's order
  from the cursor on (for the last word, the rows of each indexed word starting with it, merged),
  each row's task checked against the rest of the search and the list's other filters, until the
  page is full. With several words, the one whose rows are the sparsest at the start of the list
  drives (MEASURE_ROWS rows of each tell). A last word that starts more than PREFIX_WORDS_MAX
  indexed words (one or two letters) is common: the list itself is walked, each task checked.
- By score, which the index does not hold: the driving term's tasks are gathered and sorted while
  they are fewer than sqrt(page size × the org's tasks); a more common term walks the list in
  score order, each task checked. Either way up to about that many rows: not flat as the org
  grows (docs/performance.md, "Flat with data").

Every task returned is checked against its current title, so a word the index holds too many
(none is ever missing) cannot make a task match wrongly."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.db.models.lookups import Regex

from taskscore.core.cursor import Ordering, cursor_decode, cursor_encode, page_keyset
from taskscore.core.errors import FieldError, ValidationFailed
from taskscore.tasks.models import Task, TaskCount, TaskWord

# The most indexed words a last word of `q` is merged from (an index range each); beyond, the
# list is walked.
PREFIX_WORDS_MAX = 32
# How many index rows of each term tell which term drives a search of several words.
MEASURE_ROWS = 200
# The most index rows one round of a page reads and checks.
ROUND_ROWS_MAX = 4096

_WORDS = TaskWord._meta.db_table
_COUNTS = TaskCount._meta.db_table
_TASKS = Task._meta.db_table
# A task's keys in the order of its columns (as `Model.from_db` takes them).
_KEYS = [
    f.attname for f in Task._meta.concrete_fields if f.attname in ("id", "created_at", "updated_at")
]
# A word as `tasks_title_words()` cuts them: what precedes and follows it is no letter or digit.
_BEFORE, _AFTER = "(^|[^[:alnum:]])", "($|[^[:alnum:]])"


@dataclass(frozen=True)
class Term:
    """A word of `q`, and the indexed words it stands for."""

    word: str
    prefix: bool  # the last word of `q`: a title word starting with it matches
    # For a prefix: the org's indexed words starting with it, or None when there are more than
    # PREFIX_WORDS_MAX (too common to merge). For a whole word: itself.
    indexed: tuple[str, ...] | None


@dataclass(frozen=True)
class TitleSearch:
    """A parsed `q` of one org."""

    org_id: int
    terms: tuple[Term, ...]

    @property
    def nothing(self) -> bool:
        """No title of the org has a word starting with the prefix: nothing matches."""
        return any(t.prefix and t.indexed == () for t in self.terms)


_PARSE = f"""
WITH RECURSIVE terms AS (
    SELECT w, n FROM unnest(tasks_title_words(%s)) WITH ORDINALITY AS t(w, n)
), bounds AS (
    SELECT w AS low, w || chr(1114111) AS high FROM terms ORDER BY n DESC LIMIT 1
), starting(word, k) AS (
    SELECT (SELECT x.word FROM {_WORDS} AS x
            WHERE x.org_id = %s AND x.word >= (SELECT low FROM bounds)
              AND x.word < (SELECT high FROM bounds)
            ORDER BY x.word LIMIT 1), 1
    UNION ALL
    SELECT (SELECT x.word FROM {_WORDS} AS x
            WHERE x.org_id = %s AND x.word > s.word AND x.word < (SELECT high FROM bounds)
            ORDER BY x.word LIMIT 1), s.k + 1
    FROM starting AS s WHERE s.word IS NOT NULL AND s.k <= %s
)"""  # noqa: S608 - the models' table names; values as parameters
_PARSED = """ARRAY(SELECT w FROM terms ORDER BY n),
    ARRAY(SELECT word FROM starting WHERE word IS NOT NULL ORDER BY k)"""
# Runs of letters and digits as Python sees them: a guess of how many words Postgres finds.
_GUESS = re.compile(r"[^\W_]+")


def _parse_params(org_id: int, q: str) -> list[Any]:
    return [q, org_id, org_id, PREFIX_WORDS_MAX]


def _parsed(org_id: int, words: list[str], starting: list[str]) -> TitleSearch | None:
    """The search of `q`'s words (split by Postgres) given the org's indexed words that start
    with the last one (up to PREFIX_WORDS_MAX + 1, one index descent each: chr(1114111),
    U+10FFFF, sorts after anything a word may continue with, and words compare byte by byte).
    None when `q` has no word."""
    if not words:
        return None
    *rest, last = words
    whole = [Term(word, prefix=False, indexed=(word,)) for word in dict.fromkeys(rest)]
    if any(word.startswith(last) for word in rest):  # "mode mo": the prefix adds nothing
        return TitleSearch(org_id=org_id, terms=tuple(whole))
    indexed = tuple(starting) if len(starting) <= PREFIX_WORDS_MAX else None
    return TitleSearch(org_id=org_id, terms=(*whole, Term(last, prefix=True, indexed=indexed)))


def title_search_parse(*, org_id: int, q: str) -> TitleSearch | None:
    """`q` parsed for the org (`_parsed`). One query."""
    with connection.cursor() as cursor:
        cursor.execute(f"{_PARSE} SELECT {_PARSED}", _parse_params(org_id, q))
        words, starting = cursor.fetchone()
    return _parsed(org_id, words, starting)


def _checks(search: TitleSearch, *, but: Term | None = None) -> list[Regex]:
    """A condition on the title per term of `search` (but `but`): a regular expression on the
    lower-cased title, equivalent to comparing with the title's words (a term holds letters and
    digits only, none of which a regular expression reads as syntax)."""
    return [
        Regex(Lower("title"), f"{_BEFORE}{term.word}{'' if term.prefix else _AFTER}")
        for term in search.terms
        if term != but
    ]


def title_search_filter(tasks: QuerySet[Task], search: TitleSearch) -> QuerySet[Task]:
    """`tasks` whose title matches `search`, checked on the title itself (no index)."""
    return tasks.filter(*_checks(search))


def title_search_page(
    tasks: QuerySet[Task],
    *,
    org_id: int,
    q: str,
    ordering: Ordering,
    limit: int,
    cursor: str | None,
    keys: bool = False,
) -> tuple[list[Task], str | None]:
    """One page of the org's `tasks` (the list with its other filters) whose title matches `q`,
    in `ordering`, and the next page's cursor, as `core.cursor.page_keyset` pages. With `keys`,
    a page read from the words index has tasks holding only their id, `created_at` and
    `updated_at` (a conditional GET's check: no query of the page's tasks)."""
    after = cursor_decode(cursor, ordering) if cursor is not None else None  # a 422 first
    want = limit + 1
    by_time = ordering.keys[0].field == "created_at"
    position = _position(after) if by_time else None
    first: list[_Row] | None = None
    if by_time and len(_GUESS.findall(q)) == 1:  # one word: its first round with its parse
        search, first = _parse_with_round(tasks, org_id, q, ordering, position, want, keys)
    else:
        search = title_search_parse(org_id=org_id, q=q)
    if search is None:  # no word: no filter
        return page_keyset(tasks, ordering=ordering, limit=limit, cursor=cursor)
    if search.nothing:
        return [], None
    matching = title_search_filter(tasks, search)
    drivers = [t for t in search.terms if t.indexed]
    if not drivers:  # a prefix of too many words to merge, alone: common
        ids = _walked_ids(tasks, search, ordering, want, cursor)
    elif by_time:
        if first is not None:
            driver: Term | None = drivers[0]
        else:
            driver = drivers[0] if len(drivers) == 1 else _sparsest(search, drivers, ordering)
        if driver is None:
            return [], None
        found = _driven(tasks, search, driver, ordering, want, position, keys=keys, first=first)
        if keys:  # tasks as `.only("id", "created_at", "updated_at")` reads them
            items = [
                Task.from_db(
                    tasks.db,
                    _KEYS,
                    [{"id": r[0], "created_at": r[1], "updated_at": r[3]}[name] for name in _KEYS],
                )
                for r in found
            ]
            return _paged(items, ordering, limit)
        ids = [r[0] for r in found]
    else:
        gathered = _gathered(search, drivers, limit)
        if gathered is not None:
            if not gathered:
                return [], None
            matching = matching.filter(_among(gathered))
            return page_keyset(matching, ordering=ordering, limit=limit, cursor=cursor)
        ids = _walked_ids(tasks, search, ordering, want, cursor)
    items = list(matching.filter(_among(ids)).order_by(*ordering.order_by())) if ids else []
    return _paged(items, ordering, limit)


def _paged(items: list[Task], ordering: Ordering, limit: int) -> tuple[list[Task], str | None]:
    """Up to limit + 1 tasks in order as a page and the next page's cursor."""
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, cursor_encode(ordering, items[-1])


def _position(after: list[Any] | None) -> list[Any] | None:
    """A created_at order's cursor values, the id as a UUID (a 422 on a malformed one)."""
    if after is None:
        return None
    try:
        return [after[0], uuid.UUID(str(after[1]))]
    except ValueError as exc:
        raise _invalid_cursor() from exc


def _among(ids: list[uuid.UUID]) -> RawSQL:
    """`id = ANY(ids)` with the ids as one array: one parameter however many (`pk__in` prepares
    each id in Python), and Postgres knows how many rows it holds (it sorts them, rather than
    walking the list for them)."""
    among = f'"{_TASKS}"."id" = ANY(%s::uuid[])'
    return RawSQL(among, [ids], output_field=BooleanField())  # noqa: S611 - the ids as a parameter


def _sparsest(search: TitleSearch, drivers: list[Term], ordering: Ordering) -> Term | None:
    """The term whose index rows are the sparsest at the start of the list: the one with the
    fewest rows if one has fewer than MEASURE_ROWS, else the one whose MEASURE_ROWS-th row lies
    the farthest into the list. None when one has no row at all (nothing matches). One query
    reading MEASURE_ROWS index rows of each indexed word."""
    direction, farthest = ("DESC", "min") if ordering.descending else ("ASC", "max")
    parts: list[str] = []
    params: list[Any] = []
    for i, term in enumerate(drivers):
        parts.append(
            f"""
            SELECT {i} AS i, count(*) AS found, {farthest}(s.created_at) AS reach FROM (
                SELECT x.created_at FROM unnest(%s::text[]) AS w(word)
                CROSS JOIN LATERAL (
                    SELECT created_at, task_id FROM {_WORDS}
                    WHERE org_id = %s AND word = w.word
                    ORDER BY created_at {direction}, task_id {direction} LIMIT %s
                ) AS x
                ORDER BY x.created_at {direction} LIMIT %s
            ) AS s"""  # noqa: S608 - the models' table names; values as parameters
        )
        params += [list(term.indexed or ()), search.org_id, MEASURE_ROWS, MEASURE_ROWS]
    with connection.cursor() as db:
        db.execute(" UNION ALL ".join(parts), params)
        rows: list[tuple[int, int, datetime | None]] = db.fetchall()
    if any(found == 0 for _, found, _ in rows):
        return None
    few = [(found, i) for i, found, _ in rows if found < MEASURE_ROWS]
    if few:
        return drivers[min(few)[1]]
    reaches = [(reach, i) for i, _, reach in rows if reach is not None]
    return drivers[(min(reaches) if ordering.descending else max(reaches))[1]]


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed(
        detail="The cursor is not valid.",
        errors=[FieldError("cursor", "Use the next_cursor of a previous page.")],
    )


# A round's row: task id, created_at, whether the task passed, its updated_at (with `keys`).
_Row = tuple[uuid.UUID, datetime, bool, datetime | None]


def _driven(
    tasks: QuerySet[Task],
    search: TitleSearch,
    driver: Term,
    ordering: Ordering,
    want: int,
    position: list[Any] | None,
    *,
    keys: bool,
    first: list[_Row] | None,
) -> list[_Row]:
    """The first `want` rows after `position` in the list's order (created_at, id) whose task
    passes `tasks` and the search, read from the driver's index rows in rounds: a round takes
    the driver's next `batch` rows (the first `batch` of each of its words, merged) and checks
    each row's task; rounds go on (`_next_batch` sizes them) until `want` tasks passed or the
    rows ran out. A round is one query of LATERAL joins with LIMITs only: Postgres has no plan to
    choose that would read every match. `first` is a first round already read (of `want` rows).

    The driver's own term is not checked in a round (its index rows say it), the other whole
    words by their index rows (a probe of the primary key, no table row), a prefix on the
    title; the page's query then checks every term on the title. With `keys` the rounds read
    each task's row instead, check every term on it, and return its `updated_at`."""
    checks_sql, checks_params = "", ()
    indexed = list(driver.indexed or ())
    found: dict[uuid.UUID, _Row] = {}  # in order, each once (a title with two prefix words)
    batch = want if first is not None or len(indexed) == 1 else 2 * want
    seen = 0
    while True:
        if first is not None:
            rows, first = first, None
        else:
            if not checks_sql:
                checks_sql, checks_params = _round_checks(tasks, search, driver, keys=keys)
            sql, params = _round(
                "SELECT unnest(%s::text[])", [indexed], search.org_id, ordering, position, batch,
                checks_sql, list(checks_params), keys=keys,
            )  # fmt: skip
            direction = "DESC" if ordering.descending else "ASC"
            with connection.cursor() as db:
                db.execute(f"WITH {sql} {_ROWS.format(direction=direction)}", params)
                rows = db.fetchall()
        for row in rows:
            if row[2] and row[0] not in found:
                found[row[0]] = row
        if len(found) >= want or len(rows) < batch:
            return list(found.values())[:want]
        seen += len(rows)
        position = [rows[-1][1], rows[-1][0]]
        batch = _next_batch(batch, seen=seen, passed=len(found), missing=want - len(found))


def _round_checks(
    tasks: QuerySet[Task], search: TitleSearch, driver: Term, *, keys: bool
) -> tuple[str, tuple[Any, ...]]:
    """The SQL that a round's task must pass (see `_driven`), and its parameters."""
    if keys:
        with_keys = tasks.filter(*_checks(search)).values("id", "created_at", "updated_at")
        sql, params = with_keys.prefetch_related(None).query.sql_with_params()
        return sql, tuple(params)
    by_index = [
        Exists(
            TaskWord.objects.filter(
                org_id=search.org_id,
                word=term.word,
                created_at=OuterRef("created_at"),
                task_id=OuterRef("pk"),
            )
        )
        for term in search.terms
        if term != driver and not term.prefix
    ]
    on_title = TitleSearch(search.org_id, tuple(t for t in search.terms if t.prefix))
    checks = tasks.filter(*by_index, *_checks(on_title, but=driver)).values("id", "created_at")
    sql, params = checks.prefetch_related(None).query.sql_with_params()
    return sql, tuple(params)


_ROWS = """SELECT task_id, created_at, passed, updated_at FROM round_rows
    ORDER BY created_at {direction}, task_id {direction}"""


def _round(
    words_sql: str,
    words_params: list[Any],
    org_id: int,
    ordering: Ordering,
    position: list[Any] | None,
    batch: int,
    checks_sql: str,
    checks_params: list[Any],
    *,
    keys: bool,
    more_check: str = "",
    more_params: list[Any] | None = None,
) -> tuple[str, list[Any]]:
    """The CTEs of a round (`round_rows`: the next `batch` index rows of the words that
    `words_sql` selects, after `position` in the list's order, each with whether its task passes
    `checks_sql` and `more_check`), and their parameters."""
    direction, past = ("DESC", "<") if ordering.descending else ("ASC", ">")
    condition = f" AND (created_at, task_id) {past} (%s, %s)" if position is not None else ""
    updated = "t.updated_at" if keys else "NULL::timestamptz"
    sql = f"""
        indexed_rows AS MATERIALIZED (
            SELECT r.created_at, r.task_id FROM ({words_sql}) AS w(word)
            CROSS JOIN LATERAL (
                SELECT created_at, task_id FROM {_WORDS}
                WHERE org_id = %s AND word = w.word{condition}
                ORDER BY created_at {direction}, task_id {direction} LIMIT %s
            ) AS r
            ORDER BY r.created_at {direction}, r.task_id {direction} LIMIT %s
        ), round_rows AS (
            SELECT p.task_id, p.created_at, checked.passed IS NOT NULL AS passed,
                   checked.updated_at
            FROM indexed_rows AS p
            LEFT JOIN LATERAL (
                SELECT true, {updated} FROM ({checks_sql}) AS t
                WHERE t.id = p.task_id AND t.created_at = p.created_at{more_check}
                LIMIT 1
            ) AS checked(passed, updated_at) ON true
        )"""  # noqa: S608 - the models' table names; values as parameters
    params = [*words_params, org_id, *(position or []), batch, batch, *checks_params]
    return sql, [*params, *(more_params or [])]


def _parse_with_round(
    tasks: QuerySet[Task],
    org_id: int,
    q: str,
    ordering: Ordering,
    position: list[Any] | None,
    want: int,
    keys: bool,
) -> tuple[TitleSearch | None, list[_Row] | None]:
    """`q` parsed, and when it is one word starting at most PREFIX_WORDS_MAX indexed words (the
    common search), the first round of its page read in the same query; else None for it."""
    columns = ("id", "created_at", "updated_at", "title") if keys else ("id", "created_at")
    checks_sql, checks_params = (
        tasks.prefetch_related(None).values(*columns).query.sql_with_params()
    )
    # With `keys` the word itself is checked on the title (as `_checks` would).
    more = " AND lower(t.title) ~ ('(^|[^[:alnum:]])' || (SELECT low FROM bounds))" if keys else ""
    driver = """driver AS (
            SELECT word FROM starting
            WHERE word IS NOT NULL AND (SELECT count(*) FROM terms) = 1
              AND (SELECT count(*) FROM starting WHERE word IS NOT NULL) <= %s
        )"""
    sql, params = _round(
        "SELECT word FROM driver", [], org_id, ordering, position, want, checks_sql,
        list(checks_params), keys=keys, more_check=more,
    )  # fmt: skip
    direction = "DESC" if ordering.descending else "ASC"
    order = f"ORDER BY created_at {direction}, task_id {direction}"
    query = f"""{_PARSE}, {driver}, {sql}
        SELECT {_PARSED},
            ARRAY(SELECT task_id FROM round_rows {order}),
            ARRAY(SELECT created_at FROM round_rows {order}),
            ARRAY(SELECT passed FROM round_rows {order}),
            ARRAY(SELECT updated_at FROM round_rows {order})
    """  # noqa: S608 - SQL of this module; values as parameters
    with connection.cursor() as db:
        db.execute(query, [*_parse_params(org_id, q), PREFIX_WORDS_MAX, *params])
        words, starting, *columns_read = db.fetchone()
    search = _parsed(org_id, words, starting)
    single = len(words) == 1 and len(starting) <= PREFIX_WORDS_MAX
    first = list(zip(*columns_read, strict=True)) if single else None
    return search, first


def _walked_ids(
    tasks: QuerySet[Task],
    search: TitleSearch,
    ordering: Ordering,
    want: int,
    cursor: str | None,
) -> list[uuid.UUID]:
    """The ids of the first `want` tasks after `cursor` that match, read from the list itself
    in its order (its own index) in rounds as `_driven_ids` does, each task's title checked in
    the round's query. For terms too common for the index to help."""
    checks = {f"term_{i}": check for i, check in enumerate(_checks(search))}
    keys = [k.field for k in ordering.keys]
    candidates = tasks.prefetch_related(None).only(*keys).annotate(**checks)
    ids: list[uuid.UUID] = []
    batch = want
    seen = 0
    while True:
        rows, cursor = page_keyset(candidates, ordering=ordering, limit=batch, cursor=cursor)
        ids += [row.pk for row in rows if all(getattr(row, name) for name in checks)]
        if len(ids) >= want or cursor is None:
            return ids[:want]
        seen += len(rows)
        batch = _next_batch(batch, seen=seen, passed=len(ids), missing=want - len(ids))


def _next_batch(batch: int, *, seen: int, passed: int, missing: int) -> int:
    """The next round's size: enough rows for the tasks still missing at the share that passed
    so far (a quarter more), four times the last round while none passed; at most
    ROUND_ROWS_MAX."""
    if passed == 0:
        return min(batch * 4, ROUND_ROWS_MAX)
    return max(1, min(-(-missing * seen * 5 // (passed * 4)), ROUND_ROWS_MAX))


_GATHER = f"SELECT DISTINCT task_id FROM {_WORDS} WHERE org_id = %s AND word = ANY(%s::text[])"  # noqa: S608


def _gathered(search: TitleSearch, drivers: list[Term], limit: int) -> list[uuid.UUID] | None:
    """For an order the index does not hold (by score): the ids of the tasks of the term with
    the fewest index rows, when it has fewer than `cap` = sqrt((limit + 1) × the org's tasks),
    each term's rows counted up to `cap`; None when every term has more (the list is then walked,
    about (limit + 1) ÷ the matches' share of the org's tasks rows, fewer than `cap` too). Two
    queries (one when None)."""
    counts = ", ".join(
        f"(SELECT count(*) FROM (SELECT FROM {_WORDS} WHERE org_id = %(org)s"  # noqa: S608
        f" AND word = ANY(%(w{i})s::text[]) LIMIT (SELECT n FROM cap)) AS c)"
        for i in range(len(drivers))
    )
    sql = f"""
        WITH cap AS (
            SELECT greatest(%(least)s, ceil(sqrt(%(page)s::float8 * coalesce(
                (SELECT tasks FROM {_COUNTS} WHERE org_id = %(org)s), 0))))::bigint AS n
        )
        SELECT (SELECT n FROM cap), {counts}
    """  # noqa: S608 - the models' table names; values as parameters
    params: dict[str, Any] = {"org": search.org_id, "least": MEASURE_ROWS, "page": limit + 1}
    params |= {f"w{i}": list(term.indexed or ()) for i, term in enumerate(drivers)}
    with connection.cursor() as db:
        db.execute(sql, params)
        cap, *found = db.fetchone()
        fewest, i = min((n, i) for i, n in enumerate(found))
        if fewest >= cap:
            return None
        if fewest == 0:
            return []
        db.execute(_GATHER, [search.org_id, list(drivers[i].indexed or ())])
        return [row[0] for row in db.fetchall()]
