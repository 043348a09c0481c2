"""The Celery application. Jobs live in each domain app's `jobs.py`. Production settings unless
DJANGO_SETTINGS_MODULE says otherwise (`make run` and the tests choose theirs explicitly)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("taskscore")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")
