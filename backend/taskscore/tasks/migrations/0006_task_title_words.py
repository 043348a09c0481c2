"""The words of every task's title, in the task list's order (`tasks.TaskWord`), for the title
search (`tasks.search`, ADR 0014): the newest tasks having a word are the first rows of one index
range, so a page of a search reads a page of rows, whatever the number of matches.

Kept by Postgres in the transaction that writes the task: a statement-level trigger adds the
words of inserted tasks (a bulk insert or a restore too), a row-level one replaces them when a
task's title, creation time or org changes (only then: the scoring job's updates do not fire it),
and a statement-level one deletes them with their tasks. `tasks_title_words()` is the one
definition of a word (lower-cased runs of letters and digits); the search splits its `q` with it
too. Changing it means rebuilding the table.

Expand only: the new table, its functions and triggers. The words of the tasks that exist already
are added by the next migration, in batches. Creating the triggers locks tasks_task against writes
for as long as it takes to create them (no scan)."""

from django.db import migrations, models

TRIGGERS = """
CREATE FUNCTION tasks_title_words(title text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT array_remove(regexp_split_to_array(lower(title), '[^[:alnum:]]+'), '') $$;

CREATE FUNCTION tasks_taskword_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tasks_taskword (org_id, word, created_at, task_id)
    SELECT DISTINCT i.org_id, w.word, i.created_at, i.id
    FROM inserted AS i, unnest(tasks_title_words(i.title)) AS w(word)
    ORDER BY 1, 2, 3, 4
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION tasks_taskword_replace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tasks_taskword WHERE task_id = OLD.id;
    INSERT INTO tasks_taskword (org_id, word, created_at, task_id)
    SELECT DISTINCT NEW.org_id, w.word, NEW.created_at, NEW.id
    FROM unnest(tasks_title_words(NEW.title)) AS w(word)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION tasks_taskword_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tasks_taskword WHERE task_id IN (SELECT id FROM deleted);
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_taskword_insert AFTER INSERT ON tasks_task
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION tasks_taskword_add();
CREATE TRIGGER tasks_taskword_update AFTER UPDATE OF title, created_at, org_id ON tasks_task
    FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.org_id IS DISTINCT FROM NEW.org_id)
    EXECUTE FUNCTION tasks_taskword_replace();
CREATE TRIGGER tasks_taskword_delete AFTER DELETE ON tasks_task
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION tasks_taskword_remove();
"""

DROP_TRIGGERS = """
DROP TRIGGER tasks_taskword_insert ON tasks_task;
DROP TRIGGER tasks_taskword_update ON tasks_task;
DROP TRIGGER tasks_taskword_delete ON tasks_task;
DROP FUNCTION tasks_taskword_add();
DROP FUNCTION tasks_taskword_replace();
DROP FUNCTION tasks_taskword_remove();
DROP FUNCTION tasks_title_words(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0005_task_count"),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskWord",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "org_id",
                        "word",
                        "created_at",
                        "task_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("org_id", models.BigIntegerField()),
                ("word", models.TextField(db_collation="C")),
                ("created_at", models.DateTimeField()),
                ("task_id", models.UUIDField()),
            ],
            options={
                "indexes": [models.Index(fields=["task_id"], name="taskword_task")],
            },
        ),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
    ]
