"""Each org's task count kept by Postgres (v1's `count` reads it instead of counting the org's
tasks): statement-level triggers on tasks_task add the inserted rows and subtract the deleted
ones, per org, in the writing transaction. The table is locked while the triggers are created
and the counts filled in, so no task is counted twice or missed."""

import django.db.models.deletion
from django.db import migrations, models

TRIGGERS = """
LOCK TABLE tasks_task IN SHARE ROW EXCLUSIVE MODE;

CREATE FUNCTION tasks_taskcount_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tasks_taskcount (org_id, tasks)
    SELECT org_id, count(*) FROM inserted GROUP BY org_id ORDER BY org_id
    ON CONFLICT (org_id) DO UPDATE SET tasks = tasks_taskcount.tasks + EXCLUDED.tasks;
    RETURN NULL;
END $$;

CREATE FUNCTION tasks_taskcount_subtract() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- No row to update (the org's count was deleted first, with the org): nothing to do.
    UPDATE tasks_taskcount AS c SET tasks = c.tasks - d.n
    FROM (SELECT org_id, count(*) AS n FROM deleted GROUP BY org_id) AS d
    WHERE c.org_id = d.org_id;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_taskcount_insert AFTER INSERT ON tasks_task
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION tasks_taskcount_add();
CREATE TRIGGER tasks_taskcount_delete AFTER DELETE ON tasks_task
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT
    EXECUTE FUNCTION tasks_taskcount_subtract();

INSERT INTO tasks_taskcount (org_id, tasks)
SELECT org_id, count(*) FROM tasks_task GROUP BY org_id;
"""

DROP_TRIGGERS = """
DROP TRIGGER tasks_taskcount_insert ON tasks_task;
DROP TRIGGER tasks_taskcount_delete ON tasks_task;
DROP FUNCTION tasks_taskcount_add();
DROP FUNCTION tasks_taskcount_subtract();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0005_ai_data_rules"),
        ("tasks", "0004_task_org_status_and_title_trgm_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskCount",
            fields=[
                (
                    "org",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="orgs.organization",
                    ),
                ),
                ("tasks", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
    ]
