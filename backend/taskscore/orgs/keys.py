"""API key format: `ts_<prefix>_<secret>`. The prefix finds the row; the secret is compared by
its SHA-256 (a fast hash suffices: the secret has 256 bits of entropy, unlike a password)."""

from __future__ import annotations

import hashlib
import hmac
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


def key_parse(token: str) -> ParsedKey | None:
    parts = token.split("_")
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return ParsedKey(prefix=parts[1], secret=parts[2])


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)
