"""Secrets are never logged: the proof over a whole test run.

A pytest run (see `backend/conftest.py`) gets a run directory, named to every process it starts
by `TASKSCORE_TEST_RUN_DIR`, holding:

- the log of every process started through `processes.spawn` (gunicorn, Celery workers and
  beat, the fake AI, the Stripe stand-in, the web app: everything they print), `*.log`;
- the test processes' own log records (`pytest-<worker>.log`, written by a handler with the
  production handler's formatter and filters);
- the secrets the run used (`secrets-<pid>.jsonl`), registered where they cross a process
  boundary: `RecordSecretsMiddleware` (first in the test settings' middleware, in the test
  process and in gunicorn alike) records each request's `Authorization` value, cookies,
  `X-CSRFToken`, `Stripe-Signature`, password fields and the app's secrets, and each answer's
  `Set-Cookie` values and API key tokens; fixtures register what they make without HTTP
  (`secret_register`).

At the end of the session `scan_run` reads every log of the directory and reports each line
that holds a registered secret, or anything shaped like one (`SHAPES`: an API key token, a
bearer credential, a session or CSRF cookie, a Stripe signature or secret) that no redaction
masked; the run fails, naming the file and the line. The secrets themselves are never printed.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

RUN_DIR_ENV = "TASKSCORE_TEST_RUN_DIR"
SECRETS_GLOB = "secrets-*.jsonl"
LOG_GLOB = "*.log"
# Shorter values are not secrets worth the name (and would match ordinary words); longer ones are
# junk no client means (the flood of 8 KB tokens in tests/test_security.py), not credentials.
SECRET_MIN_LENGTH = 8
SECRET_MAX_LENGTH = 512
# Nor is one short lowercase word ("password", which a test sends as a password and every
# password-reset path contains): no password policy admits it.
_WORD = re.compile(r"[a-z]{1,15}")
# A secret's "fingerprint": its first characters of a run of letters and digits this long.
_WINDOW = 16

# Shapes of secrets found in a log line whoever made them (a process that registered nothing, a
# value that never crossed HTTP), unless redacted ("[redacted]" follows the name).
SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("API key token", re.compile(r"\bts_[0-9a-f]{12}_[A-Za-z0-9]{20,64}\b")),
    ("bearer credential", re.compile(r"(?i)\bbearer\s+(?!\[redacted)[A-Za-z0-9._~+/=-]{12,}")),
    (
        "session or CSRF cookie",
        re.compile(r"(?i)\b[\w-]*(?:sessionid|csrftoken)=(?!\[redacted)[A-Za-z0-9]{16,}"),
    ),
    (
        "CSRF header",
        re.compile(r"(?i)x[-_]csrftoken[\"']?\s*[:=]\s*[\"']?(?!\[redacted)[A-Za-z0-9]{16,}"),
    ),
    ("Stripe signature", re.compile(r"\bv1=[0-9a-f]{64}\b")),
    ("Stripe secret", re.compile(r"\b(?:sk_live|sk_test|rk_live|rk_test|whsec)_[A-Za-z0-9]{6,}")),
    (
        "Authorization header",
        re.compile(
            r"(?i)(?<![A-Za-z])(?:http_)?authorization[\"']?\s*[:=]\s*[\"']?"
            r"(?![\"'\s]*\[redacted)(?:bearer|basic|token)\s+\S"
        ),
    ),
)


def run_dir() -> Path | None:
    """This test run's directory, or None outside a test run."""
    value = os.environ.get(RUN_DIR_ENV)
    return Path(value) if value else None


# ---------------------------------------------------------------------------------- the registry

_registered: set[str] = set()
_registry_lock = threading.Lock()


def secret_register(kind: str, value: str | None) -> None:
    """Record `value` as a secret this run used (outside a test run: nothing)."""
    directory = run_dir()
    if directory is None or not value or not SECRET_MIN_LENGTH <= len(value) <= SECRET_MAX_LENGTH:
        return
    if _WORD.fullmatch(value):
        return
    with _registry_lock:
        if value in _registered:
            return
        _registered.add(value)
        line = json.dumps({"kind": kind, "value": value}) + "\n"
        with open(directory / f"secrets-{os.getpid()}.jsonl", "a", encoding="utf-8") as file:
            file.write(line)


def secrets_registered(directory: Path) -> dict[str, str]:
    """Every secret registered in the run directory, with its kind."""
    found: dict[str, str] = {}
    for path in sorted(directory.glob(SECRETS_GLOB)):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                found.setdefault(entry["value"], entry["kind"])
    return found


_PASSWORD_FIELD = re.compile(r"(?i)password")
# Cookies that hold a secret (the session, the CSRF secret); others (the web app's time zone) not.
_SECRET_COOKIE = re.compile(r"(?i)session|csrf|token|auth")
_API_KEY_TOKEN = SHAPES[0][1]


def _json_fields(value: Any, wanted: re.Pattern[str]) -> Iterator[str]:
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, str) and wanted.search(str(name)):
                yield item
            else:
                yield from _json_fields(item, wanted)
    elif isinstance(value, list):
        for item in value:
            yield from _json_fields(item, wanted)


def _cookie_values(header: str) -> Iterator[str]:
    cookies: SimpleCookie = SimpleCookie()
    with contextlib.suppress(CookieError):
        cookies.load(header)
    for name, morsel in cookies.items():
        if _SECRET_COOKIE.search(name):
            yield morsel.value


