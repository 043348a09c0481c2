"""API key format: `ts_<prefix>_<secret>`. The prefix finds the row; the secret is compared by
its SHA-256 (a fast hash suffices: the secret has 256 bits of entropy, unlike a password)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_PREFIX = "ts"
_PREFIX_BYTES = 6
_SECRET_BYTES = 32


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    secret: str


def key_generate() -> tuple[str, ParsedKey]:
    """A new key as the full token shown once, and its parts."""
    prefix = secrets.token_hex(_PREFIX_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES).replace("_", "").replace("-", "")
    return f"{KEY_PREFIX}_{prefix}_{secret}", ParsedKey(prefix=prefix, secret=secret)


# Exactly what key_generate makes: 12 lowercase hex digits, then the secret's letters and digits
# (token_urlsafe(32) is 43 characters, fewer once "_" and "-" are dropped). Anything else is not a
# key and is refused before any lookup, so a malformed token costs neither SQL nor Redis.
_TOKEN = re.compile(rf"{KEY_PREFIX}_([0-9a-f]{{{_PREFIX_BYTES * 2}}})_([A-Za-z0-9]{{20,64}})")


def key_parse(token: str) -> ParsedKey | None:
    match = _TOKEN.fullmatch(token) if len(token) <= 100 else None
    if match is None:
        return None
    return ParsedKey(prefix=match[1], secret=match[2])


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)
