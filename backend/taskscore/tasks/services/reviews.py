"""Human review of scores: a person overrides a task's score, or one criterion's value, with a
reason; the machine's value is kept beside it. An override belongs to the task, so a re-score
keeps it until it is cleared. A review of an AI criterion is also a label (scoring.HumanRating)
that calibration compares with the AI; so are the rows of an imported calibration CSV."""

from __future__ import annotations

import csv
import io
import math
import re
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from taskscore.audit.services import Actor, audit_record
from taskscore.core.errors import (
    Conflict,
    FieldError,
    NotFound,
    ReferencesNotFound,
    ValidationFailed,
)
from taskscore.core.fields import field_path
from taskscore.scoring.criteria import criteria_parse
from taskscore.scoring.engine import AICriterion
from taskscore.scoring.models import (
    WHOLE_SCORE,
    HumanRating,
    LabelSource,
    ScoreOverride,
    ScoringVersion,
    TaskScore,
)
from taskscore.scoring.recompute import score_effective
from taskscore.tasks.limits import ATTRIBUTE_ABS_MAX
from taskscore.tasks.models import Task
from taskscore.tasks.selectors import task_get

REASON_MAX = 2000

LABELS_CSV_MAX_ROWS = 5000
LABELS_CSV_MAX_BYTES = 1_000_000
LABELS_CSV_COLUMNS = ("task_id", "criterion", "rating")
_CRITERION_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CELL = "[ \\t]*"
_UUID = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
# The file as the OpenAPI document states it: the header (any case), then 1 to 5,000 rows of a
# task id, an AI criterion's key and a rating 0–10. The import also reads what spreadsheets add
# (quoted cells, blank lines): the document states the plain form, which every tool can write.
LABELS_CSV_PATTERN = (
    f"^\ufeff?{_CELL}[Tt][Aa][Ss][Kk]_[Ii][Dd]{_CELL},{_CELL}[Cc][Rr][Ii][Tt][Ee][Rr][Ii][Oo][Nn]"
    f"{_CELL},{_CELL}[Rr][Aa][Tt][Ii][Nn][Gg]{_CELL}"
    f"(\\r?\\n{_CELL}{_UUID}{_CELL},{_CELL}[a-z][a-z0-9_]{{0,39}}{_CELL},{_CELL}"
    f"(10(\\.0*)?|[0-9](\\.[0-9]*)?){_CELL}){{1,{LABELS_CSV_MAX_ROWS}}}(\\r?\\n)?$"
)


def _latest_score(task_id: uuid.UUID) -> TaskScore | None:
    return (
        TaskScore.objects.select_related("version")
        .filter(task_id=task_id)
        .order_by("-created_at", "-id")
        .first()
    )


def task_score_value_refresh(*, task_id: uuid.UUID) -> float | None:
    """Set the task's current score (Task.score_value, which the list sorts by) to its newest
    score with the active overrides applied. Call inside the transaction that changed either."""
    score = _latest_score(task_id)
    if score is None:
        return None
    overrides = ScoreOverride.objects.filter(task_id=task_id, cleared_at__isnull=True)
    value = score_effective(score, overrides).value
    # updated_at too: what the task shows changed (conditional GETs compare it).
    Task.objects.filter(pk=task_id).update(score_value=value, updated_at=timezone.now())
    return value


def _override_value_error(
    *, score: TaskScore, criterion: str, value: float
) -> tuple[float | None, FieldError | None]:
    """The machine's value of what is overridden, or why the override is not valid."""
    if not math.isfinite(value):
        return None, FieldError("value", "Give a finite number.")
    if criterion == WHOLE_SCORE:
        if not 0 <= value <= 100:
            return None, FieldError("value", "A score is from 0 to 100.")
        return score.value, None
    criteria = {c.key: c for c in criteria_parse(score.version.criteria)}
    if criterion not in criteria:
        known = ", ".join(sorted(criteria)) or "none"
        return None, FieldError(
            "criterion",
            f"The score's version {score.version.number} has no criterion {criterion!r} "
            f"(it has: {known}).",
        )
    if isinstance(criteria[criterion], AICriterion):
        if not 0 <= value <= 10:
            return None, FieldError("value", "An AI criterion's rating is from 0 to 10.")
    elif abs(value) > ATTRIBUTE_ABS_MAX:
        return None, FieldError("value", f"Give a number within ±{ATTRIBUTE_ABS_MAX:.0e}.")
    machine = next((item["value"] for item in score.breakdown if item["key"] == criterion), None)
    return machine, None


