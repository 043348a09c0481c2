from __future__ import annotations

import pytest

from taskscore.core.fields import field_path

TAGS = {"attribute", "ai"}


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("title",), "title"),
        (("attributes", "effort"), "attributes.effort"),
        (("attributes", "Bad Key", "[key]"), "attributes.Bad Key"),
        (("criteria", 1, "attribute", "weight"), "criteria.1.weight"),
        (("criteria", 0, "ai", "rubric"), "criteria.0.rubric"),
        (("criteria", 1, "attribute", "attribute"), "criteria.1.attribute"),
        (("criteria", 1, "attribute"), "criteria.1.attribute"),
        (("tasks", 3, "attributes", "reach"), "tasks.3.attributes.reach"),
    ],
)
def test_a_location_becomes_one_dotted_path_without_union_tags(
    loc: tuple[str | int, ...], path: str
) -> None:
    assert field_path(loc, union_tags=TAGS) == path


def test_without_tags_every_part_is_kept() -> None:
    assert field_path(("criteria", 1, "attribute", "weight")) == "criteria.1.attribute.weight"
