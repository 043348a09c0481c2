"""The browser rules on every answer Django gives: the API's JSON (errors included), allauth's,
the static files WhiteNoise serves, the API docs, the admin, Django's own error pages.

Django's SecurityMiddleware sets `X-Content-Type-Options: nosniff` and `Referrer-Policy`
(settings `SECURE_CONTENT_TYPE_NOSNIFF`, `SECURE_REFERRER_POLICY`); this adds what it lacks: a
Content-Security-Policy and a Permissions-Policy. The web app's pages get theirs from
frontend/src/proxy.ts (a per-request nonce) and frontend/next.config.ts (the same
Permissions-Policy). See docs/decisions/0012-security-hardening.md, finding 4."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# An answer that is not a page (JSON, problem JSON, a stylesheet, a script file) loads nothing
# and may be framed by nobody, even when a browser is made to open it as a document.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The HTML pages Django serves: the API docs (Swagger UI), the admin, error pages. Scripts,
# styles, fonts and requests come from this origin only; Swagger UI draws its icons as data: images
# and sets style attributes.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Features Taskscore never uses, refused to every page and to anything embedded in one.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), payment=(), usb=()"
)


class SecurityHeadersMiddleware:
    """First in MIDDLEWARE, so that it sees every answer: those WhiteNoise gives before the
    inner middleware runs, and the 500s Django makes of an exception anywhere below."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        is_page = response.get("Content-Type", "").startswith("text/html")
        policy = PAGE_POLICY if is_page else DATA_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
