from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from taskscore.accounts.models import User


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def user_email_is_verified(*, user_id: int) -> bool:
    """Whether the user's primary email address (allauth's record) is verified: what creating an
    org or answering an invitation needs."""
    return bool(EmailAddress.objects.filter(user_id=user_id, primary=True, verified=True).exists())


def user_verified_emails(*, user_id: int) -> list[str]:
    """The user's addresses that allauth has verified (lowercase). Only these prove that mail to
    an address (an invitation) reaches the user; an address typed in at sign-up or added as a new
    email proves nothing until its link is opened."""
    emails = EmailAddress.objects.filter(user_id=user_id, verified=True).values_list(
        "email", flat=True
    )
    return sorted({email.lower() for email in emails})


def user_has_unverified_email(*, user_id: int, email: str) -> bool:
    """Whether `email` is one of the user's addresses that is still waiting for verification."""
    return bool(
        EmailAddress.objects.filter(user_id=user_id, email__iexact=email, verified=False).exists()
    )


def user_has_totp(*, user_id: int) -> bool:
    """Whether the user has set up two-factor authentication with an authenticator app (TOTP):
    what an org that requires it of owners and admins asks of them."""
    return bool(
        Authenticator.objects.filter(user_id=user_id, type=Authenticator.Type.TOTP).exists()
    )
