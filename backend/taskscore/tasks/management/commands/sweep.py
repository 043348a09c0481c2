"""`manage.py sweep`: enqueue again the tasks whose job was lost (what beat runs periodically).
Operators run it by hand after a broker outage; the fault tests run it against their broker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from taskscore.tasks.services import tasks_requeue_stuck


class Command(BaseCommand):
    help = "Re-enqueue tasks stuck queued or scoring past their deadline."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"requeued {tasks_requeue_stuck()}")
