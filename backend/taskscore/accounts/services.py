from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from taskscore.accounts.models import User


@transaction.atomic
def user_create(*, email: str, password: str | None, is_email_verified: bool = False) -> User:
    """Create a user and its allauth email record (so email login and verification work)."""
    user = User.objects.create_user(email=email, password=password)
    EmailAddress.objects.create(
        user=user, email=user.email, primary=True, verified=is_email_verified
    )
    return user
