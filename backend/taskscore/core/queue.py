"""Handing work to the job queue by name: services enqueue jobs without importing the job
modules (jobs import services, never the reverse; see the per-app layers in pyproject.toml)."""

from __future__ import annotations

import functools
import logging
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.db import transaction
from redis import Redis

logger = logging.getLogger(__name__)


def enqueue(job: str, *args: str) -> bool:
    """Send `job(*args)` to the broker now. A broker outage is logged, not raised (False): the
    caller's sweeper enqueues the work again, so nothing is lost."""
    try:
        current_app.send_task(job, args=args)
    except Exception:
        logger.warning("could not enqueue %s%s; the sweeper will retry", job, args, exc_info=True)
        return False
    return True


def enqueue_on_commit(job: str, *args: str) -> None:
    """Send `job(*args)` once the current transaction commits (never for a rolled-back write)."""
    transaction.on_commit(lambda: enqueue(job, *args))


# kombu's Redis transport keeps a queue as one list per priority step: the queue's name for the
# default priority (0), `<name>\x06\x16<step>` for the others (kombu.transport.redis).
_PRIORITY_STEPS = (0, 3, 6, 9)
_PRIORITY_SEP = "\x06\x16"


@functools.cache
def _broker_redis(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def queue_names() -> list[str]:
    """The Celery queues jobs are sent to (the default queue, and any CELERY_TASK_QUEUES)."""
    names = [str(settings.CELERY_TASK_DEFAULT_QUEUE)]
    for queue in getattr(settings, "CELERY_TASK_QUEUES", None) or ():
        name = str(getattr(queue, "name", queue))
        if name not in names:
            names.append(name)
    return names


def queue_depths() -> dict[str, int] | None:
    """Messages waiting in each queue (one pipelined round of LLEN), or None when the broker is
    not Redis (not measured). Redis errors propagate."""
    url = str(settings.CELERY_BROKER_URL)
    if urlsplit(url).scheme not in ("redis", "rediss"):
        return None
    names = queue_names()
    with _broker_redis(url).pipeline(transaction=False) as pipe:
        for name in names:
            for step in _PRIORITY_STEPS:
                pipe.llen(name if step == 0 else f"{name}{_PRIORITY_SEP}{step}")
        lengths = pipe.execute()
    per_queue = len(_PRIORITY_STEPS)
    return {
        name: sum(int(n) for n in lengths[i * per_queue : (i + 1) * per_queue])
        for i, name in enumerate(names)
    }
