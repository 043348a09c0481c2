from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from taskscore.accounts.selectors import (
    user_email_is_verified,
    user_get_by_email,
    user_has_unverified_email,
    user_verified_emails,
)
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


def test_only_verified_addresses_prove_mail_reaches_the_user() -> None:
    # given a verified primary address and an added one still waiting for its link
    user = user_create(email="ada@example.test", password=None, is_email_verified=True)
    EmailAddress.objects.create(user=user, email="Ada@Work.test", primary=False, verified=False)
    # then only the verified one counts, and the other is known as unverified
    assert user_verified_emails(user_id=user.pk) == ["ada@example.test"]
    assert user_has_unverified_email(user_id=user.pk, email="ada@work.test") is True
    assert user_has_unverified_email(user_id=user.pk, email="ada@example.test") is False
    # until its link is opened
    EmailAddress.objects.filter(email="Ada@Work.test").update(verified=True)
    assert user_verified_emails(user_id=user.pk) == ["ada@example.test", "ada@work.test"]
