"""One gate for every JSON request body, ours and allauth's: standard JSON or a 400.

Python's `json` accepts what JSON does not (`NaN`, `Infinity`, `-Infinity`, numbers too large for
a float, which become infinity) and recurses once per nesting level, so a body of 100,000 `[`
raised a RecursionError (a 500) in allauth's endpoints, and an infinite criterion bound reached
Postgres, which refuses it in a JSON column (a 500). This middleware parses every JSON body once,
before any view, and refuses those bodies with a problem that says what is wrong; the views then
parse a body known to be sound. Limits: MAX_DEPTH levels of nesting (no request of this API
needs more than 5)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException

from taskscore.api.common.problems import problem_response
from taskscore.core.errors import ProblemType

MAX_DEPTH = 32


class BodyRefused(ValueError):
    """The body is not standard JSON within this API's limits; the message says why."""


def _constant(name: str) -> Any:
    raise BodyRefused(f"{name} is not a JSON number.")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BodyRefused(f"The number {text[:40]} is too large.")
    return value


def _depth(value: object) -> int:
    """Nesting depth, iteratively (the structure is already bounded by the parser)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def json_body_check(body: bytes) -> None:
    """Raise BodyRefused unless `body` is standard JSON nested at most MAX_DEPTH levels."""
    try:
        parsed = json.loads(body, parse_constant=_constant, parse_float=_finite)
    except RecursionError:
        raise BodyRefused(f"The body is nested more than {MAX_DEPTH} levels deep.") from None
    except BodyRefused:
        raise
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise BodyRefused(f"The body is not valid JSON: {error}.") from None
    if _depth(parsed) > MAX_DEPTH:
        raise BodyRefused(f"The body is nested more than {MAX_DEPTH} levels deep.")


class JSONBodyMiddleware:
    """Refuses a request whose JSON body is not standard JSON (400 problem), on every path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "json" in (request.content_type or "") and request.method not in (
            "GET",
            "HEAD",
            "OPTIONS",
        ):
            try:
                body = request.body
            except RawPostDataException:  # the body was streamed already: nothing to check
                body = b""
            except RequestDataTooBig:  # past DATA_UPLOAD_MAX_MEMORY_SIZE: ours, not Django's page
                return problem_response(
                    ProblemType.MALFORMED_REQUEST,
                    detail="The body is too large.",
                    instance=request.path,
                )
            if body and not request.path.startswith("/api/webhooks/"):
                try:
                    json_body_check(body)
                except BodyRefused as refused:
                    return problem_response(
                        ProblemType.MALFORMED_REQUEST, detail=str(refused), instance=request.path
                    )
        return self.get_response(request)
