"""Maps every exception an endpoint can raise to problem JSON, once, for each API version."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from taskscore.api.common.problems import problem_response
from taskscore.api.common.ratelimit import RateLimited
from taskscore.core.errors import DomainError, PermissionDenied, ValidationFailed
from taskscore.integrations.ai.base import AIError, RetryableAIError

logger = logging.getLogger(__name__)

# Ninja prefixes a location with the parameter source and, for bodies, the parameter's name.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def _field_of(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "[key]"]  # pydantic marks a bad dict key with "[key]"
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and len(parts) > 1:
            parts.pop(0)  # the body parameter's own name, e.g. "payload"
    return ".".join(parts) or "body"


def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers = exc.state.headers() | {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, ValidationFailed) and exc.errors:
        extra["errors"] = [{"field": e.field, "message": e.message} for e in exc.errors]
    if isinstance(exc, PermissionDenied) and exc.permission:
        extra["permission"] = exc.permission
    problem_extra = getattr(exc, "problem_extra", None)
    if callable(problem_extra):  # e.g. the plan, used and limit of a quota error
        extra.update(problem_extra())
    return problem_response(
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        instance=request.path,
        extra=extra,
        headers=headers,
    )


def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": _field_of(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors
    ]
    return problem_response(
        status=422,
        code="validation-failed",
        title="Invalid input",
        detail="The request is not valid; see errors.",
        instance=request.path,
        extra={"errors": errors},
    )


def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        status=401,
        code="not-authenticated",
        title="Authentication required",
        detail="Log in, or send an API key as 'Authorization: Bearer ts_...'.",
        instance=request.path,
        headers={"WWW-Authenticate": 'Bearer realm="taskscore"'},
    )


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem_response(
        status=exc.status_code,
        code=f"http-{exc.status_code}",
        title=str(exc.message),
        instance=request.path,
    )


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(status=404, code="not-found", title="Not found", instance=request.path)


def _ai_unavailable(request: HttpRequest, exc: AIError) -> HttpResponse:
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(exc, RetryableAIError):
        return problem_response(
            status=503,
            code="ai-unavailable",
            title="The AI provider is unavailable",
            detail=str(exc),
            instance=request.path,
            headers={"Retry-After": str(int(retry_after or 5))},
        )
    return problem_response(
        status=502,
        code="ai-refused",
        title="The AI provider refused the request",
        detail=str(exc),
        instance=request.path,
    )


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response(
        status=500,
        code="internal-error",
        title="Internal server error",
        detail="Something went wrong on our side; it has been logged.",
        instance=request.path,
    )


_HANDLERS: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
    (DomainError, _domain_error),
    (NinjaValidationError, _validation_error),
    (AuthenticationError, _authentication_error),
    (HttpError, _http_error),
    (Http404, _not_found),
    (AIError, _ai_unavailable),
    (Exception, _unexpected),
]


def install_error_handlers(api: NinjaAPI) -> None:
    for exc_class, handler in _HANDLERS:
        api.add_exception_handler(exc_class, handler)
