"""The authentication backends: Django's and allauth's, each loading a session's user in one
statement built once per process.

Every request with a browser session loads its user (`request.user`): the web app's task list
polls every second or so, and the ORM's query building was most of that load's cost (in-process,
1.12M instructions through `ModelBackend.get_user`, 0.24M through this one). Authenticating
(a password, allauth's flows) is theirs, unchanged.

A session records the backend that logged it in; `sessions.SessionStore` reads the two classes
these replace (Django's and allauth's own) as these, so sessions from before stay logged in."""

from __future__ import annotations

import functools
from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthAuthenticationBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.core.exceptions import ValidationError

from taskscore.accounts.models import User
from taskscore.core.db import fixed_fetch, model_columns, model_from_row


@functools.cache
def _user_sql() -> str:
    return f"SELECT {model_columns(User)} FROM {User._meta.db_table} WHERE id = %s"  # noqa: S608


def user_for_session(user_id: Any) -> User | None:
    """The user with this primary key (as a session stores it), or None."""
    try:
        pk = User._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    row = fixed_fetch(_user_sql(), [pk])
    return None if row is None else model_from_row(User, row)


class _SessionUser(DjangoModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        """As Django's `ModelBackend.get_user`: the active user, or None."""
        user = user_for_session(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_SessionUser):
    """Django's `ModelBackend` (passwords and permissions)."""


class AuthenticationBackend(_SessionUser, AllauthAuthenticationBackend):
    """allauth's backend (logging in by email, its flows)."""


# What a session logged in before these backends recorded, and what it means now.
REPLACED = {
    "django.contrib.auth.backends.ModelBackend": f"{__name__}.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": f"{__name__}.AuthenticationBackend",
}
