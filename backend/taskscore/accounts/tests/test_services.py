from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction

from taskscore.accounts.models import User
from taskscore.accounts.services import user_create

pytestmark = pytest.mark.django_db


def test_a_user_is_created_with_a_lowercase_email_and_allauths_primary_address() -> None:
    # when a user is created with a mixed-case address and a password
    user = user_create(email="Ada@Example.TEST", password="a-long-password-1")
    # then the address is stored lowercase, the password hashed, and allauth knows the address
    assert user.email == "ada@example.test"
    assert user.check_password("a-long-password-1")
    assert user.password != "a-long-password-1"
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == ("ada@example.test", True, False)


def test_a_user_created_verified_has_a_verified_address() -> None:
    user = user_create(email="op@example.test", password=None, is_email_verified=True)
    assert EmailAddress.objects.get(user=user).verified is True
    assert not user.has_usable_password()


def test_an_address_belongs_to_one_user_whatever_its_case() -> None:
    user_create(email="ada@example.test", password=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        user_create(email="ADA@example.test", password=None)
    assert User.objects.count() == 1
