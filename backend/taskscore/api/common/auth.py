"""Authentication and authorization for both API versions.

Every operation declares what it needs with exactly one of these decorators (placed under the
router's decorator); a test fails for an operation without one:

- `@requires(Perm.TASK_READ)`: a principal of the org in the path (or, in v1, the API key's org)
  holding the permission. Another org answers 404; a missing permission 403 naming it; an owner
  or admin without two-factor authentication in an org that requires it 403 `mfa-required`.
  `@requires(Perm.AUDIT_READ, feature=Feature.AUDIT_LOG)` also needs the org's plan to include
  the paid feature: 402 `plan-feature-required` otherwise (checked after the permission).
- `@authenticated`: any logged-in user (e.g. `/me`), no org involved.
- `@public`: no credentials (e.g. the CSRF cookie endpoint).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from taskscore.accounts.models import User
from taskscore.api.common.ratelimit import (
    anonymous_take,
    failed_auth_charge,
    failed_auth_check,
    rate_limit_take,
)
from taskscore.billing.features import Feature
from taskscore.billing.selectors import org_feature_require
from taskscore.core import request_context
from taskscore.core.errors import ApiKeyExpired, NotAuthenticated, NotFound
from taskscore.orgs.principals import (
    Principal,
    principal_for_token,
    principal_for_user,
    principal_mfa_require,
)
from taskscore.orgs.services import api_key_touch
from taskscore.rbac.catalog import Perm

View = TypeVar("View", bound=Callable[..., Any])

PUBLIC = "public"
AUTHENTICATED = "authenticated"


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer ts_<prefix>_<secret>`; the result is the key's Principal."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        """The key's principal; a key of an org whose plan lacks API keys (a downgrade) is kept
        but refused here, 402 `plan-feature-required`, before anything else happens.

        A token that is not an active key (an expired one: 401 saying so) is a failed
        authentication, charged to the client's address; once those are used up, 429, and a
        lookup no longer reaches Postgres."""
        try:
            principal = principal_for_token(token, before_load=lambda: failed_auth_check(request))
        except ApiKeyExpired:
            failed_auth_charge(request)  # 401 saying the key expired
            raise
        if principal is None:
            failed_auth_charge(request)
        if principal is not None and principal.api_key_id is not None:
            org_feature_require(
                org_id=principal.org_id,
                feature=Feature.API_KEYS,
                detail="This API key belongs to an org whose plan does not include API keys; "
                "the key is kept and works again once the org is on a plan that does.",
            )
            api_key_touch(api_key_id=principal.api_key_id)
        return principal


class BrowserSessionAuth(SessionAuth):
    """The allauth session cookie, with Django's CSRF check on unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if isinstance(user, User) and user.is_active else None


def request_principal(request: HttpRequest, *, org_slug: str | None = None) -> Principal:
    """The principal acting in `org_slug` (or, with no slug, the API key's own org)."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, Principal):
        if org_slug is not None and auth.org_slug != org_slug:
            raise NotFound(detail="No such organization.")
        return auth
    if isinstance(auth, User) and org_slug is not None:
        return principal_for_user(auth.pk, org_slug=org_slug, email=auth.email)
    raise NotAuthenticated(detail="Authentication required.")


def request_user(request: HttpRequest) -> User:
    auth = getattr(request, "auth", None)
    if not isinstance(auth, User):
        raise NotAuthenticated(detail="Log in with a browser session.")
    return auth


def principal_of(request: HttpRequest) -> Principal:
    """The principal `@requires` resolved for this request."""
    principal: Principal = request.principal  # type: ignore[attr-defined]
    return principal


def _wrap(view: View, before: Callable[[HttpRequest, dict[str, Any]], None], mark: str) -> View:
    """`view` with `before(request, kwargs)` run first: the one place where every authenticated
    operation gets its checks and its rate limit, so that none escapes them by omission."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        before(request, kwargs)
        return view(request, *args, **kwargs)

    wrapper.required_permission = mark  # type: ignore[attr-defined]
    # Ninja reads the parameters' types from the signature; resolve them in the view's own
    # module (they are strings under `from __future__ import annotations`).
    wrapper.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def requires(permission: Perm, *, feature: Feature | None = None) -> Callable[[View], View]:
    """A principal of the org in the path holding `permission` (and, with `feature`, an org
    whose plan includes that paid feature); charged to its rate limits."""

    def check(request: HttpRequest, kwargs: dict[str, Any]) -> None:
        principal = request_principal(request, org_slug=kwargs.get("org"))
        request_context.bind(org_id=principal.org_id, task_id=kwargs.get("task_id"))
        principal_mfa_require(principal)
        principal.require(permission)
        request.principal = principal  # type: ignore[attr-defined]
        caller = f"k{principal.api_key_id}" if principal.api_key_id else f"u{principal.user_id}"
        request.rate_limit = rate_limit_take(caller=caller, org_id=principal.org_id)  # type: ignore[attr-defined]
        if feature is not None:
            org_feature_require(org_id=principal.org_id, feature=feature)

    def decorate(view: View) -> View:
        wrapped = _wrap(view, check, permission)
        wrapped.required_feature = feature  # type: ignore[attr-defined]
        return wrapped

    return decorate


def authenticated(view: View) -> View:
    """Any logged-in person, outside any org; charged to their account's rate limit."""

    def check(request: HttpRequest, kwargs: dict[str, Any]) -> None:
        user = request_user(request)
        request.rate_limit = rate_limit_take(caller=f"u{user.pk}", org_id=None)  # type: ignore[attr-defined]

    return _wrap(view, check, AUTHENTICATED)


def public(view: View) -> View:
    """No credentials; charged to the client address's budget for anonymous requests."""

    def check(request: HttpRequest, kwargs: dict[str, Any]) -> None:
        anonymous_take(request)

    return _wrap(view, check, PUBLIC)
