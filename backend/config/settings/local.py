"""`make run` on a developer's machine: debug on, a per-checkout secret when none is set."""

from config.settings.base import *  # noqa: F403
from config.settings.base import SECRET_KEY

DEBUG = True
# Only for local use; production.py refuses to start without DJANGO_SECRET_KEY.
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"
