"""The session store: sessions live in Postgres, and a short-lived copy in the cache serves the
requests in between (a browser polling the task list authenticates every second or so: one
Redis read instead of a query).

Django's `cached_db` with three changes:

- **The cache never fails a request.** When Redis does not answer, a session is read from and
  written to Postgres alone (`cached_db` itself raises on a failed cache write during a read, on
  a failed `exists` and on a failed delete).
- **A cached copy lives `SESSION_CACHE_SECONDS` (30 s), not the session's whole age.** A copy the
  cache could not delete (a log-out while Redis was unreachable, then Redis back with its data)
  outlives its deletion by that long at most.
- **`exists` asks Postgres only**: it is used when a new session key is drawn, where a stale
  cache answer is no use.

A session logged in by one of the authentication backends that `accounts.backends` replaced is
read as logged in by its replacement (the same user, the same checks), so it stays logged in.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.cache.backends.base import BaseCache

from taskscore.accounts.backends import REPLACED

logger = logging.getLogger(__name__)


class SessionStore(CachedDBStore):
    # Set by Django's stores (not in their type stubs).
    _cache: BaseCache
    _session: dict[str, Any]

    def _cache_age(self, expiry: Any = None) -> int:
        age = self.get_expiry_age(expiry=expiry) if expiry is not None else self.get_expiry_age()
        return max(0, min(int(settings.SESSION_CACHE_SECONDS), age))

    def _cache_set(self, data: dict[str, Any], expiry: Any = None) -> None:
        try:
            self._cache.set(self.cache_key, data, self._cache_age(expiry))
        except Exception as exc:  # noqa: BLE001 - the session is in Postgres either way
            logger.warning("session cache unavailable: %s", type(exc).__name__)

    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
        except Exception as exc:  # noqa: BLE001 - read it from Postgres instead
            logger.warning("session cache unavailable: %s", type(exc).__name__)
            data = None
        if data is None:
            stored = self._get_session_from_db()  # type: ignore[attr-defined]
            if stored is None:
                return {}
            data = self.decode(stored.session_data)
            self._cache_set(data, expiry=stored.expire_date)
        result: dict[str, Any] = data
        backend = result.get(BACKEND_SESSION_KEY)
        if backend in REPLACED:
            result[BACKEND_SESSION_KEY] = REPLACED[backend]
        return result

    def exists(self, session_key: str) -> bool:
        return DBStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        DBStore.save(self, must_create)
        self._cache_set(self._session)

    def delete(self, session_key: str | None = None) -> None:
        DBStore.delete(self, session_key)
        key = session_key if session_key is not None else self.session_key
        if key is None:
            return
        try:
            self._cache.delete(self.cache_key_prefix + key)
        except Exception as exc:  # noqa: BLE001 - its copy expires within SESSION_CACHE_SECONDS
            logger.warning("session cache unavailable: %s", type(exc).__name__)