@transaction.atomic
def score_override(
    *, org_id: int, task_id: uuid.UUID | str, actor: Actor, criterion: str | None, value: float,
    reason: str,
) -> ScoreOverride:  # fmt: skip
    """Override the task's score (`criterion` None or "") or one criterion's value, with a
    reason. Replaces the active override of the same target (the old one stays as history).
    NotFound for another org's task; Conflict when the task has no score yet."""
    task = task_get(org_id=org_id, task_id=task_id)
    Task.objects.select_for_update().filter(pk=task.pk).first()  # one review at a time
    target = criterion or WHOLE_SCORE
    reason = reason.strip()
    errors: list[FieldError] = []
    if not reason:
        errors.append(FieldError("reason", "Say why the machine's value is wrong."))
    elif len(reason) > REASON_MAX:
        errors.append(FieldError("reason", f"Use at most {REASON_MAX} characters."))
    score = _latest_score(task.pk)
    if score is None:
        raise Conflict(detail="The task has no score yet; review it once it is scored.")
    machine, value_error = _override_value_error(score=score, criterion=target, value=value)
    if value_error is not None:
        errors.append(value_error)
    if errors:
        raise ValidationFailed(detail="The override is not valid.", errors=errors)
    now = timezone.now()
    previous = ScoreOverride.objects.filter(
        task=task, criterion=target, cleared_at__isnull=True
    ).first()
    if previous is not None:
        previous.cleared_at = now
        previous.cleared_by_id = actor.user_id
        previous.save(update_fields=["cleared_at", "cleared_by"])
    override = ScoreOverride.objects.create(
        org_id=org_id,
        task=task,
        criterion=target,
        value=value,
        machine_value=machine,
        reason=reason,
        created_by_id=actor.user_id,
        created_by_api_key_id=actor.api_key_id,
    )
    if target != WHOLE_SCORE and _is_ai_criterion(score.version, target):
        HumanRating.objects.update_or_create(
            task=task,
            criterion=target,
            source=LabelSource.REVIEW,
            defaults={"org_id": org_id, "rating": value, "created_by_id": actor.user_id},
        )
    task_score_value_refresh(task_id=task.pk)
    audit_record(
        org_id=org_id,
        actor=actor,
        action="score.overridden",
        target_type="task",
        target_id=task.pk,
        before={
            "criterion": target or None,
            "machine_value": machine,
            "value": previous.value if previous else None,
        },
        after={"criterion": target or None, "value": value, "reason": reason},
    )
    return override


def _is_ai_criterion(version: ScoringVersion, key: str) -> bool:
    return any(
        isinstance(c, AICriterion) and c.key == key for c in criteria_parse(version.criteria)
    )


@transaction.atomic
def score_override_clear(
    *, org_id: int, task_id: uuid.UUID | str, override_id: uuid.UUID | str, actor: Actor
) -> None:
    """Clear an active override: the machine's value counts again (and the review is no longer a
    calibration label). NotFound for another org's task or an unknown or cleared override."""
    task = task_get(org_id=org_id, task_id=task_id)
    Task.objects.select_for_update().filter(pk=task.pk).first()
    try:
        override = ScoreOverride.objects.get(pk=override_id, task=task, cleared_at__isnull=True)
    except (ScoreOverride.DoesNotExist, DjangoValidationError, ValueError, TypeError) as exc:
        raise NotFound(detail="No such active override of this task.") from exc
    override.cleared_at = timezone.now()
    override.cleared_by_id = actor.user_id
    override.save(update_fields=["cleared_at", "cleared_by"])
    if override.criterion != WHOLE_SCORE:
        HumanRating.objects.filter(
            task=task, criterion=override.criterion, source=LabelSource.REVIEW
        ).delete()
    task_score_value_refresh(task_id=task.pk)
    audit_record(
        org_id=org_id,
        actor=actor,
        action="score.override_cleared",
        target_type="task",
        target_id=task.pk,
        before={
            "criterion": override.criterion or None,
            "value": override.value,
            "reason": override.reason,
        },
        after={"criterion": override.criterion or None, "value": None},
    )


# ------------------------------------------------------------------------ calibration labels


@dataclass(frozen=True)
class LabelsImported:
    imported: int
    criteria: tuple[str, ...]


def _row_error(row: int, column: str, message: str) -> FieldError:
    return FieldError(field_path(["rows", row, column]), message)


def _row_order(error: FieldError) -> tuple[int, str]:
    _, row, column = error.field.split(".")
    return int(row), column


