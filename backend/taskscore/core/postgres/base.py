"""The backend's `DatabaseWrapper`: Django's, its pool checking lent connections with
`connection_alive` (this package's docstring)."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base

from taskscore.core.postgres import connection_alive


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> Any:
        built = self.alias in self._connection_pools  # type: ignore[attr-defined]  # unstubbed
        pool = super().pool
        if pool is not None and not built:
            # Django passes the pool its own check (the empty query) when it builds it, and
            # psycopg_pool takes a check only then: this one replaces it before any checkout.
            pool._check = connection_alive
        return pool
