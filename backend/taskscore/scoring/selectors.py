from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet

from taskscore.core.errors import NotFound
from taskscore.integrations.ai.judge.metrics import Agreement, agreement
from taskscore.scoring.criteria import criteria_parse
from taskscore.scoring.engine import AICriterion, Criterion
from taskscore.scoring.models import (
    HumanRating,
    LabelSource,
    PreviewRun,
    ScoringModel,
    ScoringVersion,
    TaskScore,
)

# Versions never change once created (a new version is a new row; only `is_active` moves, which
# this copy is never asked), so a worker keeps the ones it scored with instead of reading them
# for every task.
_VERSIONS_KEPT = 256
_versions: dict[int, ScoringVersion] = {}


def version_get_cached(*, version_id: int) -> ScoringVersion:
    """The version with this id, from this process's copy when it has one (see above)."""
    version = _versions.get(version_id)
    if version is None:
        version = ScoringVersion.objects.get(pk=version_id)
        if len(_versions) >= _VERSIONS_KEPT:
            _versions.clear()
        _versions[version_id] = version
    return version


_criteria: dict[int, list[Criterion]] = {}


def version_criteria(version: ScoringVersion) -> list[Criterion]:
    """The version's criteria parsed (`criteria_parse`; ValueError when they are invalid), once
    per version and process: a version's criteria never change, and each scoring job reads
    them (their validation cost a job ~0.1M CPU instructions). A new list each call."""
    if version.pk is None:
        return criteria_parse(version.criteria)
    parsed = _criteria.get(version.pk)
    if parsed is None:
        parsed = criteria_parse(version.criteria)
        if len(_criteria) >= _VERSIONS_KEPT:
            _criteria.clear()
        _criteria[version.pk] = parsed
    return list(parsed)


def version_active_get(*, org_id: int) -> ScoringVersion | None:
    return ScoringVersion.objects.filter(org_id=org_id, is_active=True).first()


def version_active_require(*, org_id: int) -> ScoringVersion:
    """The org's active version (every org has one from its creation: `services.org_open`)."""
    version = version_active_get(org_id=org_id)
    if version is None:
        raise NotFound(detail="This organization has no active scoring version.")
    return version


def scoring_model_list(*, org_id: int) -> QuerySet[ScoringModel]:
    return (
        ScoringModel.objects.filter(org_id=org_id)
        .prefetch_related("versions")
        .order_by("created_at", "id")
    )


def scoring_model_get(*, org_id: int, model_id: int) -> ScoringModel:
    model = scoring_model_list(org_id=org_id).filter(pk=model_id).first()
    if model is None:
        raise NotFound(detail="No such scoring model.")
    return model


def version_get(*, org_id: int, model_id: int, number: int) -> ScoringVersion:
    version = ScoringVersion.objects.filter(org_id=org_id, model_id=model_id, number=number).first()
    if version is None:
        raise NotFound(detail="No such scoring version.")
    return version


def task_scores(*, task_id: UUID | str) -> QuerySet[TaskScore]:
    """Every score of a task, newest first."""
    return (
        TaskScore.objects.filter(task_id=task_id)
        .select_related("version", "version__model")
        .order_by("-created_at")
    )


@dataclass(frozen=True)
class ComparisonRow:
    task_id: str
    title: str
    from_value: float
    to_value: float
    delta: float
    from_rank: int
    to_rank: int


def version_compare(
    *, org_id: int, from_version_id: int, to_version_id: int
) -> list[ComparisonRow]:
    """Tasks scored under both versions: old and new value and rank (1 = highest)."""
    found = ScoringVersion.objects.filter(org_id=org_id, pk__in=[from_version_id, to_version_id])
    if found.count() != len({from_version_id, to_version_id}):
        raise NotFound(detail="No such scoring version.")
    rows = TaskScore.objects.filter(
        task__org_id=org_id, version_id__in=[from_version_id, to_version_id]
    ).values_list("task_id", "task__title", "version_id", "value")
    by_task: dict[str, dict[int, float]] = {}
    titles: dict[str, str] = {}
    for task_id, title, version_id, value in rows:
        by_task.setdefault(str(task_id), {})[version_id] = value
        titles[str(task_id)] = title
    both = {t: v for t, v in by_task.items() if len(v) == 2}

    def ranks(version_id: int) -> dict[str, int]:
        ordered = sorted(both, key=lambda t: (-both[t][version_id], t))
        return {t: i + 1 for i, t in enumerate(ordered)}

    old_rank, new_rank = ranks(from_version_id), ranks(to_version_id)
    result = [
        ComparisonRow(
            task_id=t,
            title=titles[t],
            from_value=v[from_version_id],
            to_value=v[to_version_id],
            delta=v[to_version_id] - v[from_version_id],
            from_rank=old_rank[t],
            to_rank=new_rank[t],
        )
        for t, v in both.items()
    ]
    return sorted(result, key=lambda r: r.to_rank)


def preview_run_get(*, org_id: int, run_id: UUID | str) -> PreviewRun:
    """The org's preview run; NotFound for an unknown id or another org's run."""
    try:
        return PreviewRun.objects.get(org_id=org_id, pk=run_id)
    except (PreviewRun.DoesNotExist, DjangoValidationError, ValueError) as exc:
        raise NotFound(detail="No such preview run.") from exc


@dataclass(frozen=True)
class CriterionCalibration:
    """How an AI criterion's ratings under one version agree with people's ratings of the same
    tasks (reviews and imported labels; a task's review wins over its imported label)."""

    key: str
    label: str
    rubric: str
    from_reviews: int
    from_imports: int
    agreement: Agreement

    @property
    def labels(self) -> int:
        return self.agreement.labels


def version_calibration(*, version: ScoringVersion) -> list[CriterionCalibration]:
    """Per AI criterion of `version`: the AI's rating of each task scored under it (skipped
    ones left out) against people's rating of that task on the criterion."""
    ai_criteria = [c for c in criteria_parse(version.criteria) if isinstance(c, AICriterion)]
    if not ai_criteria:
        return []
    keys = [c.key for c in ai_criteria]
    human: dict[tuple[str, str], tuple[float, str]] = {}
    ratings = HumanRating.objects.filter(org_id=version.org_id, criterion__in=keys).order_by(
        "source"  # "import" before "review": a review overwrites an import below
    )
    for task_id, key, rating, source in ratings.values_list(
        "task_id", "criterion", "rating", "source"
    ):
        human[(str(task_id), key)] = (rating, source)
    labelled_tasks = {task_id for task_id, _ in human}
    machine: dict[tuple[str, str], float] = {}
    scores = TaskScore.objects.filter(version=version, task_id__in=labelled_tasks)
    for task_id, breakdown in scores.values_list("task_id", "breakdown"):
        for item in breakdown:
            if item["key"] in keys and item["value"] is not None and not item.get("skipped"):
                machine[(str(task_id), item["key"])] = float(item["value"])
    result = []
    for criterion in ai_criteria:
        pairs = [
            (human[key][0], machine[key], human[key][1])
            for key in machine
            if key[1] == criterion.key and key in human
        ]
        result.append(
            CriterionCalibration(
                key=criterion.key,
                label=criterion.label,
                rubric=criterion.rubric,
                from_reviews=sum(source == LabelSource.REVIEW for *_, source in pairs),
                from_imports=sum(source == LabelSource.IMPORT for *_, source in pairs),
                agreement=agreement([h for h, _, _ in pairs], [m for _, m, _ in pairs]),
            )
        )
    return result
