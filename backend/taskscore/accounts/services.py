from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from django.db import transaction

from taskscore.accounts.adapter import MFAAdapter
from taskscore.accounts.models import User


@transaction.atomic
def user_create(*, email: str, password: str | None, is_email_verified: bool = False) -> User:
    """Create a user and its allauth email record (so email login and verification work)."""
    user = User.objects.create_user(email=email, password=password)
    EmailAddress.objects.create(
        user=user, email=user.email, primary=True, verified=is_email_verified
    )
    return user


@transaction.atomic
def mfa_secrets_reencrypt() -> int:
    """Encrypt every two-factor secret under the current SECRET_KEY (each readable under it or a
    fallback); returns how many authenticators were rewritten. Rows are locked while rewritten, so
    a code used meanwhile waits instead of writing back the old ciphertext."""
    adapter = get_mfa_adapter()
    assert isinstance(adapter, MFAAdapter)
    count = 0
    for authenticator in Authenticator.objects.select_for_update().order_by("pk"):
        field = MFAAdapter.SECRET_FIELDS.get(authenticator.type)
        if field is None or field not in authenticator.data:
            continue
        authenticator.data[field] = adapter.reencrypt(authenticator.data[field])
        authenticator.save(update_fields=["data"])
        count += 1
    return count
