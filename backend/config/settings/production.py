"""Production: every secret must come from the environment; cookies are secure."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import EMAIL_BACKEND, MAIL_OUTBOX_DIR, OUTBOX_EMAIL_BACKEND

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
DEBUG = False
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)

# The mail outbox keeps every message (verification links included) readable over HTTP: it is
# for local runs only.
if MAIL_OUTBOX_DIR or EMAIL_BACKEND == OUTBOX_EMAIL_BACKEND:
    raise ImproperlyConfigured(
        "MAIL_OUTBOX_DIR and the outbox mail backend are for local runs only; unset them in "
        "production and configure a real EMAIL_BACKEND."
    )
