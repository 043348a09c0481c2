"""Settings shared by every environment. Everything that differs between machines comes from the
environment (see README "Configuration"); `local`, `test` and `production` adjust the rest."""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from config.db_url import database_from_url
from config.env import env_bool, env_float, env_int, env_list, env_str
from taskscore.core.logs import logging_config

# Lets admin.ModelAdmin[Model] and other generic annotations work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

# The Next.js app proxies /api and /_allauth to Django, so the browser's Origin is the web app's.
WEB_ORIGIN = env_str("WEB_ORIGIN", "http://127.0.0.1:3000")
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", [WEB_ORIGIN, WEB_ORIGIN.replace("127.0.0.1", "localhost")]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Index expressions with an operator class (the tasks' trigram title index, tasks.models).
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "ninja",
    "taskscore.core",
    "taskscore.accounts",
    "taskscore.audit",
    "taskscore.rbac",
    "taskscore.orgs",
    "taskscore.billing",
    "taskscore.scoring",
    "taskscore.tasks",
    "taskscore.datarights",
    "taskscore.api",
]

MIDDLEWARE = [
    # First: the request id (X-Request-ID) and the access log line cover every answer.
    "taskscore.core.request_context.RequestContextMiddleware",
    # Then every answer is counted and timed by route and status (core.metrics).
    "taskscore.core.metrics.HttpMetricsMiddleware",
    # Content-Security-Policy and Permissions-Policy on every answer, static files and 500s too.
    "taskscore.api.common.security_headers.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the API docs' Swagger UI and the admin's assets from the app itself (no CDN).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Every JSON body is standard JSON of bounded depth, or a 400 before any view parses it.
    "taskscore.api.common.json_guard.JSONBodyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "taskscore.api.common.middleware.ApiResponseMiddleware",
    "taskscore.api.common.idempotency.IdempotencyMiddleware",
]

# SecurityMiddleware's headers on every answer (Django's defaults, stated): no MIME sniffing, and
# the Referer never leaves the site (reset and verification links carry keys in their paths).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Rate limits (token buckets in Redis) per API key or user and per org, sized by the org's plan
# (billing.Plan.api_requests_*); a value > 0 here overrides every plan.
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
RATE_LIMIT_PER_CALLER_PER_MINUTE = env_int("RATE_LIMIT_PER_CALLER_PER_MINUTE", 0)
RATE_LIMIT_PER_ORG_PER_MINUTE = env_int("RATE_LIMIT_PER_ORG_PER_MINUTE", 0)
RATE_LIMIT_PREFIX = env_str("RATE_LIMIT_PREFIX", "rl")
# A person's requests outside any org (/me, creating an org, answering invitations), a minute.
RATE_LIMIT_ACCOUNT_PER_MINUTE = env_int("RATE_LIMIT_ACCOUNT_PER_MINUTE", 120)
# Per client address, before any caller is known: failed authentications (bad keys included) and
# requests to public operations.
RATE_LIMIT_FAILED_AUTH_PER_MINUTE = env_int("RATE_LIMIT_FAILED_AUTH_PER_MINUTE", 30)
RATE_LIMIT_ANONYMOUS_PER_MINUTE = env_int("RATE_LIMIT_ANONYMOUS_PER_MINUTE", 300)
# Invitation mails an org may send in an hour (they carry text the inviter chooses to any address).
INVITATIONS_PER_ORG_PER_HOUR = env_int("INVITATIONS_PER_ORG_PER_HOUR", 50)
# How many proxies in front of Django each append the address they saw to X-Forwarded-For; the
# client's address is the entry the outermost of them added (core.client_address, which allauth's
# limits use too). 1: the web app's server, which replaces whatever X-Forwarded-For the client
# sent with the address it saw (frontend/server.mjs; one more per proxy in front of the web app,
# WEB_TRUSTED_PROXY_HOPS). 0: clients connect to Django directly (REMOTE_ADDR). Django must be
# reachable only through those proxies, or a client names its own address.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 1 + env_int("WEB_TRUSTED_PROXY_HOPS", 0))

