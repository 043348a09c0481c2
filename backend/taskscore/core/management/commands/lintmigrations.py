"""`manage.py lintmigrations`: every migration not shipped yet is checked for operations unsafe
while the previous release still runs (taskscore.core.migration_lint; docs/operations.md,
"Upgrades and migrations"). Each finding is printed; any finding exits 1. `make lint` runs it.

`--ship` adds every migration that exists now to the baseline of shipped ones: run it once the
release that carries them is deployed everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.migrations.loader import MigrationLoader

from taskscore.core.migration_lint import (
    BASELINE_PATH,
    baseline_read,
    baseline_text,
    lint,
    project_app_labels,
    project_migrations,
)


class Command(BaseCommand):
    help = "Check the migrations not shipped yet for operations unsafe under zero-downtime deploys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--baseline",
            type=Path,
            default=BASELINE_PATH,
            help="the file listing the shipped migrations (default: %(default)s)",
        )
        parser.add_argument(
            "--ship",
            action="store_true",
            help="add every current migration to the baseline (after the release is deployed)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        baseline: Path = options["baseline"]
        loader = MigrationLoader(None, ignore_no_migrations=True)
        if options["ship"]:
            keys = set(project_migrations(loader, project_app_labels()))
            for name in baseline_read(baseline) if baseline.exists() else ():
                app_label, _, migration = name.partition(".")
                keys.add((app_label, migration))
            baseline.write_text(baseline_text(keys), encoding="utf-8")
            self.stdout.write(f"{baseline}: {len(keys)} shipped migrations")
            return
        pending, findings = lint(loader, shipped=baseline_read(baseline))
        for finding in findings:
            self.stdout.write(str(finding))
        if findings:
            raise CommandError(
                f"{len(findings)} unsafe operation(s) in {len(pending)} unshipped migration(s); "
                "see docs/operations.md, 'Upgrades and migrations'"
            )
        self.stdout.write(f"lintmigrations: {len(pending)} unshipped migration(s), nothing unsafe")
