"""Who acts, as the services that change grants see it: one value, never an optional pair, so no
call can skip the grant check by leaving an argument out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from taskscore.audit.services import SYSTEM, Actor
from taskscore.rbac.catalog import Perm


class Caller(Protocol):
    """What a grant check needs of whoever acts: who they are (for the audit log) and what they
    may do. `orgs.principals.Principal` (a member or an API key) is one."""

    @property
    def actor(self) -> Actor: ...

    @property
    def permissions(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class FixedCaller:
    """A caller whose identity and permissions are given rather than looked up."""

    actor: Actor
    permissions: frozenset[str]


# An operator at the console (`manage.py createorg`, `demo`, a shell): acts as the system and may
# grant any role. Named, so that a call acting without a member's limits says so.
OPERATOR = FixedCaller(actor=SYSTEM, permissions=frozenset(Perm))