# API v1 is deprecated in favour of v2 (headers on every v1 response).
API_V1_DEPRECATION = env_str("API_V1_DEPRECATION", "@1794268800")  # 2026-11-10T00:00:00Z
API_V1_SUNSET = env_str("API_V1_SUNSET", "Mon, 31 May 2027 23:59:59 GMT")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# With DATABASE_POOL_MAX_SIZE > 0 (the default), each process keeps a psycopg pool: a Celery
# worker runs many threads that wait on the AI with no connection checked out, so connections
# scale with the pool, not with the threads. 0 turns pooling off (persistent connections instead).
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 10)
DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/taskscore"),
        conn_max_age=0 if DATABASE_POOL_MAX_SIZE else env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
# Behind pgbouncer in transaction mode: a server-side cursor (QuerySet.iterator()) would outlive
# the transaction that lends it a server connection (docs/operations.md, "Database connections").
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
    "DATABASE_DISABLE_SERVER_SIDE_CURSORS", False
)
# The hot paths' fixed statements (taskscore.core.db.fixed_fetch) are prepared once per
# connection; false for a pooler in transaction mode that cannot keep prepared statements
# (pgbouncer before 1.21, or its max_prepared_statements 0).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASE_POOL_MAX_SIZE:
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# The permission cache (taskscore.rbac.cache) talks to Redis directly: one round trip a check.
RBAC_REDIS_URL = env_str("RBAC_REDIS_URL", REDIS_URL)
RBAC_CACHE_PREFIX = env_str("RBAC_CACHE_PREFIX", "rbac")
# How long a cached grant lives: the longest a grant can outlive its revocation if Redis loses the
# revocation's generation bump (a failover to a lagging replica, a restore from a snapshot).
RBAC_ENTRY_TTL_SECONDS = env_int("RBAC_ENTRY_TTL_SECONDS", 15)
# With replicas: a permission change waits until this many replicas hold its generation bump
# (Redis WAIT, up to RBAC_WAIT_TIMEOUT_MS) and is refused otherwise, so a failover cannot lose it.
RBAC_WAIT_REPLICAS = env_int("RBAC_WAIT_REPLICAS", 0)
RBAC_WAIT_TIMEOUT_MS = env_int("RBAC_WAIT_TIMEOUT_MS", 200)
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "ts"),
    }
}

# Rendered task and task-page bodies kept in that cache under their ETag (api.common.
# representations): found again by the same cheap query that answers a 304. Keys change with
# every write, so this only bounds how long an unread body stays; 0 turns it off.
REPRESENTATION_CACHE_SECONDS = env_int("REPRESENTATION_CACHE_SECONDS", 60)
# And the bodies a process served last, in its memory (a body never changes under its ETag).
REPRESENTATION_MEMORY_BYTES = env_int("REPRESENTATION_MEMORY_BYTES", 8_000_000)

AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's, each loading a session's user in one statement built once
# (taskscore/accounts/backends.py).
AUTHENTICATION_BACKENDS = [
    "taskscore.accounts.backends.ModelBackend",
    "taskscore.accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id (argon2-cffi) hashes every new or changed password; a hash made by another hasher below
# still verifies and is re-hashed with Argon2id at the person's next log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# django-allauth, headless only: the Next.js app renders every page.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
# Nobody is logged in before their address is verified, and no answer tells whether an address has
# an account: a sign-up with a taken address answers like any other (the owner is mailed "someone
# tried to sign up with your address"), as does a reset for an unknown one. See ADR 0012.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = "strict"
ACCOUNT_ADAPTER = "taskscore.accounts.adapter.AccountAdapter"
# Log-in limits (allauth's, stated here): per client address, 30 attempts and 10 failures a
# minute; per account, 5 failures in 5 minutes from any addresses, then even the right password
# waits (a password reset clears it). The account is its email alone (accounts.adapter).
ACCOUNT_RATE_LIMITS = {"login": "30/m/ip", "login_failed": "10/m/ip,5/5m/key"}
# The verification link logs in the person whose sign-up (or log-in) is pending in that browser.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# A password change or reset ends every other session of the person (Django's session hash);
# the session that made the change stays logged in.
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# A reset link proves the address: the person is logged in with the new password at once.
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
# Changing the email adds the new address unverified; it replaces the old one once verified.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Taskscore] "
HEADLESS_ONLY = True
HEADLESS_CLIENTS = ("browser",)
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": f"{WEB_ORIGIN}/account/verify-email/{{key}}",
    "account_reset_password": f"{WEB_ORIGIN}/password/forgot",
    "account_reset_password_from_key": f"{WEB_ORIGIN}/account/password/reset/{{key}}",
    "account_signup": f"{WEB_ORIGIN}/signup",
}
# Two-factor authentication (allauth.mfa): an authenticator app's codes (TOTP) with recovery
# codes, set up and used through the headless API (`…/account/authenticators/…`, the log-in's
# `mfa_authenticate` stage). An org may require it of owners and admins (ADR 0012, "MFA").
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Their secrets are stored encrypted under a key derived from SECRET_KEY (accounts.adapter).
MFA_ADAPTER = "taskscore.accounts.adapter.MFAAdapter"
MFA_TOTP_ISSUER = "Taskscore"
# A code is accepted one 30-second step early or late (a phone's clock drifts; a code typed as it
# changes), each code once (allauth remembers used codes in the cache for the whole window).
MFA_TOTP_TOLERANCE = 1
# Recovery codes are shown once, when made; after that only new ones can be shown.
MFA_RECOVERY_CODES_SHOW_ONCE = True
# allauth by default refuses two-factor to an account with an unverified address, and any new
# address to an account with two-factor (so that someone who signed up with another person's
# address cannot lock its owner out). Here nobody logs in before verifying their address
# (ACCOUNT_EMAIL_VERIFICATION = "mandatory"), so that cannot happen, and the refusal would only
# stop people with two-factor from changing their email.
MFA_ALLOW_UNVERIFIED_EMAIL = ACCOUNT_EMAIL_VERIFICATION == "mandatory"

CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
OUTBOX_EMAIL_BACKEND = "taskscore.integrations.mail.outbox.OutboxEmailBackend"
# Local runs keep every message sent as JSON here (served at /api/dev/outbox); production refuses.
MAIL_OUTBOX_DIR = env_str("MAIL_OUTBOX_DIR", "")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", CONSOLE_EMAIL_BACKEND)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Taskscore <noreply@taskscore.localhost>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Set STATIC_ROOT to serve `collectstatic` output; unset, WhiteNoise finds the files in the apps.
STATIC_ROOT = env_str("STATIC_ROOT", "") or None
WHITENOISE_USE_FINDERS = STATIC_ROOT is None

SESSION_COOKIE_SAMESITE = "Lax"
# Sessions in Postgres with a short-lived copy in the cache (accounts.sessions: a failing cache
# never fails a request; a copy outlives a deletion the cache missed by this long at most).
SESSION_ENGINE = "taskscore.accounts.sessions"
SESSION_CACHE_SECONDS = env_int("SESSION_CACHE_SECONDS", 30)
CSRF_COOKIE_SAMESITE = "Lax"

