"""The Celery application. Jobs live in each domain app's `jobs.py`. Production settings unless
DJANGO_SETTINGS_MODULE says otherwise (`make run` and the tests choose theirs explicitly)."""

import logging.config
import os
from typing import Any

from celery import Celery, signals

from taskscore.core import metrics, request_context, tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("taskscore")
app.config_from_object("config.celery_settings:CONFIG", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")
# A job enqueued during a request logs with that request's id (X-Request-ID).
request_context.celery_connect()
# Every job counted and timed; a worker serves its metrics on METRICS_WORKER_PORT when set.
metrics.celery_connect()
# A worker traces its jobs when OTEL_EXPORTER_OTLP_ENDPOINT is set (set up in the process that
# runs them: worker_init for the threads pool, worker_process_init after a prefork pool's fork).
tracing.celery_connect()


@signals.setup_logging.connect(weak=False)
def _logging_as_configured(**_: Any) -> None:
    """Workers and beat log as every other process (settings.LOGGING: LOG_FORMAT, LOG_LEVEL;
    `celery -l` is not used), instead of Celery's own format."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.worker_init.connect(weak=False)
def _provider_preloaded(**_: Any) -> None:
    """The AI provider's code is imported as the worker starts (before a prefork pool's fork),
    not by its first jobs: the OpenAI SDK's import holds the GIL for about half a second, which
    every other thread of a threads pool would wait through."""
    from taskscore.scoring.ai import ai_provider_preload

    ai_provider_preload()


@signals.worker_ready.connect(weak=False)
def _startup_objects_frozen(**_: Any) -> None:
    """Once the worker is ready, what it loaded stays out of the garbage collector's full
    collections (their pauses hold every thread of the pool)."""
    from taskscore.core.startup import startup_objects_freeze

    startup_objects_freeze()
