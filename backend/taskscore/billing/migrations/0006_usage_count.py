"""Each org's usage per period kept by Postgres (the quota check and the billing page read it
instead of counting the period's UsageRecords): statement-level triggers on billing_usagerecord
add the inserted rows and subtract the deleted ones, per (org, period), in the writing
transaction. The table is locked while the triggers are created and the counts filled in."""

import django.db.models.deletion
from django.db import migrations, models

TRIGGERS = """
LOCK TABLE billing_usagerecord IN SHARE ROW EXCLUSIVE MODE;

CREATE FUNCTION billing_usagecount_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO billing_usagecount (org_id, period_start, tasks)
    SELECT org_id, period_start, count(*) FROM inserted
    GROUP BY org_id, period_start ORDER BY org_id, period_start
    ON CONFLICT (org_id, period_start)
    DO UPDATE SET tasks = billing_usagecount.tasks + EXCLUDED.tasks;
    RETURN NULL;
END $$;

CREATE FUNCTION billing_usagecount_subtract() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE billing_usagecount AS c SET tasks = c.tasks - d.n
    FROM (SELECT org_id, period_start, count(*) AS n FROM deleted
          GROUP BY org_id, period_start) AS d
    WHERE c.org_id = d.org_id AND c.period_start = d.period_start;
    RETURN NULL;
END $$;

CREATE TRIGGER billing_usagecount_insert AFTER INSERT ON billing_usagerecord
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION billing_usagecount_add();
CREATE TRIGGER billing_usagecount_delete AFTER DELETE ON billing_usagerecord
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT
    EXECUTE FUNCTION billing_usagecount_subtract();

INSERT INTO billing_usagecount (org_id, period_start, tasks)
SELECT org_id, period_start, count(*) FROM billing_usagerecord GROUP BY org_id, period_start;
"""

DROP_TRIGGERS = """
DROP TRIGGER billing_usagecount_insert ON billing_usagerecord;
DROP TRIGGER billing_usagecount_delete ON billing_usagerecord;
DROP FUNCTION billing_usagecount_add();
DROP FUNCTION billing_usagecount_subtract();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_plan_features_trials"),
        ("orgs", "0005_ai_data_rules"),
    ]

    operations = [
        migrations.CreateModel(
            name="UsageCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("period_start", models.DateTimeField()),
                ("tasks", models.BigIntegerField(default=0)),
                (
                    "org",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="orgs.organization",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("org", "period_start"), name="usage_count_org_period"
                    )
                ],
            },
        ),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
    ]
