from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from taskscore.accounts.models import User
from taskscore.core.errors import ValidationFailed
from taskscore.orgs.keys import key_generate, secret_hash
from taskscore.orgs.models import ApiKey, Membership, Organization, Role


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    token: str  # the full secret token; shown once, never stored


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, suffix = base, 1
    while Organization.objects.filter(slug=slug).exists():
        suffix += 1
        slug = f"{base}-{suffix}"
    return slug


@transaction.atomic
def org_create(*, name: str, owner: User) -> Organization:
    """Create an org with `owner` as its first owner."""
    name = name.strip()
    if not name:
        raise ValidationFailed(detail="An organization needs a name.")
    for _ in range(5):
        try:
            with transaction.atomic():
                org = Organization.objects.create(name=name, slug=_unique_slug(name))
            break
        except IntegrityError:  # a concurrent create took the slug; pick the next one
            continue
    else:
        raise ValidationFailed(detail="Could not allocate a unique slug; try again.")
    Membership.objects.create(org=org, user=owner, role=Role.OWNER)
    return org


def api_key_create(
    *, org: Organization, name: str, role: str, created_by: User | None
) -> CreatedKey:
    token, parsed = key_generate()
    api_key = ApiKey.objects.create(
        org=org,
        name=name,
        prefix=parsed.prefix,
        secret_hash=secret_hash(parsed.secret),
        role=role,
        created_by=created_by,
    )
    return CreatedKey(api_key=api_key, token=token)


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use, at most once a minute per key, so hot keys do not write on every request."""
    now = timezone.now()
    if api_key.last_used_at and (now - api_key.last_used_at).total_seconds() < 60:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
