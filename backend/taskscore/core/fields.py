"""Dotted field paths: the one way the API names a field in an error (`title`,
`attributes.effort`, `criteria.1.weight`), whether the schema or a service found the problem."""

from __future__ import annotations

from collections.abc import Collection, Sequence

# Pydantic marks an invalid dict key by appending this to the key's location.
_KEY_MARKER = "[key]"


def field_path(loc: Sequence[str | int], *, union_tags: Collection[str] = ()) -> str:
    """The dotted path of a location (pydantic's or a service's own).

    Pydantic puts the tag of a tagged union after a list index (`criteria, 1, attribute,
    weight`); the path leaves it out (`criteria.1.weight`), so that one field has one name. Tags
    are named by the caller (`union_tags`), since a field may be named like a tag
    (`criteria.1.attribute` is the attribute criterion's `attribute` field)."""
    parts: list[str] = []
    after_index = False
    for position, part in enumerate(loc):
        if part == _KEY_MARKER:
            continue
        is_tag = after_index and part in union_tags and position < len(loc) - 1
        after_index = isinstance(part, int)
        if not is_tag:
            parts.append(str(part))
    return ".".join(parts)
