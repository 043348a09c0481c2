"""Maps every exception an endpoint can raise to problem JSON, once, for each API version."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from taskscore.api.common.problems import problem_response
from taskscore.api.common.ratelimit import RateLimited, anonymous_take
from taskscore.core.errors import (
    DomainError,
    FieldError,
    NotAuthenticated,
    ProblemType,
    ValidationFailed,
)
from taskscore.core.fields import field_path
from taskscore.integrations.ai.base import AIError, RetryableAIError
from taskscore.scoring.engine import CRITERION_KINDS

logger = logging.getLogger(__name__)

# Ninja prefixes a location with the parameter source and, for bodies, the parameter's name.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
# The tags of every tagged union in the schemas: left out of field paths (core.fields).
_UNION_TAGS = CRITERION_KINDS


def _field_of(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and len(parts) > 1:
            parts.pop(0)  # the body parameter's own name, e.g. "payload"
    return field_path(parts, union_tags=_UNION_TAGS) or "body"


def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem_response(
        exc.problem,
        detail=exc.detail,
        instance=request.path,
        extra=exc.problem_extra(),
        headers=exc.problem_headers(),
    )


def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [FieldError(_field_of(e.get("loc", ())), e.get("msg", "")) for e in exc.errors]
    return _domain_error(
        request, ValidationFailed(detail="The request is not valid; see errors.", errors=errors)
    )


def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """401. A request with no credentials at all is charged to its address's anonymous budget
    (a bad API key was charged as a failed authentication already): 429 once it is spent."""
    if "HTTP_AUTHORIZATION" not in request.META:
        try:
            anonymous_take(request)
        except RateLimited as limited:
            return _domain_error(request, limited)
    return _domain_error(
        request,
        NotAuthenticated(detail="Log in, or send an API key as 'Authorization: Bearer ts_...'."),
    )


# Ninja's own HTTP errors: a body that is not JSON (400) and a failed CSRF check (403).
_HTTP_ERRORS = {400: ProblemType.MALFORMED_REQUEST, 403: ProblemType.CSRF_FAILED}


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    problem = _HTTP_ERRORS.get(exc.status_code, ProblemType.MALFORMED_REQUEST)
    return problem_response(problem, detail=str(exc.message), instance=request.path)


def _unreadable_body(request: HttpRequest, exc: Exception) -> HttpResponse:
    """400: a form body Django cannot parse (multipart without its boundary, found by
    schemathesis' content-type probes), or one past DATA_UPLOAD_MAX_MEMORY_SIZE."""
    return problem_response(
        ProblemType.MALFORMED_REQUEST,
        detail="The body cannot be read; send JSON (application/json).",
        instance=request.path,
    )


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(ProblemType.NOT_FOUND, instance=request.path)


def _ai_unavailable(request: HttpRequest, exc: AIError) -> HttpResponse:
    """502/503 in our words: the provider's own text (its URL, its error body) is logged only."""
    logger.warning("AI provider failed on %s %s: %s", request.method, request.path, exc)
    if isinstance(exc, RetryableAIError):
        return problem_response(
            ProblemType.AI_UNAVAILABLE,
            detail="The AI provider did not answer; try again shortly.",
            instance=request.path,
            headers={"Retry-After": str(int(exc.retry_after or 5))},
        )
    return problem_response(
        ProblemType.AI_REFUSED,
        detail="The AI provider refused the request; it has been logged.",
        instance=request.path,
    )


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response(
        ProblemType.INTERNAL_ERROR,
        detail="Something went wrong on our side; it has been logged.",
        instance=request.path,
    )


_HANDLERS: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
    (DomainError, _domain_error),
    (NinjaValidationError, _validation_error),
    (AuthenticationError, _authentication_error),
    (HttpError, _http_error),
    (Http404, _not_found),
    (MultiPartParserError, _unreadable_body),
    (RequestDataTooBig, _unreadable_body),
    (AIError, _ai_unavailable),
    (Exception, _unexpected),
]


def install_error_handlers(api: NinjaAPI) -> None:
    for exc_class, handler in _HANDLERS:
        api.add_exception_handler(exc_class, handler)