def labels_import(*, org_id: int, csv_text: str, actor: Actor) -> LabelsImported:
    """Import people's 0–10 ratings of the org's tasks on AI criteria, for calibration: a CSV
    with the header `task_id,criterion,rating` and at most 5,000 rows. All or nothing: any bad
    row is named (`rows.<n>.<column>`, n counting data rows from 1) and nothing is imported:
    ValidationFailed when the file breaks LABELS_CSV_PATTERN, ReferencesNotFound when it is
    well-formed but names tasks or AI criteria the org does not have. A task's earlier imported
    rating on the same criterion is replaced (and so is an earlier row's in the same file)."""
    if len(csv_text.encode()) > LABELS_CSV_MAX_BYTES:
        raise ValidationFailed(
            detail="The file is too large.",
            errors=[FieldError("csv", f"Use at most {LABELS_CSV_MAX_BYTES:,} bytes.")],
        )
    reader = csv.reader(io.StringIO(csv_text.lstrip("\ufeff")))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if tuple(header) != LABELS_CSV_COLUMNS:
        raise ValidationFailed(
            detail="The file's first line must be the header task_id,criterion,rating.",
            errors=[FieldError("csv", f"Found the header {','.join(header) or '(empty)'}.")],
        )
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        raise ValidationFailed(
            detail="The file has no rows.", errors=[FieldError("csv", "Add at least one row.")]
        )
    if len(rows) > LABELS_CSV_MAX_ROWS:
        raise ValidationFailed(
            detail="The file has too many rows.",
            errors=[FieldError("csv", f"Use at most {LABELS_CSV_MAX_ROWS:,} rows per file.")],
        )
    ai_keys = _org_ai_criteria(org_id)
    errors: list[FieldError] = []  # the format's (LABELS_CSV_PATTERN): a 422
    missing: list[FieldError] = []  # tasks or criteria the org does not have: a 404
    parsed: dict[tuple[uuid.UUID, str], float] = {}
    for number, row in enumerate(rows, start=1):
        if len(row) != len(LABELS_CSV_COLUMNS):
            errors.append(_row_error(number, "csv", f"Give 3 values; found {len(row)}."))
            continue
        raw_id, key, raw_rating = (cell.strip() for cell in row)
        task_uuid: uuid.UUID | None = None
        try:
            task_uuid = uuid.UUID(raw_id)
        except ValueError:
            errors.append(_row_error(number, "task_id", f"{raw_id!r} is not a task id."))
        if not _CRITERION_KEY.match(key) or key not in ai_keys:
            known = ", ".join(sorted(ai_keys)) or "none yet"
            (missing if _CRITERION_KEY.match(key) else errors).append(
                _row_error(
                    number,
                    "criterion",
                    f"{key!r} is not an AI criterion of this organization's scoring versions "
                    f"(they are: {known}).",
                )
            )
        try:
            rating = float(raw_rating)
        except ValueError:
            rating = math.nan
        if not (math.isfinite(rating) and 0 <= rating <= 10):
            errors.append(_row_error(number, "rating", f"{raw_rating!r}: give a number 0–10."))
        if task_uuid is not None:
            # A later row on the same task and criterion wins, as a later import would.
            parsed[(task_uuid, key)] = rating
    known_tasks = set(
        Task.objects.filter(org_id=org_id, pk__in={t for t, _ in parsed}).values_list(
            "pk", flat=True
        )
    )
    for number, row in enumerate(rows, start=1):
        try:
            task_uuid = uuid.UUID(row[0].strip())
        except (ValueError, IndexError):
            continue
        if task_uuid not in known_tasks:
            missing.append(
                _row_error(number, "task_id", f"No task {row[0].strip()} in this organization.")
            )
    if errors:
        raise ValidationFailed(
            detail=f"{len({e.field.split('.')[1] for e in errors + missing})} rows are not "
            "valid; nothing was imported.",
            errors=sorted(errors + missing, key=_row_order)[:100],
        )
    if missing:
        raise ReferencesNotFound(
            detail=f"{len({e.field.split('.')[1] for e in missing})} rows name tasks or "
            "criteria this organization does not have; nothing was imported.",
            errors=sorted(missing, key=_row_order)[:100],
        )
    with transaction.atomic():
        HumanRating.objects.bulk_create(
            [
                HumanRating(
                    org_id=org_id,
                    task_id=task_uuid,
                    criterion=key,
                    rating=rating,
                    source=LabelSource.IMPORT,
                    created_by_id=actor.user_id,
                )
                for (task_uuid, key), rating in parsed.items()
            ],
            update_conflicts=True,
            unique_fields=["task", "criterion", "source"],
            update_fields=["rating", "created_by", "created_at"],
        )
        criteria = tuple(sorted({key for _, key in parsed}))
        audit_record(
            org_id=org_id,
            actor=actor,
            action="calibration.labels_imported",
            target_type="org",
            target_id=org_id,
            after={"rows": len(parsed), "criteria": list(criteria)},
        )
    return LabelsImported(imported=len(parsed), criteria=criteria)


def _org_ai_criteria(org_id: int) -> set[str]:
    keys: set[str] = set()
    for criteria in ScoringVersion.objects.filter(org_id=org_id).values_list("criteria", flat=True):
        keys.update(c["key"] for c in criteria if c.get("kind") == "ai")
    return keys
