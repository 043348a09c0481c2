"""The task list's status filter and title search served by indexes (docs/performance.md,
"Flat with data"). Built CONCURRENTLY: on a large tasks table a plain CREATE INDEX would block
submissions for as long as it takes. pg_trgm is a contrib extension that Postgres 13+ trusts, so
the database owner may create it (it ships with Debian's postgresql and every major managed
Postgres)."""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tasks", "0003_backfill_score_value"),
    ]

    operations = [
        TrigramExtension(),
        AddIndexConcurrently(
            model_name="task",
            index=models.Index(
                fields=["org", "status", "-created_at", "-id"], name="task_org_status"
            ),
        ),
        AddIndexConcurrently(
            model_name="task",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("title"), name="gin_trgm_ops"
                ),
                name="task_title_trgm",
            ),
        ),
    ]
