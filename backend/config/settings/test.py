"""pytest: fast password hashing, mail kept in memory."""

import hashlib
import os

from config.env import env_float, env_int, env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, DATABASES, MIDDLEWARE, SECRET_KEY

# Derived, not written out: Hypothesis draws strings from the literals of the project's modules
# (this one included): the fuzzing tests once sent the key as a path segment, the request log held
# it, and the run's scan of the logs (taskscore.testing.log_scan), which cannot tell a client's
# echo from a leak, failed the run. The same in every process (the API server and the tests share
# sessions).
SECRET_KEY = SECRET_KEY or hashlib.sha256(b"taskscore: tests only, not a secret").hexdigest()
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests read mail from django.core.mail.outbox; the browser tests' API server is given the
# outbox instead (as `make run` uses), through variables no developer's shell sets by chance.
EMAIL_BACKEND = env_str("TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

# Each test run gets its own queue and cache prefix, so a developer's `make run` worker on the same
# Redis never takes the tests' jobs (and the tests' worker never takes the developer's).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", f"taskscore-test-{os.getpid()}")
CACHES["default"]["KEY_PREFIX"] = CELERY_TASK_DEFAULT_QUEUE
AI_CACHE_KEY_PREFIX = f"ai-{CELERY_TASK_DEFAULT_QUEUE}"
RBAC_CACHE_PREFIX = f"rbac-{CELERY_TASK_DEFAULT_QUEUE}"
RATE_LIMIT_PREFIX = f"rl-{CELERY_TASK_DEFAULT_QUEUE}"
# High enough that the fuzzing and matrix tests never meet them; tests/test_rate_limits.py lowers.
RATE_LIMIT_PER_CALLER_PER_MINUTE = env_int("RATE_LIMIT_PER_CALLER_PER_MINUTE", 1_000_000)
RATE_LIMIT_PER_ORG_PER_MINUTE = env_int("RATE_LIMIT_PER_ORG_PER_MINUTE", 1_000_000)
RATE_LIMIT_ACCOUNT_PER_MINUTE = env_int("RATE_LIMIT_ACCOUNT_PER_MINUTE", 1_000_000)
RATE_LIMIT_FAILED_AUTH_PER_MINUTE = env_int("RATE_LIMIT_FAILED_AUTH_PER_MINUTE", 1_000_000)
RATE_LIMIT_ANONYMOUS_PER_MINUTE = env_int("RATE_LIMIT_ANONYMOUS_PER_MINUTE", 1_000_000)
INVITATIONS_PER_ORG_PER_HOUR = env_int("INVITATIONS_PER_ORG_PER_HOUR", 1_000_000)
# Short deadlines and backoff so recovery tests do not wait minutes.
TASK_REQUEUE_AFTER_SECONDS = env_int("TASK_REQUEUE_AFTER_SECONDS", 2)
TASK_CLAIM_LEASE_SECONDS = env_int("TASK_CLAIM_LEASE_SECONDS", 4)
TASK_RETRY_BASE_SECONDS = env_float("TASK_RETRY_BASE_SECONDS", 0.1)
TASK_RETRY_MAX_SECONDS = env_float("TASK_RETRY_MAX_SECONDS", 1.0)
TASK_MAX_ATTEMPTS = env_int("TASK_MAX_ATTEMPTS", 4)
AI_TIMEOUT_SECONDS = env_float("AI_TIMEOUT_SECONDS", 1.0)

# Two test runs on one machine (e.g. a developer's and CI's) need two test databases.
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_taskscore")}

MAIL_OUTBOX_DIR = env_str("TEST_MAIL_OUTBOX_DIR", "")

# Every secret a request carries or an answer hands out is recorded for the scan of the run's
# logs (taskscore.testing.log_scan); outside a pytest run it records nothing.
MIDDLEWARE = ["taskscore.testing.log_scan.RecordSecretsMiddleware", *MIDDLEWARE]
