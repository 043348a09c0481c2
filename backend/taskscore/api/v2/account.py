from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from ninja import Router

from taskscore.api.common.auth import BrowserSessionAuth
from taskscore.api.v2.schemas import MeOut
from taskscore.orgs.selectors import memberships_of_user

router = Router(tags=["account"])


@router.get("/auth/csrf", auth=None, response={204: None}, operation_id="csrf_cookie")
@ensure_csrf_cookie
def csrf_cookie(request: HttpRequest) -> HttpResponse:
    """Sets the `csrftoken` cookie the browser echoes as `X-CSRFToken` on unsafe requests."""
    return HttpResponse(status=204)


@router.get("/me", auth=BrowserSessionAuth(), response=MeOut, operation_id="me")
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    return {
        "id": user.pk,
        "email": user.email,
        "orgs": [
            {"slug": m.org.slug, "name": m.org.name, "role": m.role}
            for m in memberships_of_user(user_id=user.pk)
        ],
    }
