"""API keys: created with a role the caller may grant, revoked, and their use recorded."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from taskscore.accounts.models import User
from taskscore.audit.services import audit_record
from taskscore.core.errors import FieldError, NotFound, ValidationFailed
from taskscore.orgs.keys import key_generate, secret_hash
from taskscore.orgs.models import ApiKey, Organization
from taskscore.rbac import cache
from taskscore.rbac.callers import Caller
from taskscore.rbac.selectors import role_get
from taskscore.rbac.services import grant_require


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    token: str  # the full secret token; shown once, never stored


# ---------------------------------------------------------------------------------- API keys


# The longest a key may be made to last, when it expires at all (as GitHub's fine-grained tokens:
# a year, and "never" only by saying so). Beyond a year a date is more likely a typo (2062 for
# 2026) than a plan, and a key meant to last is better said to never expire: the list says so.
API_KEY_LIFETIME_MAX_DAYS = 366


@transaction.atomic
def api_key_create(
    *,
    org: Organization,
    name: str,
    role_key: str,
    caller: Caller,
    created_by: User | None = None,
    expires_in_days: int | None = None,
) -> CreatedKey:
    """A new key with `role_key`, which the caller must be allowed to grant (operators' commands
    pass `rbac.callers.OPERATOR`). The key is recorded as made by `created_by`, or by the acting
    member. It expires `expires_in_days` days from now (1 to API_KEY_LIFETIME_MAX_DAYS), or
    never (None)."""
    if expires_in_days is not None and not 1 <= expires_in_days <= API_KEY_LIFETIME_MAX_DAYS:
        raise ValidationFailed(
            detail="The request is not valid; see errors.",
            errors=[
                FieldError(
                    "expires_in_days",
                    f"A key expires in 1 to {API_KEY_LIFETIME_MAX_DAYS} days, or never (null).",
                )
            ],
        )
    role = role_get(org_id=org.pk, key=role_key)
    grant_require(caller=caller, role=role)
    expires_at = (
        timezone.now() + timedelta(days=expires_in_days) if expires_in_days is not None else None
    )
    token, parsed = key_generate()
    cache.changing([cache.key_principal(parsed.prefix)])
    api_key = ApiKey.objects.create(
        org=org,
        name=name.strip()[:200] or "API key",
        prefix=parsed.prefix,
        secret_hash=secret_hash(parsed.secret),
        role=role,
        created_by_id=created_by.pk if created_by is not None else caller.actor.user_id,
        expires_at=expires_at,
    )
    audit_record(
        org_id=org.pk, actor=caller.actor, action="api_key.created", target_type="api_key",
        target_id=api_key.pk,
        after={"name": api_key.name, "prefix": api_key.prefix, "role": role.key,
               "expires_at": expires_at.isoformat() if expires_at is not None else None},
    )  # fmt: skip
    return CreatedKey(api_key=api_key, token=token)


@transaction.atomic
def api_key_revoke(*, org_id: int, key_id: int, caller: Caller) -> ApiKey:
    api_key = (
        ApiKey.objects.select_for_update()
        .select_related("role")
        .filter(org_id=org_id, pk=key_id)
        .first()
    )
    if api_key is None:
        raise NotFound(detail="No such API key.")
    grant_require(caller=caller, role=api_key.role)
    if api_key.revoked_at is None:
        cache.changing([cache.key_principal(api_key.prefix)])
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            org_id=org_id, actor=caller.actor, action="api_key.revoked", target_type="api_key",
            target_id=api_key.pk, before={"prefix": api_key.prefix, "role": api_key.role.key},
        )  # fmt: skip
    return api_key


def api_keys_of_creator_cap(
    *, org_id: int, user_id: int, held: frozenset[str], reason: str, caller: Caller
) -> list[ApiKey]:
    """Revoke the active keys `user_id` created in the org whose role holds any permission
    outside `held` (what the person may still do there: nothing once removed). Call inside the
    transaction that demotes or removes them; each revocation is audited with `reason`.

    The rule (security review, finding 6): a key never does more than its creator may. Keys
    within the creator's new role keep working; revoking rather than lowering their role keeps
    a key's role what its creator chose, and its users see a clear 401."""
    keys = list(
        ApiKey.objects.select_for_update()
        .select_related("role")
        .filter(org_id=org_id, created_by_id=user_id, revoked_at__isnull=True)
        .order_by("pk")
    )
    beyond = [key for key in keys if not set(key.role.permissions) <= held]
    if not beyond:
        return []
    cache.changing([cache.key_principal(key.prefix) for key in beyond])
    now = timezone.now()
    ApiKey.objects.filter(pk__in=[key.pk for key in beyond]).update(revoked_at=now, updated_at=now)
    for key in beyond:
        audit_record(
            org_id=org_id, actor=caller.actor, action="api_key.revoked", target_type="api_key",
            target_id=key.pk, before={"prefix": key.prefix, "role": key.role.key},
            after={"reason": reason},
        )  # fmt: skip
    return beyond


_touched: dict[int, float] = {}
_touched_lock = threading.Lock()


def api_key_touch(*, api_key_id: int) -> None:
    """Record use at most once a minute per key and process, so hot keys do not write (or read)
    the database on every request."""
    now = time.monotonic()
    with _touched_lock:
        if now - _touched.get(api_key_id, -120.0) < 60:
            return
        _touched[api_key_id] = now
    ApiKey.objects.filter(pk=api_key_id).update(last_used_at=timezone.now())
