"""Logs: one JSON object per line (`LOG_FORMAT=json`, the default) or readable text (`text`),
from every process — gunicorn, Celery workers and beat, management commands — through one
configuration (`logging_config`), with secrets redacted.

A JSON line holds `time` (UTC, ISO 8601), `level`, `logger`, `message`, the context's ids when
known (`request_id`, `org_id`, `task_id`, `job`, `job_id`: `taskscore.core.request_context`; with
tracing on, `trace_id` while a sampled span is current: `taskscore.core.tracing`), any
scalar `extra` a call passed (e.g. `status`, `duration_ms`), and `exception` (the traceback as
text) when there is one. Objects given as `extra` (Django's `request`) are left out.

Secrets: `redact` masks what a log line could carry of one — `Authorization`, `Cookie`,
`Set-Cookie`, `X-CSRFToken` and `Stripe-Signature` values, bearer and basic credentials, session
and CSRF cookies, API keys (`ts_<prefix>_<secret>` keeps its prefix), Stripe secrets (`sk_…`,
`rk_…`, `whsec_…`), Stripe signatures (`t=…,v1=…`) and `password`/`secret`/`token` fields. The
`RedactSecrets` filter applies it to every record a handler of this configuration emits
(message and traceback), and the formatters once more to each text they write.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from taskscore.core import request_context

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")
REDACTED = "[redacted]"

# A header (or WSGI META key, or JSON/dict member) whose whole value is a secret.
_SECRET_HEADER = re.compile(
    r"(?i)(?<![A-Za-z])((?:http_)?(?:proxy[-_])?authorization|(?:http_)?cookie|set-cookie"
    r"|(?:http_)?x[-_]csrftoken|(?:http_)?stripe[-_]signature)"
    r"([\"']?\s*[:=]\s*[\"']?)(?![\"'\s]*\[redacted\])([^\"'\r\n]+)"
)
_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic)\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]{6,}")
_COOKIE = re.compile(r"(?i)\b([\w-]*(?:session|csrf)[\w-]*)=(?!\[redacted\])[^;\s\"',&]+")
_API_KEY = re.compile(r"\bts_([0-9a-f]{12})_[A-Za-z0-9]{20,64}\b")
_STRIPE_SECRET = re.compile(r"\b(sk_live|sk_test|rk_live|rk_test|whsec)_[A-Za-z0-9_]+")
_STRIPE_SIGNATURE = re.compile(r"\bt=\d+,v1=[0-9a-f]+(?:,v[01]=[0-9a-f]+)*")
_SECRET_FIELD = re.compile(
    r"(?i)([\"']?\b(?:password\d?|new_password|old_password|current_password|secret|token"
    r"|csrfmiddlewaretoken)[\"']?\s*[:=]\s*[\"']?)(?!\[redacted\])([^\"'\s,&}]+)"
)

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_SECRET_HEADER, rf"\1\2{REDACTED}"),
    (_STRIPE_SIGNATURE, REDACTED),
    (_CREDENTIAL, rf"\1 {REDACTED}"),
    (_COOKIE, rf"\1={REDACTED}"),
    (_API_KEY, rf"ts_\1_{REDACTED}"),
    (_STRIPE_SECRET, rf"\1_{REDACTED}"),
    (_SECRET_FIELD, rf"\1{REDACTED}"),
)
# Cheap pre-check: a line without any of these words has nothing to redact.
_MAYBE_SECRET = re.compile(
    r"(?i)authorization|cookie|csrf|signature|bearer|basic|session|ts_|sk_|rk_|whsec_|v1="
    r"|password|secret|token"
)


def redact(text: str) -> str:
    """`text` with every secret it carries (see the module's docstring) replaced by
    `[redacted]`."""
    if not _MAYBE_SECRET.search(text):
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


# More ids for every line, from outside the request context: the current trace's, when tracing is
# on (core.tracing adds its source). No source, as with tracing off, costs nothing.
_id_sources: list[Callable[[], Mapping[str, Any]]] = []


def log_ids_source_add(source: Callable[[], Mapping[str, Any]]) -> None:
    """Have `ContextFilter` copy the ids `source()` returns onto every record too."""
    if source not in _id_sources:
        _id_sources.append(source)


class ContextFilter(logging.Filter):
    """Copies the current request's or job's ids onto the record (`request_context.current`),
    and those of any other source (`log_ids_source_add`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in request_context.current().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        for source in _id_sources:
            for name, value in source().items():
                if not hasattr(record, name):
                    setattr(record, name, value)
        return True


class RedactSecrets(logging.Filter):
    """Redacts the record's message and traceback; the record is changed only when they carry
    a secret (so other handlers, e.g. pytest's capture, see the redacted text too)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# What every LogRecord has; anything else on a record came from `extra` or ContextFilter.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}
_CONTEXT_FIELDS = ("request_id", "org_id", "task_id", "job", "job_id", "trace_id")


def _moment(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (see the module's docstring). Each text is
    redacted before it is serialized (redacting the serialized line could break its quoting)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _moment(record),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name in _CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        for name, value in vars(record).items():
            if name in _RECORD_ATTRIBUTES or name in line or name.startswith("_"):
                continue
            if isinstance(value, str):
                line[name] = redact(value)
            elif value is None or isinstance(value, int | float | bool):
                line[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A readable line: time, level, logger, the context's ids when known, the message (and a
    traceback on the lines after)."""

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(
            f"{name}={getattr(record, name)}"
            for name in _CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        )
        text = f"{self.formatTime(record)} {record.levelname} {record.name}"
        text += f" [{ids}] " if ids else " "
        text += record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + record.exc_text
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return redact(text)


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` of every process: Django's LOGGING, gunicorn's
    `logconfig_dict`, Celery's (through its `setup_logging` signal). Everything goes to the
    root logger's one handler on stderr."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT={log_format!r}: use one of {', '.join(LOG_FORMATS)}.")
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": f"{__name__}.ContextFilter"},
            "secrets": {"()": f"{__name__}.RedactSecrets"},
        },
        "formatters": {"default": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context", "secrets"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's defaults (a plain console handler under DEBUG, and mail to ADMINS with the
            # request's headers on errors) give way: its lines reach the root's handler only.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.server": {"handlers": [], "propagate": True},
            "django.db.backends": {"level": "WARNING"},
            # Every request has its access line (taskscore.request): Django's own warnings for
            # 4xx answers would repeat it.
            "django.request": {"level": "ERROR"},
            # gunicorn's own loggers keep no handler of their own: their lines reach the root's.
            # Its access lines only when asked for (gunicorn.conf.py, WEB_ACCESS_LOG): each
            # request has its line from Django already (taskscore.request).
            "gunicorn.error": {"handlers": [], "propagate": True},
            "gunicorn.access": {"handlers": [], "propagate": True, "level": "WARNING"},
            # A worker's start ("… ready.") and stop lines, a few per process lifetime, at any
            # LOG_LEVEL: an operator sees when a node joined, and the tools that start workers
            # (the tests, the benchmarks) wait for the first of them.
            "celery.apps.worker": {"level": "DEBUG" if level == "DEBUG" else "INFO"},
        },
    }
