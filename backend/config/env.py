"""Typed readers for settings taken from the environment.

Each reader fails loudly on a malformed value instead of falling back silently; `<NAME>_FILE`
reads a secret from a file (Docker/Kubernetes secrets).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    """The variable's value; `default` when unset; an error when unset with no default."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    value = os.environ.get(name)
    if value is not None:
        return value
    if default is None:
        raise ImproperlyConfigured(f"Set the environment variable {name}.")
    return default


def env_secrets(*names: str, published: frozenset[str] = frozenset()) -> list[str]:
    """The values of secrets that have no default (each from `<NAME>` or `<NAME>_FILE`), in order.

    One ImproperlyConfigured names every one that is unset, empty, or one of the `published`
    values (the development ones anybody can read in this repository), so an operator fixes them
    all in one go."""
    values = [env_str(name, "") for name in names]
    missing = [
        name
        for name, value in zip(names, values, strict=True)
        if not value.strip() or value in published
    ]
    if missing:
        raise ImproperlyConfigured(
            f"These secrets have no default: set {', '.join(missing)} in the environment (or "
            "<NAME>_FILE to read one from a file); published development values are refused."
        )
    return values


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false).")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from exc