# Celery: Redis is the default broker; any kombu URL (e.g. amqp://) works.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "taskscore")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message not acked within this many seconds is redelivered; longer than any job runs.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
}
# RabbitMQ as the broker (an amqp:// CELERY_BROKER_URL; docs/architecture.md "Broker"): the queue
# is a quorum queue (replicated, on disk), a publish returns once RabbitMQ confirmed it, and a
# countdown retry waits in Celery's native delayed-delivery queues (they need a topic exchange),
# not in a worker's memory. Celery turns global QoS off for quorum queues: each worker's prefetch
# stays its threads × CELERY_WORKER_PREFETCH_MULTIPLIER. Acks stay late.
RABBITMQ_BROKER = CELERY_BROKER_URL.split("://", 1)[0].lower() in (
    "amqp",
    "amqps",
    "pyamqp",
)
if RABBITMQ_BROKER:
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
    CELERY_TASK_CREATE_MISSING_QUEUE_TYPE = "quorum"  # a queue named with `-Q` too
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
    CELERY_TASK_CREATE_MISSING_QUEUE_EXCHANGE_TYPE = "topic"
    CELERY_WORKER_DETECT_QUORUM_QUEUES = True
    CELERY_BROKER_TRANSPORT_OPTIONS["confirm_publish"] = True
# Redis as the broker: kombu's Redis transport with one fix, so that a Redis restart cannot end a
# worker (taskscore.core.broker explains; docs/reliability.md "Soak").
if CELERY_BROKER_URL.split("://", 1)[0].lower() in ("redis", "rediss"):
    CELERY_BROKER_TRANSPORT = "taskscore.core.broker:Transport"
CELERY_TIMEZONE = "UTC"

# The sweeper re-enqueues tasks left queued longer than TASK_REQUEUE_AFTER_SECONDS (a lost broker
# message) and tasks whose claim is older than TASK_CLAIM_LEASE_SECONDS (a killed worker); the
# lease must exceed the longest job: AI_TIMEOUT_SECONDS × the AI criteria of a version.
TASK_REQUEUE_AFTER_SECONDS = env_int("TASK_REQUEUE_AFTER_SECONDS", 60)
# Worst case per AI criterion: a wait on another job's identical call (AI timeout + 10 s) then the
# call itself (AI timeout); 5 criteria × 70 s = 350 s with the defaults.
TASK_CLAIM_LEASE_SECONDS = env_int("TASK_CLAIM_LEASE_SECONDS", 900)
# Transient failures (AI timeouts, 429, 5xx) retry with exponential backoff and jitter, honoring
# Retry-After, until a task has been attempted TASK_MAX_ATTEMPTS times; then it is `failed`.
TASK_MAX_ATTEMPTS = env_int("TASK_MAX_ATTEMPTS", 6)
TASK_RETRY_BASE_SECONDS = env_float("TASK_RETRY_BASE_SECONDS", 2.0)
TASK_RETRY_MAX_SECONDS = env_float("TASK_RETRY_MAX_SECONDS", 300.0)
# RabbitMQ's native delayed delivery counts whole seconds and drops a countdown under one (the
# task would wait for the sweeper): the first retry (at least half the base) must be ≥ 1 s.
if RABBITMQ_BROKER and TASK_RETRY_BASE_SECONDS < 2:
    raise ImproperlyConfigured(
        "With RabbitMQ as the broker, TASK_RETRY_BASE_SECONDS must be at least 2 (a retry "
        "sooner than 1 s cannot be delayed there)."
    )
TASK_SWEEP_INTERVAL_SECONDS = env_int("TASK_SWEEP_INTERVAL_SECONDS", 30)
CELERY_BEAT_SCHEDULE = {
    "tasks-sweep-stuck": {
        "task": "taskscore.tasks.jobs.tasks_sweep_stuck",
        "schedule": float(TASK_SWEEP_INTERVAL_SECONDS),
    },
    "api-idempotency-purge": {
        "task": "taskscore.api.jobs.idempotency_purge",
        "schedule": 3600.0,
    },
    # Draft previews: runs whose job was lost are enqueued again (same deadlines as tasks), and
    # runs older than a day are deleted.
    "scoring-previews-sweep": {
        "task": "taskscore.scoring.jobs.preview_runs_sweep",
        "schedule": float(TASK_SWEEP_INTERVAL_SECONDS),
    },
    "scoring-previews-purge": {
        "task": "taskscore.scoring.jobs.preview_runs_purge",
        "schedule": 3600.0,
    },
}
# How many tasks one preview run scores at once (each waits on the AI; cached answers are free).
PREVIEW_CONCURRENCY = env_int("PREVIEW_CONCURRENCY", 4)

