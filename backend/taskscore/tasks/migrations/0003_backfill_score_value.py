"""Task.score_value of the tasks scored before it existed: the value of their newest TaskScore."""

from django.db import migrations
from django.db.models import Exists, OuterRef, Subquery


def backfill_score_value(apps, schema_editor):
    Task = apps.get_model("tasks", "Task")
    TaskScore = apps.get_model("scoring", "TaskScore")
    newest = TaskScore.objects.filter(task_id=OuterRef("pk")).order_by("-created_at", "-id")
    Task.objects.filter(Exists(newest)).update(score_value=Subquery(newest.values("value")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("tasks", "0002_task_score_value"),
        ("scoring", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(backfill_score_value, migrations.RunPython.noop, elidable=True),
    ]
