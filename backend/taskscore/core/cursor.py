"""Opaque cursors for keyset pagination (never offsets): a page continues strictly after the last
row of the previous one in a total order, so rows inserted meanwhile cause no gaps and no
duplicates, and a deep page costs what the first one does.

An `Ordering` is a list of keys sorted in one direction, the last unique (the primary key); the
first key may be nullable, its NULLs sorted last in either direction. The cursor names the
ordering it was made for and holds the last row's key values; using it with another ordering is
a 422 on `cursor`."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Model, OrderBy, Q, QuerySet

from taskscore.core.errors import FieldError, ValidationFailed

M = TypeVar("M", bound=Model)
R = TypeVar("R")  # a page's rows: model instances, or the named rows of values_list(named=True)


@dataclass(frozen=True)
class SortKey:
    field: str
    kind: Literal["datetime", "float", "pk"]
    nullable: bool = False  # only the first key; its NULLs sort last


@dataclass(frozen=True)
class Ordering:
    name: str  # carried in the cursor, e.g. "-score"
    keys: tuple[SortKey, ...]
    descending: bool

    def __post_init__(self) -> None:
        if not self.keys or any(k.nullable for k in self.keys[1:]):
            raise ValueError("only the first key of an ordering may be nullable")

    def order_by(self) -> list[OrderBy]:
        """As the indexes serving this ordering say it: NULLS LAST only on a nullable key."""
        return [
            F(k.field).desc(nulls_last=k.nullable or None)
            if self.descending
            else F(k.field).asc(nulls_last=k.nullable or None)
            for k in self.keys
        ]


NEWEST_FIRST = Ordering(
    name="-created_at",
    keys=(SortKey("created_at", "datetime"), SortKey("pk", "pk")),
    descending=True,
)


def _invalid(message: str = "Use the next_cursor of a previous page.") -> ValidationFailed:
    return ValidationFailed(
        detail="The cursor is not valid.", errors=[FieldError("cursor", message)]
    )


def _encode_value(key: SortKey, value: Any) -> Any:
    if value is None:
        return None
    if key.kind == "datetime":
        return value.isoformat()
    if key.kind == "float":
        return float(value)
    return str(value)


def _decode_value(key: SortKey, raw: Any) -> Any:
    if raw is None:
        if not key.nullable:
            raise ValueError(f"{key.field} cannot be null")
        return None
    if key.kind == "datetime":
        if not isinstance(raw, str):
            raise TypeError(key.field)
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise ValueError(f"{key.field} needs a time zone")
        return moment
    if key.kind == "float":
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise TypeError(key.field)
        return float(raw)
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise TypeError(key.field)
    return str(raw)


def cursor_encode(ordering: Ordering, row: Any) -> str:
    """The cursor after `row` (anything with the ordering's fields as attributes)."""
    values = [_encode_value(k, getattr(row, k.field)) for k in ordering.keys]
    raw = json.dumps({"sort": ordering.name, "after": values}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str, ordering: Ordering) -> list[Any]:
    """The key values a cursor holds, or a 422 on `cursor` (malformed, or another ordering's)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if isinstance(data, list):  # before cursors named their ordering: always newest first
            data = {"sort": NEWEST_FIRST.name, "after": data}
        name, raw = data["sort"], data["after"]
    except (ValueError, TypeError, KeyError, UnicodeError) as exc:
        raise _invalid() from exc
    if name != ordering.name:
        raise _invalid(
            f"This cursor continues sort={name}; send the same sort, or start without a cursor."
        )
    try:
        if not isinstance(raw, list) or len(raw) != len(ordering.keys):
            raise ValueError("wrong number of values")
        return [_decode_value(k, v) for k, v in zip(ordering.keys, raw, strict=True)]
    except (ValueError, TypeError) as exc:
        raise _invalid() from exc


def _after(keys: tuple[SortKey, ...], values: list[Any], descending: bool) -> Q:
    """Rows strictly after `values` in the order of `keys` (none of them null here):
    k1 past v1, or k1 = v1 and the rest after theirs."""
    past = "lt" if descending else "gt"
    head, value = keys[0], values[0]
    strictly = Q(**{f"{head.field}__{past}": value})
    if len(keys) == 1:
        return strictly
    return strictly | (Q(**{head.field: value}) & _after(keys[1:], values[1:], descending))


def _bound(key: SortKey, value: Any, descending: bool) -> Q:
    """A redundant range on the first key, so Postgres can start the index scan at the cursor
    (it cannot from the OR in `_after`)."""
    return Q(**{f"{key.field}__{'lte' if descending else 'gte'}": value})


def page_keyset(
    queryset: QuerySet[Any, R], *, ordering: Ordering, limit: int, cursor: str | None
) -> tuple[list[R], str | None]:
    """One page of `queryset` in `ordering`, and the cursor of the next page (None on the last)."""
    ordered = queryset.order_by(*ordering.order_by())
    want = limit + 1
    first, keys = ordering.keys[0], ordering.keys
    try:
        if cursor is None:
            items = list(ordered[:want])
        else:
            values = cursor_decode(cursor, ordering)
            if first.nullable and values[0] is None:  # within the NULLs, which come last
                rest = ordered.filter(**{f"{first.field}__isnull": True})
                items = list(
                    rest.filter(
                        _bound(keys[1], values[1], ordering.descending),
                        _after(keys[1:], values[1:], ordering.descending),
                    )[:want]
                )
            else:
                after = ordered.filter(
                    _bound(first, values[0], ordering.descending),
                    _after(keys, values, ordering.descending),
                )
                items = list(after[:want])
                if first.nullable and len(items) < want:  # then the NULLs, from their start
                    nulls = ordered.filter(**{f"{first.field}__isnull": True})
                    items += list(nulls[: want - len(items)])
    except (ValueError, TypeError, DjangoValidationError) as exc:
        raise _invalid() from exc
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, cursor_encode(ordering, items[-1])


def page_newest_first(
    queryset: QuerySet[M], *, limit: int, cursor: str | None
) -> tuple[list[M], str | None]:
    """One page of `queryset` ordered by (created_at, pk) descending, and the cursor of the
    next page (None on the last). The model needs a `created_at` field."""
    return page_keyset(queryset, ordering=NEWEST_FIRST, limit=limit, cursor=cursor)
