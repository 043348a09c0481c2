"""Production: every secret must come from the environment; cookies are secure."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_secrets, env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import (
    EMAIL_BACKEND,
    MAIL_OUTBOX_DIR,
    OFFLINE_STRIPE_API_KEY,
    OFFLINE_STRIPE_WEBHOOK_SECRET,
    OUTBOX_EMAIL_BACKEND,
)

# No secret has a default here: one error names every one missing (or set to a published
# development value). Billing talks to Stripe itself: the offline stand-in, its key, its webhook
# secret and its loopback address are for `make run` and the tests only (a webhook signed with a
# published secret would let anyone change an org's plan).
SECRET_KEY, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET = env_secrets(
    "DJANGO_SECRET_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    published=frozenset({OFFLINE_STRIPE_API_KEY, OFFLINE_STRIPE_WEBHOOK_SECRET}),
)
STRIPE_API_KEY = STRIPE_SECRET_KEY
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")  # empty: Stripe's own API
DEBUG = False
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)

# Served over HTTPS only. TLS ends at a proxy in front of gunicorn (or at gunicorn itself): plain
# HTTP is redirected, and browsers are told to keep to HTTPS (HSTS, a year, subdomains included,
# and `preload`, which only permits submitting the domain to browsers' preload list; the
# submission is the operator's own step). The health checks are exempt, so a load balancer may
# probe over plain HTTP.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Probes and the Prometheus scrape reach gunicorn directly on the host's private address, over
# plain HTTP (/metrics needs METRICS_TOKEN; docs/operations.md "What to watch").
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Whether a request came over HTTPS is read from X-Forwarded-Proto only when a proxy that sets it
# (and drops the client's own) is in front: a client could send the header itself otherwise.
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The mail outbox keeps every message (verification links included) readable over HTTP: it is
# for local runs only.
if MAIL_OUTBOX_DIR or EMAIL_BACKEND == OUTBOX_EMAIL_BACKEND:
    raise ImproperlyConfigured(
        "MAIL_OUTBOX_DIR and the outbox mail backend are for local runs only; unset them in "
        "production and configure a real EMAIL_BACKEND."
    )
