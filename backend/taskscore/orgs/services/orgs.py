"""Creating an organization with its first owner."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from taskscore.accounts.models import User
from taskscore.accounts.selectors import user_email_is_verified
from taskscore.audit.services import Actor, audit_record
from taskscore.core.errors import (
    Conflict,
    EmailNotVerified,
    FieldError,
    ValidationFailed,
)
from taskscore.core.text import name_check
from taskscore.orgs.models import Membership, Organization
from taskscore.rbac import cache
from taskscore.rbac.services import role_builtin


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, suffix = base, 1
    while Organization.objects.filter(slug=slug).exists():
        suffix += 1
        slug = f"{base}-{suffix}"
    return slug


def email_verified_require(user: User) -> None:
    if not user_email_is_verified(user_id=user.pk):
        raise EmailNotVerified()


@transaction.atomic
def org_create(*, name: str, owner: User) -> Organization:
    """Create an org with `owner` as its first owner; the owner's email must be verified."""
    name = name_check(name, field="name")
    if not name:
        raise ValidationFailed(
            detail="An organization needs a name.", errors=[FieldError("name", "Enter a name.")]
        )
    email_verified_require(owner)
    for _ in range(5):
        try:
            with transaction.atomic():
                org = Organization.objects.create(name=name[:200], slug=_unique_slug(name))
            break
        except IntegrityError:  # a concurrent create took the slug; pick the next one
            continue
    else:
        raise Conflict(detail="Could not allocate a unique slug; try again.")
    cache.changing([cache.member_principal(owner.pk, org.slug)])  # drop a cached "not a member"
    membership = Membership.objects.create(org=org, user=owner, role=role_builtin("owner"))
    audit_record(
        org_id=org.pk, actor=Actor(label=owner.email, user_id=owner.pk), action="org.created",
        target_type="membership", target_id=membership.pk,
        after={"email": owner.email, "role": "owner"},
    )  # fmt: skip
    return org