def request_secrets(request: HttpRequest) -> Iterator[tuple[str, str]]:
    """(kind, value) of every secret a request carries."""
    meta = request.META
    authorization = str(meta.get("HTTP_AUTHORIZATION", ""))
    if authorization:
        yield "Authorization header", authorization
        scheme, _, credential = authorization.partition(" ")
        if credential:
            yield f"{scheme} credential", credential.strip()
    for value in _cookie_values(str(meta.get("HTTP_COOKIE", ""))):
        yield "cookie", value
    yield "CSRF header", str(meta.get("HTTP_X_CSRFTOKEN", ""))
    signature = str(meta.get("HTTP_STRIPE_SIGNATURE", ""))
    if signature:
        yield "Stripe-Signature header", signature
        for part in signature.split(","):
            name, _, value = part.partition("=")
            if name.strip() in ("v1", "v0"):
                yield "Stripe signature", value.strip()
    content_type = str(meta.get("CONTENT_TYPE", ""))
    length = int(meta.get("CONTENT_LENGTH") or 0)
    if 0 < length <= 1_000_000 and request.method in ("POST", "PUT", "PATCH"):
        if content_type.startswith("application/json"):
            # Any body at all: the JSON gate after this middleware refuses the bad ones (400).
            with contextlib.suppress(ValueError, RecursionError):
                for value in _json_fields(json.loads(request.body), _PASSWORD_FIELD):
                    yield "password", value
        elif content_type.startswith("application/x-www-form-urlencoded"):
            for name, values in request.POST.lists():
                if _PASSWORD_FIELD.search(name):
                    for value in values:
                        yield "password", value


def response_secrets(response: HttpResponse) -> Iterator[tuple[str, str]]:
    """(kind, value) of every secret an answer hands out: cookies, API key tokens."""
    for name, morsel in response.cookies.items():
        if _SECRET_COOKIE.search(name):
            yield "Set-Cookie", morsel.value
    content_type = response.get("Content-Type", "")
    if "json" in content_type and not response.streaming:
        body = response.content
        if len(body) <= 1_000_000:
            for token in _API_KEY_TOKEN.findall(body.decode("utf-8", "replace")):
                yield "API key token", token


def settings_secrets() -> Iterator[tuple[str, str]]:
    """The app's own secrets, as configured now (tests override some)."""
    yield "SECRET_KEY", settings.SECRET_KEY
    yield "STRIPE_SECRET_KEY", settings.STRIPE_SECRET_KEY
    yield "STRIPE_WEBHOOK_SECRET", settings.STRIPE_WEBHOOK_SECRET
    yield "AI_API_KEY", settings.AI_API_KEY


class RecordSecretsMiddleware:
    """Test settings only: registers every secret a request carries and an answer hands out
    (see the module's docstring). Records; changes nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if run_dir() is None:
            return self.get_response(request)
        for kind, value in itertools.chain(settings_secrets(), request_secrets(request)):
            secret_register(kind, value)
        response = self.get_response(request)
        for kind, value in response_secrets(response):
            secret_register(kind, value)
        return response


# ---------------------------------------------------------------------------------- the scan


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int  # 1-based
    kind: str
    excerpt: str  # the line with the secret masked

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.excerpt}"


def mask(value: str) -> str:
    """How a found secret is shown: its first 4 characters and its length, never the rest."""
    return f"{value[:4]}…({len(value)} chars)"


class SecretIndex:
    """The registered secrets, ready to be found in text fast whatever their number.

    A secret with a run of 16 or more letters and digits (tokens, session ids, signatures) is
    found through that run: every run of a line is looked up window by window (16 characters)
    in a dict, so a secret glued to other text (URL-encoded, in a longer word) is found too.
    Others (passwords) are searched as plain substrings."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        self.by_window: dict[str, list[tuple[str, str]]] = {}
        self.substrings: list[tuple[str, str]] = []
        for value, kind in secrets.items():
            runs = [r for r in re.findall(r"[A-Za-z0-9]+", value) if len(r) >= _WINDOW]
            if runs:
                for run in runs:
                    self.by_window.setdefault(run[:_WINDOW], []).append((run, kind))
            else:
                self.substrings.append((value, kind))

    def find(self, line: str) -> Iterator[tuple[str, str]]:
        """(secret, kind) for each registered secret in the line."""
        if self.by_window:
            for match in re.finditer(rf"[A-Za-z0-9]{{{_WINDOW},}}", line):
                run = match[0]
                for start in range(len(run) - _WINDOW + 1):
                    for secret, kind in self.by_window.get(run[start : start + _WINDOW], ()):
                        if run.startswith(secret, start):
                            yield secret, kind
        for secret, kind in self.substrings:
            if secret in line:
                yield secret, kind


def scan_lines(lines: Iterable[str], *, path: Path, index: SecretIndex) -> list[Finding]:
    findings: list[Finding] = []
    for number, line in enumerate(lines, start=1):
        hits = [(secret, f"registered {kind}") for secret, kind in index.find(line)]
        hits += [(m[0], kind) for kind, pattern in SHAPES for m in pattern.finditer(line)]
        if not hits:
            continue
        excerpt = line
        for secret, _ in hits:
            excerpt = excerpt.replace(secret, mask(secret))
        for kind in dict.fromkeys(kind for _, kind in hits):
            findings.append(Finding(path, number, kind, excerpt.strip()[:300]))
    return findings


def scan_files(paths: Iterable[Path], secrets: Mapping[str, str]) -> list[Finding]:
    """Every line of these files that holds one of `secrets` or a secret's shape."""
    index = SecretIndex(secrets)
    findings: list[Finding] = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as file:
            findings += scan_lines(file, path=path, index=index)
    return findings


def scan_run(directory: Path) -> list[Finding]:
    """The findings in every log of a test run's directory."""
    logs = sorted(directory.rglob(LOG_GLOB))
    return scan_files(logs, secrets_registered(directory))
