"""Request authentication for both API versions: org API keys and browser sessions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from taskscore.accounts.models import User
from taskscore.core.errors import NotAuthenticated
from taskscore.orgs.models import ApiKey
from taskscore.orgs.principals import Principal, principal_for_api_key, principal_for_user
from taskscore.orgs.selectors import api_key_authenticate
from taskscore.orgs.services import api_key_touch


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer ts_<prefix>_<secret>`."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        api_key = api_key_authenticate(token=token)
        if api_key is not None:
            api_key_touch(api_key=api_key)
        return api_key


class BrowserSessionAuth(SessionAuth):
    """The allauth session cookie, with Django's CSRF check on unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if isinstance(user, User) and user.is_active else None


def request_principal(request: HttpRequest, *, org_slug: str | None = None) -> Principal:
    """The principal acting in `org_slug` (or, for v1, the API key's own org)."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        return principal_for_api_key(auth, org_slug=org_slug)
    if isinstance(auth, User) and org_slug is not None:
        return principal_for_user(auth.pk, org_slug=org_slug)
    raise NotAuthenticated(detail="Authentication required.")
