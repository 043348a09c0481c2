"""The words of the tasks written before migration 0006's triggers (which add those of every task
written since), in batches of BATCH tasks by id, each batch its own short transaction: a large
tasks table is never locked for long, and a batch that fails is taken again on the next run.

A batch's tasks are locked FOR KEY SHARE while their words are added, so a task deleted meanwhile
is deleted after them, its trigger then deleting its words too (no word outlives its task); the
scoring job's updates do not wait (they do not touch the key). Words already added by the trigger
are skipped (ON CONFLICT DO NOTHING). The search checks every task it returns against its current
title, so words of a title changed while its batch ran cannot make a task match wrongly."""

from typing import Any

from django.db import migrations, transaction

BATCH = 5000

_SQL = """
WITH batch AS (
    SELECT id, org_id, created_at, title FROM tasks_task
    {after}
    ORDER BY id
    LIMIT %(batch)s
    FOR KEY SHARE
), added AS (
    INSERT INTO tasks_taskword (org_id, word, created_at, task_id)
    SELECT DISTINCT b.org_id, w.word, b.created_at, b.id
    FROM batch AS b, unnest(tasks_title_words(b.title)) AS w(word)
    ORDER BY 1, 2, 3, 4
    ON CONFLICT DO NOTHING
)
SELECT id FROM batch ORDER BY id DESC LIMIT 1
"""


def backfill(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    after = None
    while True:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if after is None:
                cursor.execute(_SQL.format(after=""), {"batch": BATCH})
            else:
                cursor.execute(
                    _SQL.format(after="WHERE id > %(after)s"), {"batch": BATCH, "after": after}
                )
            row = cursor.fetchone()
        if row is None:
            return
        after = row[0]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tasks", "0006_task_title_words"),
    ]

    operations = [
        # Backwards: 0006's reverse drops the table.
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
