"""What a long-running process (a gunicorn or Celery worker) does once it has loaded what it
serves with."""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)


def startup_objects_freeze() -> int:
    """Move every object alive now out of the cyclic garbage collector's reach, and return how
    many. A worker's modules, settings, URL map, job registry and their closures (~185,000
    objects in a Celery worker) live as long as the process, yet every full collection walked
    them all: ~150 ms holding the GIL (measured in a scoring worker under `make
    bench-scoring`), a pause every thread of the process waits through — a request's p99, a
    hundred jobs at once. Collections now walk only what was made since (`gc.freeze`); garbage
    made before is collected first."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info("startup objects frozen out of the garbage collector's reach: %d", frozen)
    return frozen
