"""Response rules for everything under /api/ that no endpoint shaped itself."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from taskscore.api.common.problems import PROBLEM_CONTENT_TYPE, problem_response
from taskscore.core.errors import ProblemType

_PROBLEMS = {404: ProblemType.NOT_FOUND, 405: ProblemType.METHOD_NOT_ALLOWED}


class ApiResponseMiddleware:
    """- Django's own 404/405 pages (an unknown path, a wrong method) become problem JSON.
    - Every v1 response says v1 is deprecated, when it ends, and where v2 is (RFC 9745/8594).
    - Rate-limited responses carry RateLimit-* headers (see ratelimit.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        repeated = sorted(name for name, values in request.GET.lists() if len(values) > 1)
        if repeated:
            # Every query parameter of this API is one value; Django would use the last one.
            return problem_response(
                ProblemType.VALIDATION_FAILED,
                detail="A query parameter is given more than once.",
                instance=request.path,
                extra={"errors": [{"field": n, "message": "Give it once."} for n in repeated]},
            )
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code in _PROBLEMS and "json" not in content_type:
            allow = response.get("Allow")
            response = problem_response(
                _PROBLEMS[response.status_code],
                detail=f"{request.method} {request.path} is not part of this API."
                if response.status_code == 405
                else f"No endpoint at {request.path}.",
                instance=request.path,
                headers={"Allow": allow} if allow else None,
            )
        rate_limit = getattr(request, "rate_limit", None)
        if rate_limit is not None:
            for name, value in rate_limit.headers().items():
                response[name] = value
        if request.path.startswith("/api/v1/"):
            response["Deprecation"] = settings.API_V1_DEPRECATION
            response["Sunset"] = settings.API_V1_SUNSET
            response["Link"] = '</api/v2/docs>; rel="successor-version"'
        return response


__all__ = ["PROBLEM_CONTENT_TYPE", "ApiResponseMiddleware"]
