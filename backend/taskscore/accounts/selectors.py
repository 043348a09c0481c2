from __future__ import annotations

from allauth.account.models import EmailAddress

from taskscore.accounts.models import User


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def user_email_is_verified(*, user_id: int) -> bool:
    """Whether the user's primary email address (allauth's record) is verified."""
    return bool(EmailAddress.objects.filter(user_id=user_id, primary=True, verified=True).exists())
