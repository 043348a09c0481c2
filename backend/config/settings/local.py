"""`make run` on a developer's machine: debug on, a per-checkout secret when none is set, and the
mail outbox (every message kept as JSON in `<repo>/.local/outbox`, served at /api/dev/outbox)."""

from config.env import env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import (
    BASE_DIR,
    CONSOLE_EMAIL_BACKEND,
    OUTBOX_EMAIL_BACKEND,
    SECRET_KEY,
)

DEBUG = True
# Only for local use; production.py refuses to start without DJANGO_SECRET_KEY.
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"

# MAIL_OUTBOX_DIR= (empty) turns the outbox off; EMAIL_BACKEND, when set, wins.
MAIL_OUTBOX_DIR = env_str("MAIL_OUTBOX_DIR", str(BASE_DIR.parent / ".local" / "outbox"))
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND", OUTBOX_EMAIL_BACKEND if MAIL_OUTBOX_DIR else CONSOLE_EMAIL_BACKEND
)
