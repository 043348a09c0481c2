from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from taskscore.accounts.selectors import user_email_is_verified, user_get_by_email
from taskscore.accounts.services import user_create

pytestmark = pytest.mark.django_db


def test_a_user_is_found_by_email_in_any_case() -> None:
    user = user_create(email="ada@example.test", password=None)
    assert user_get_by_email(email="ADA@Example.test") == user
    assert user_get_by_email(email="nobody@example.test") is None


def test_only_a_verified_primary_address_counts_as_verified() -> None:
    # given a user whose primary address is not verified, and a verified secondary one
    user = user_create(email="ada@example.test", password=None)
    EmailAddress.objects.create(user=user, email="ada@work.test", primary=False, verified=True)
    # then the user is not verified
    assert user_email_is_verified(user_id=user.pk) is False
    # until the primary address is
    EmailAddress.objects.filter(user=user, primary=True).update(verified=True)
    assert user_email_is_verified(user_id=user.pk) is True
