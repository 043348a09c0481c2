"""Every org gets its default scoring version at creation now (`services.org_open`), so reading
it never writes. Orgs made before that got theirs on first read; this installs it for those that
never had one, as `version_active_get_or_create` would have."""

from typing import Any

from django.db import migrations
from django.db.models import Max
from django.utils import timezone

from taskscore.scoring.templates import DEFAULT_MODEL_NAME, DEFAULT_TEMPLATE


def install(apps: Any, schema_editor: Any) -> None:
    Organization = apps.get_model("orgs", "Organization")
    ScoringModel = apps.get_model("scoring", "ScoringModel")
    ScoringVersion = apps.get_model("scoring", "ScoringVersion")
    now = timezone.now()
    for org in Organization.objects.exclude(scoring_versions__is_active=True):
        model, _ = ScoringModel.objects.get_or_create(
            org=org, name=DEFAULT_MODEL_NAME, defaults={"description": DEFAULT_TEMPLATE.description}
        )
        number = (model.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        ScoringVersion.objects.create(
            org=org,
            model=model,
            number=number,
            criteria=DEFAULT_TEMPLATE.criteria,
            notes=f"Built-in template: {DEFAULT_TEMPLATE.name}",
            status="published",
            is_active=True,
            published_at=now,
            activated_at=now,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0002_preview_run"),
        ("orgs", "0004_invitation_declined"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
