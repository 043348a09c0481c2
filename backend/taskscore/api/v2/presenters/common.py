from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

Item = TypeVar("Item")


def page_out(
    items: Iterable[Item], next_cursor: str | None, item_out: Callable[[Item], dict[str, Any]]
) -> dict[str, Any]:
    """One page of a cursor list: `{items, next_cursor}` (null on the last page)."""
    return {"items": [item_out(item) for item in items], "next_cursor": next_cursor}
