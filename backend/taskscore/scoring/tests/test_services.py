from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from taskscore.core.errors import Conflict, ValidationFailed
from taskscore.orgs.models import Organization
from taskscore.scoring.engine import ScoreResult
from taskscore.scoring.models import ScoringVersion, VersionStatus
from taskscore.scoring.selectors import version_compare
from taskscore.scoring.services import (
    scoring_model_create,
    task_score_record,
    version_activate,
    version_active_get_or_create,
    version_create,
    version_publish,
)
from taskscore.scoring.templates import DEFAULT_TEMPLATE, RICE
from taskscore.testing.factories import TaskFactory

REACH_ONLY: list[dict[str, Any]] = [
    {"kind": "attribute", "key": "reach", "label": "Reach", "weight": 1, "attribute": "reach",
     "min": 0, "max": 100},
]  # fmt: skip


@pytest.mark.django_db
def test_an_org_without_a_version_gets_the_default_template_published_and_active(
    org: Organization,
) -> None:
    version = version_active_get_or_create(org_id=org.pk)
    assert (version.number, version.status, version.is_active) == (1, "published", True)
    assert version.criteria == DEFAULT_TEMPLATE.criteria
    assert version_active_get_or_create(org_id=org.pk) == version


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_use_installs_one_default_version(org: Organization) -> None:
    def install(_: int) -> int:
        try:
            return version_active_get_or_create(org_id=org.pk).pk
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(install, range(8)))
    assert len(ids) == 1
    assert ScoringVersion.objects.filter(org=org).count() == 1


@pytest.mark.django_db
def test_a_model_from_a_template_starts_with_a_draft_version_1(org: Organization) -> None:
    model = scoring_model_create(org_id=org.pk, name="Roadmap", template="rice")
    version = model.versions.get()
    assert (version.number, version.status, version.is_active) == (1, "draft", False)
    assert version.criteria == [
        {**c, "min": float(c["min"]), "max": float(c["max"]), "weight": float(c["weight"])}
        for c in RICE.criteria
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"template": "nope"}, "Unknown template"),
    ],
)
def test_model_create_needs_a_known_template(
    org: Organization, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        scoring_model_create(org_id=org.pk, name="X", **kwargs)


@pytest.mark.django_db
def test_model_names_are_unique_per_org(org: Organization) -> None:
    scoring_model_create(org_id=org.pk, name="Roadmap", template="rice")
    with pytest.raises(Conflict):
        scoring_model_create(org_id=org.pk, name="Roadmap", template="wsjf")


@pytest.mark.django_db
def test_invalid_criteria_name_each_field(org: Organization) -> None:
    model = scoring_model_create(org_id=org.pk, name="M", criteria=REACH_ONLY)
    bad = [REACH_ONLY[0], {**REACH_ONLY[0], "weight": -1}, REACH_ONLY[0]]
    with pytest.raises(ValidationFailed) as info:
        version_create(org_id=org.pk, model_id=model.pk, criteria=bad)
    assert [e.field for e in info.value.errors] == ["criteria.1.weight"]
    with pytest.raises(ValidationFailed) as info:
        version_create(org_id=org.pk, model_id=model.pk, criteria=[REACH_ONLY[0]] * 2)
    assert [e.field for e in info.value.errors] == ["criteria.1.key"]
    with pytest.raises(ValidationFailed):
        version_create(org_id=org.pk, model_id=model.pk, criteria=[])
    assert model.versions.count() == 1


@pytest.mark.django_db
def test_versions_are_numbered_published_then_activated(org: Organization) -> None:
    default = version_active_get_or_create(org_id=org.pk)
    model = scoring_model_create(org_id=org.pk, name="M", criteria=REACH_ONLY)
    v2 = version_create(org_id=org.pk, model_id=model.pk, criteria=REACH_ONLY, notes="second")
    assert v2.number == 2

    with pytest.raises(Conflict, match="Publish"):
        version_activate(org_id=org.pk, model_id=model.pk, number=2)
    published = version_publish(org_id=org.pk, model_id=model.pk, number=2)
    first_published_at = published.published_at
    again = version_publish(org_id=org.pk, model_id=model.pk, number=2)
    assert again.status == VersionStatus.PUBLISHED
    assert again.published_at == first_published_at

    active = version_activate(org_id=org.pk, model_id=model.pk, number=2)
    assert active.is_active
    default.refresh_from_db()
    assert not default.is_active
    assert list(ScoringVersion.objects.filter(org=org, is_active=True)) == [active]


@pytest.mark.django_db
def test_compare_ranks_tasks_scored_under_both_versions(org: Organization) -> None:
    old = version_active_get_or_create(org_id=org.pk)
    model = scoring_model_create(org_id=org.pk, name="M", criteria=REACH_ONLY)
    new = model.versions.get()
    a, b, only_old = (TaskFactory.create(org=org, title=t) for t in ("a", "b", "only-old"))
    for task, old_value, new_value in ((a, 80.0, 30.0), (b, 40.0, 90.0)):
        task_score_record(task_id=task.pk, version=old, result=ScoreResult(old_value, []))
        task_score_record(task_id=task.pk, version=new, result=ScoreResult(new_value, []))
    task_score_record(task_id=only_old.pk, version=old, result=ScoreResult(10.0, []))

    rows = version_compare(org_id=org.pk, from_version_id=old.pk, to_version_id=new.pk)
    assert [(r.title, r.from_rank, r.to_rank, r.delta) for r in rows] == [
        ("b", 2, 1, 50.0),
        ("a", 1, 2, -50.0),
    ]


@pytest.mark.django_db
def test_a_task_has_one_score_per_version(org: Organization) -> None:
    version = version_active_get_or_create(org_id=org.pk)
    task = TaskFactory.create(org=org)
    result = ScoreResult(50.0, [])
    assert task_score_record(task_id=task.pk, version=version, result=result)
    assert not task_score_record(task_id=task.pk, version=version, result=result)


@pytest.mark.django_db
def test_criteria_win_over_a_template_and_no_source_means_the_default(org: Organization) -> None:
    explicit = scoring_model_create(org_id=org.pk, name="A", template="wsjf", criteria=REACH_ONLY)
    assert [c["key"] for c in explicit.versions.get().criteria] == ["reach"]
    default = scoring_model_create(org_id=org.pk, name="B")
    assert len(default.versions.get().criteria) == len(DEFAULT_TEMPLATE.criteria)
