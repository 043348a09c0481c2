"""A version's criteria: validated when a person submits them (every bad field named by its
dotted path), parsed when a stored version is used."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from taskscore.core.errors import FieldError, ValidationFailed
from taskscore.core.fields import field_path
from taskscore.scoring.engine import CRITERION_KINDS, AICriterion, AttributeCriterion, Criterion

MAX_CRITERIA = 30
MAX_AI_CRITERIA = 5

_criteria_adapter: TypeAdapter[list[Criterion]] = TypeAdapter(
    list[Annotated[AttributeCriterion | AICriterion, Field(discriminator="kind")]]
)


def criteria_validate(raw: Any) -> list[Criterion]:
    """Typed criteria, or ValidationFailed naming each bad field (`criteria.2.weight`)."""
    try:
        criteria = _criteria_adapter.validate_python(raw)
    except ValidationError as exc:
        errors = [
            FieldError(field_path(("criteria", *e["loc"]), union_tags=CRITERION_KINDS), e["msg"])
            for e in exc.errors()
        ]
        raise ValidationFailed(detail="The criteria are not valid.", errors=errors) from exc
    errors = []
    if not criteria:
        errors.append(FieldError("criteria", "Add at least one criterion."))
    if len(criteria) > MAX_CRITERIA:
        errors.append(FieldError("criteria", f"Use at most {MAX_CRITERIA} criteria."))
    if sum(isinstance(c, AICriterion) for c in criteria) > MAX_AI_CRITERIA:
        errors.append(FieldError("criteria", f"Use at most {MAX_AI_CRITERIA} AI criteria."))
    seen: set[str] = set()
    for index, criterion in enumerate(criteria):
        if criterion.key in seen:
            errors.append(
                FieldError(field_path(("criteria", index, "key")), "Keys must be unique.")
            )
        seen.add(criterion.key)
    if errors:
        raise ValidationFailed(detail="The criteria are not valid.", errors=errors)
    return criteria


def criteria_clean(raw: Any) -> list[dict[str, Any]]:
    """Submitted criteria validated (ValidationFailed naming each bad field) and normalized, as
    the JSON a version or a preview run stores."""
    return [criterion.model_dump() for criterion in criteria_validate(raw)]


def criteria_parse(raw: Any) -> list[Criterion]:
    """Typed criteria from a stored version. Raises ValueError when they are invalid."""
    try:
        return criteria_validate(raw)
    except ValidationFailed as exc:
        raise ValueError(
            "invalid scoring criteria: " + "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        ) from exc
