"""pytest: fast password hashing, mail kept in memory."""

import os

from config.env import env_int, env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, SECRET_KEY

SECRET_KEY = SECRET_KEY or "test-only-not-secret"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Each test run gets its own queue and cache prefix, so a developer's `make run` worker on the same
# Redis never takes the tests' jobs (and the tests' worker never takes the developer's).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", f"taskscore-test-{os.getpid()}")
CACHES["default"]["KEY_PREFIX"] = CELERY_TASK_DEFAULT_QUEUE
# Short deadlines so recovery tests do not wait a minute.
TASK_REQUEUE_AFTER_SECONDS = env_int("TASK_REQUEUE_AFTER_SECONDS", 2)