# Data rights (ADR 0013): an owner's export of all of an org's data is a gzipped JSON file kept in
# Postgres (any web process serves it) for ORG_EXPORT_TTL_HOURS, then deleted; an org makes at
# most ORG_EXPORTS_PER_DAY a day. Deleting an org deletes its rows ORG_DELETE_BATCH_SIZE at a time.
ORG_EXPORT_TTL_HOURS = env_int("ORG_EXPORT_TTL_HOURS", 24)
ORG_EXPORTS_PER_DAY = env_int("ORG_EXPORTS_PER_DAY", 5)
ORG_DELETE_BATCH_SIZE = env_int("ORG_DELETE_BATCH_SIZE", 1000)
# Exports and deletions whose job was lost are enqueued again (same deadlines as tasks); expired
# exports lose their file.
CELERY_BEAT_SCHEDULE["data-rights-sweep"] = {
    "task": "taskscore.datarights.jobs.data_rights_sweep",
    "schedule": float(TASK_SWEEP_INTERVAL_SECONDS),
}
CELERY_BEAT_SCHEDULE["data-rights-exports-purge"] = {
    "task": "taskscore.datarights.jobs.org_exports_purge",
    "schedule": 3600.0,
}

# AI: with AI_BASE_URL set, the OpenAI-compatible provider; otherwise the embedded local one.
AI_BASE_URL = env_str("AI_BASE_URL", "")
AI_PROVIDER = env_str("AI_PROVIDER", "openai" if AI_BASE_URL else "local")
AI_API_KEY = env_str("AI_API_KEY", "")
AI_MODEL = env_str("AI_MODEL", "gpt-4o-mini" if AI_PROVIDER == "openai" else "all-MiniLM-L6-v2")
AI_TIMEOUT_SECONDS = env_float("AI_TIMEOUT_SECONDS", 30.0)
# How long a web request (the sample preview) waits for the AI before it answers without it.
AI_SAMPLE_PREVIEW_SECONDS = env_float("AI_SAMPLE_PREVIEW_SECONDS", 5.0)
AI_PRICE_INPUT_PER_MTOK = env_float("AI_PRICE_INPUT_PER_MTOK", 0.0)
AI_PRICE_OUTPUT_PER_MTOK = env_float("AI_PRICE_OUTPUT_PER_MTOK", 0.0)
AI_STRUCTURED_OUTPUT = env_bool("AI_STRUCTURED_OUTPUT", True)
AI_CACHE_TTL_SECONDS = env_int("AI_CACHE_TTL_SECONDS", 7 * 24 * 3600)
AI_CACHE_KEY_PREFIX = env_str("AI_CACHE_KEY_PREFIX", "ai")
# The AI result cache is most of Redis's memory and may evict: a Redis of its own if wanted.
AI_CACHE_REDIS_URL = env_str("AI_CACHE_REDIS_URL", REDIS_URL)

# Logs: one JSON object per line on stderr (`text`: readable lines, what `make run` shows), with the
# request id and secrets redacted, in every process (gunicorn.conf.py and config/celery.py apply
# the same configuration): taskscore.core.logs.
LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
try:
    LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

