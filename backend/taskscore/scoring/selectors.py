from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from taskscore.scoring.engine import AICriterion, AttributeCriterion, Criterion
from taskscore.scoring.models import ScoringVersion

_criteria_adapter: TypeAdapter[list[Criterion]] = TypeAdapter(
    list[Annotated[AttributeCriterion | AICriterion, Field(discriminator="kind")]]
)


def criteria_parse(raw: list[dict[str, Any]]) -> list[Criterion]:
    """Typed criteria from a version's stored JSON. Raises ValueError when they are invalid."""
    try:
        return _criteria_adapter.validate_python(raw)
    except ValidationError as exc:
        raise ValueError(f"invalid scoring criteria: {exc}") from exc


def version_active_get(*, org_id: int) -> ScoringVersion | None:
    return ScoringVersion.objects.filter(org_id=org_id, is_active=True).first()