# Metrics for Prometheus (core.metrics; docs/architecture.md "Metrics"). The web processes answer
# `GET /metrics` only with `Authorization: Bearer <METRICS_TOKEN>` (`METRICS_TOKEN_FILE` reads it
# from a file); empty, the default, turns the endpoint off (404). Each Celery worker serves its
# own on METRICS_WORKER_HOST:METRICS_WORKER_PORT (plain HTTP, no token: keep that address where
# only Prometheus reaches), the next free port up when several run on one host; 0, the default,
# serves none.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters (or empty: off).")
METRICS_WORKER_PORT = env_int("METRICS_WORKER_PORT", 0)
METRICS_WORKER_HOST = env_str("METRICS_WORKER_HOST", "127.0.0.1")

# Traces (core.tracing; docs/architecture.md "Tracing") have no setting here: each process sets
# them up itself (gunicorn's post_fork, before the app is loaded; a Celery worker's start) from
# the environment, which core.tracing and the OpenTelemetry SDK read: OTEL_EXPORTER_OTLP_ENDPOINT
# (unset: off), OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER(_ARG), GIT_COMMIT, DEPLOYMENT_ENVIRONMENT.

# Billing (Stripe). With no STRIPE_SECRET_KEY the SDK talks to the offline stand-in on loopback
# (localstripe with local Checkout and portal pages, testing/stripe_standin, started by `make run`);
# setting the key switches to Stripe itself. The API version is pinned here only.
# The offline values are published (here and in the stand-in): production.py refuses them.
OFFLINE_STRIPE_API_KEY = "sk_test_localstripe"  # the stand-in accepts any key
OFFLINE_STRIPE_WEBHOOK_SECRET = "whsec_localstripe"  # noqa: S105 - the stand-in's documented one
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_API_KEY = STRIPE_SECRET_KEY or OFFLINE_STRIPE_API_KEY
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "" if STRIPE_SECRET_KEY else "http://127.0.0.1:8420")
STRIPE_API_VERSION = env_str("STRIPE_API_VERSION", "2026-10-28.endive")
STRIPE_TIMEOUT_SECONDS = env_float("STRIPE_TIMEOUT_SECONDS", 10.0)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
# No default with real Stripe: webhooks are refused (500, so Stripe retries) until it is set.
STRIPE_WEBHOOK_SECRET = env_str(
    "STRIPE_WEBHOOK_SECRET", "" if STRIPE_SECRET_KEY else OFFLINE_STRIPE_WEBHOOK_SECRET
)
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)
STRIPE_METER_EVENT_NAME = env_str("STRIPE_METER_EVENT_NAME", "taskscore_tasks")
STRIPE_PRICE_PRO = env_str("STRIPE_PRICE_PRO", "price_taskscore_pro")
STRIPE_PRICE_BUSINESS = env_str("STRIPE_PRICE_BUSINESS", "price_taskscore_business")
# Checkout of a plan that offers a trial (Pro) starts with this many free days, once per org; 0: no
# trials. Stripe accepts 1-730.
STRIPE_TRIAL_DAYS = env_int("STRIPE_TRIAL_DAYS", 14)
if not 0 <= STRIPE_TRIAL_DAYS <= 730:
    raise ImproperlyConfigured(f"STRIPE_TRIAL_DAYS={STRIPE_TRIAL_DAYS} is not within 0-730.")
# past_due keeps the plan's access this many days after the failed renewal, then submissions stop.
BILLING_GRACE_DAYS = env_int("BILLING_GRACE_DAYS", 7)
BILLING_RETURN_URL = env_str("BILLING_RETURN_URL", f"{WEB_ORIGIN}/orgs/{{org}}/billing")
# Events stuck `received`/`failed` this long are applied again by the retry job.
BILLING_EVENT_RETRY_AFTER_SECONDS = env_int("BILLING_EVENT_RETRY_AFTER_SECONDS", 60)
CELERY_BEAT_SCHEDULE["billing-events-retry"] = {
    "task": "taskscore.billing.jobs.stripe_events_retry",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["billing-meter-flush"] = {
    "task": "taskscore.billing.jobs.meter_outbox_flush",
    "schedule": 60.0,
}
