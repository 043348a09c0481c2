"""Redaction of personal data and credentials from task text before it is sent to an AI provider.

`redact(text)` replaces each finding with a fixed placeholder, `[<kind>]`:

    query   a URL keeps its scheme, host and path; its query string and fragment become
            `?[query]`, and a password in its user info becomes `[secret]`
    secret  keys and tokens with a known shape (Stripe `sk_live_`/`sk_test_`/`rk_`/`pk_`/`whsec_`,
            OpenAI `sk-`, GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_`, Slack
            `xoxa-`/`xoxb-`/`xoxp-`/`xoxr-`, AWS `AKIA`/`ASIA` key ids, JWTs), the credential
            after `Bearer` or `Authorization: Basic|Bearer|Token`, the value of an assignment to a
            name ending in password, passwd, passphrase, pwd, secret, token, api key, access key
            or private key (`=` always; `:` when the value is quoted or not a plain word), and
            long high-entropy strings (32+ characters with a 16+ character run mixing letters and
            digits, at least 3 bits of entropy per character)
    email   email addresses
    card    payment card numbers: 13-19 digits, contiguous or grouped by spaces or dashes, that
            start like a card (2-6) and pass the Luhn check
    phone   international numbers (`+CC`, 8-15 digits) and national ones written with separators
            (`(415) 555-2671`, `415-555-2671`, `020 7946 0958`, `030 901820`, `06 12 34 56 78`)

The steps run in that order, high-entropy strings last: a URL's query may hold an email, a key
may hold digits that look like a card or a phone. No step matches a placeholder, and the steps
repeat until a pass changes nothing, so redaction is deterministic and idempotent:
`redact(redact(x).text) == Redaction(redact(x).text, ())`. Plain numbers are left alone: counts
(`10,000`), measurements (`2.8s`), versions (`4.12.1`), dates (`2026-12-01`, `01.12.2026`), times,
amounts (`$12k`), percentages, issue numbers (`#1234`), IP addresses, UUIDs, identifiers
(`test_handles_429_retry_after`). A git commit hash is 40 random hex digits: it is redacted as a
secret, since nothing tells it from a hex API key.

Pure: no Django, no I/O, and the redacted values are never logged nor returned.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["REDACTION_KINDS", "Redaction", "RedactionKind", "redact"]

RedactionKind = Literal["card", "email", "phone", "query", "secret"]
REDACTION_KINDS: tuple[RedactionKind, ...] = get_args(RedactionKind)


@dataclass(frozen=True)
class Redaction:
    """The redacted text and the sorted, distinct kinds of what was replaced in it."""

    text: str
    kinds: tuple[RedactionKind, ...]

    @property
    def redacted(self) -> bool:
        """Whether anything was replaced."""
        return bool(self.kinds)


def redact(text: str) -> Redaction:
    """`text` with URL queries, secrets, email addresses, card and phone numbers replaced by
    their placeholders (see the module docstring)."""
    found: set[RedactionKind] = set()
    # A replacement can make new text match an earlier step ("password:' '#x" loses its space
    # and becomes part of a URL), so passes repeat until one changes nothing: that makes
    # redaction idempotent. In practice the second pass is the last.
    for _ in range(_MAX_PASSES):
        before = text
        for pattern, replace in _STEPS:
            text = _substitute(pattern, replace, text, found)
        if text == before:
            break
    return Redaction(text=text, kinds=tuple(sorted(found)))


# A replacement: the new text and the kinds it replaced, or None to keep the match as it is.
_Replace = Callable[[re.Match[str]], tuple[str, tuple[RedactionKind, ...]] | None]

_MAX_PASSES = 8
_PLACEHOLDER = re.compile(r"\[(?:card|email|phone|query|secret)\]")
_QUERY_PLACEHOLDER = "?[query]"
_CREDENTIAL_PLACEHOLDER = "[secret]"
# Punctuation that ends a sentence or closes a bracket after a URL, not part of it.
_URL_TRAILING = ".,;:!?)'\">"


def _substitute(
    pattern: re.Pattern[str], replace: _Replace, text: str, found: set[RedactionKind]
) -> str:
    def one(match: re.Match[str]) -> str:
        result = replace(match)
        if result is None or result[0] == match.group(0):
            return match.group(0)
        found.update(result[1])
        return result[0]

    return pattern.sub(one, text)


_URL = re.compile(
    r"""
    \b[A-Za-z][A-Za-z0-9+.-]{1,15}://
    (?:[^\s/?#@:]*:(?P<password>[^\s/?#@]+)@)?
    [^\s/?#@]+
    (?:/[^\s?#]*)?
    (?P<rest>[?#]\S*)?
    """,
    re.VERBOSE,
)


def _url(match: re.Match[str]) -> tuple[str, tuple[RedactionKind, ...]] | None:
    url = match.group(0)
    kinds: list[RedactionKind] = []
    rest = match.group("rest") or ""
    # A lone "?" or "#" (the end of a question, an empty fragment) carries nothing.
    trimmed = rest.rstrip(_URL_TRAILING)
    if len(trimmed) > 1 and trimmed != _QUERY_PLACEHOLDER:
        start = match.start("rest") - match.start()
        url = url[:start] + _QUERY_PLACEHOLDER + rest[len(trimmed) :]
        kinds.append("query")
    password = match.group("password")
    if password is not None and password != _CREDENTIAL_PLACEHOLDER:
        # The password comes before the query: its offsets are still those of the match.
        start, end = (i - match.start() for i in match.span("password"))
        url = url[:start] + _CREDENTIAL_PLACEHOLDER + url[end:]
        kinds.append("secret")
    return (url, tuple(kinds)) if kinds else None


_KNOWN_SECRET = re.compile(
    r"""
    \b(?:
        (?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}
      | whsec_[A-Za-z0-9]{16,}
      | sk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}
      | gh[pousr]_[A-Za-z0-9]{20,}
      | github_pat_[A-Za-z0-9_]{20,}
      | xox[abpr]-[A-Za-z0-9-]{10,}
      | (?:AKIA|ASIA)[0-9A-Z]{16}
      | eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*
    )(?![A-Za-z0-9_-])
    """,
    re.VERBOSE,
)


def _known_secret(match: re.Match[str]) -> tuple[str, tuple[RedactionKind, ...]]:
    return _CREDENTIAL_PLACEHOLDER, ("secret",)


_AUTHORIZATION = re.compile(
    r"""
    (?P<prefix>\b(?:(?P<header>Authorization:[ \t]*(?:Basic|Bearer|Token))|Bearer)[ \t]+)
    (?P<token>[A-Za-z0-9._~+/-]+=*)
    """,
    re.VERBOSE | re.IGNORECASE,
)


def _authorization(match: re.Match[str]) -> tuple[str, tuple[RedactionKind, ...]] | None:
    token = match.group("token")
    # After the header name anything is a credential; after a bare "Bearer" a word may be prose
    # ("Bearer authentication"), a credential is long or has digits.
    is_credential = (
        match.group("header") is not None
        or len(token) >= 20
        or (len(token) >= 8 and any(c.isdigit() for c in token))
    )
    return (match.group("prefix") + _CREDENTIAL_PLACEHOLDER, ("secret",)) if is_credential else None


_VALUE_TRAILING = ".)]}>"
_ASSIGNMENT = re.compile(
    r"""
    (?P<key>password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key
      |private[_-]?key)
    (?P<separator>["']?[ \t]*(?P<operator>[:=])[ \t]*)
    (?P<value>"[^"\n]*"|'[^'\n]*'|(?!=)[^\s,;'"]+)
    """,
    re.VERBOSE | re.IGNORECASE,
)


def _assignment(match: re.Match[str]) -> tuple[str, tuple[RedactionKind, ...]] | None:
    value = match.group("value")
    quote = value[0] if value[0] in "\"'" else ""
    if quote:
        inner, closing = value[1:-1], ""
    else:
        redacted = _PLACEHOLDER.match(value)
        if redacted and not value[redacted.end() :].strip(_VALUE_TRAILING):
            return None
        # A sentence's full stop or a closing bracket after the value is not part of it.
        inner = value.rstrip(_VALUE_TRAILING)
        closing = value[len(inner) :]
    if not inner or _PLACEHOLDER.fullmatch(inner):
        return None
    # After a colon a plain word is more likely prose ("the secret: we ship") than a credential.
    if match.group("operator") == ":" and not quote and inner.isalpha():
        return None
    prefix = match.group("key") + match.group("separator")
    return f"{prefix}{quote}{_CREDENTIAL_PLACEHOLDER}{quote}{closing}", ("secret",)


_EMAIL = re.compile(
    r"""
    (?<![\w.%+-])
    [A-Za-z0-9][A-Za-z0-9._%+-]{0,63}
    @(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}
    (?![\w-])
    """,
    re.VERBOSE,
)


def _email(match: re.Match[str]) -> tuple[str, tuple[RedactionKind, ...]]:
    return "[email]", ("email",)


# Not inside a longer number, an amount, a path, an issue reference or a signed value.
_NUMBER_BEFORE = r"(?<![\w.,/#$€£%+-])"
_NUMBER_AFTER = r"(?![\w%/]|[.,:-][0-9])"

_CARD = re.compile(
    _NUMBER_BEFORE
    + r"""
    (?:
        [0-9]{13,19}
      | [0-9]{4}(?P<separator>[ -])
        (?:[0-9]{4}(?P=separator)[0-9]{4}(?P=separator)[0-9]{4}(?:(?P=separator)[0-9]{3})?
          |[0-9]{6}(?P=separator)[0-9]{4,5})
    )
    """
    + _NUMBER_AFTER,
    re.VERBOSE,
)


def _card(match: re.Match[str]) -> tuple[str, tuple[RedactionKind, ...]] | None:
    digits = [int(c) for c in match.group(0) if c.isdigit()]
    if digits[0] in (2, 3, 4, 5, 6) and _luhn_valid(digits):
        return "[card]", ("card",)
    return None


def _luhn_valid(digits: list[int]) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


_PHONE = re.compile(
    _NUMBER_BEFORE
    + r"""
    (?:
        (?P<international>
            \+[0-9]{8,15}
          | \+[0-9]{1,3}(?:[ .-]?\([0-9]{1,4}\))?[ .-]?[0-9]{1,6}(?:[ .-][0-9]{1,6}){0,5})
      | (?P<area>\([0-9]{2,5}\)[ .-]?[0-9]{2,5}(?:[ .-][0-9]{2,5}){0,3})
      | (?P<us>(?:1[ .-])?[0-9]{3}(?P<us_separator>[ .-])[0-9]{3}(?P=us_separator)[0-9]{4})
      | (?P<trunk>0[0-9]{1,4}(?:[ -][0-9]{2,8}){1,4}|0[0-9](?:\.[0-9]{2}){4})
    )
    """
    + _NUMBER_AFTER,
    re.VERBOSE,
)
_DATE_LIKE = re.compile(r"[0-9]{1,2}[-. ][0-9]{1,2}[-. ][0-9]{4}")


def _phone(match: re.Match[str]) -> tuple[str, tuple[RedactionKind, ...]] | None:
    number = match.group(0)
    digits = sum(c.isdigit() for c in number)
    if match.group("international") is not None:
        is_phone = 8 <= digits <= 15
    elif match.group("trunk") is not None:
        groups = re.findall(r"[0-9]+", number)
        # "0800-1700" is opening hours and "01-12-2026" a date, not numbers to call.
        is_short_pair = len(groups) == 2 and all(len(g) <= 4 for g in groups)
        is_phone = 8 <= digits <= 12 and not is_short_pair and not _DATE_LIKE.fullmatch(number)
    else:
        is_phone = 8 <= digits <= 12
    return ("[phone]", ("phone",)) if is_phone else None


_TOKEN = re.compile(r"(?<![A-Za-z0-9+_=-])[A-Za-z0-9+_-]{32,}={0,2}(?![A-Za-z0-9+_=-])")
_ALPHANUMERIC_RUN = re.compile(r"[A-Za-z0-9]{16,}")
_MIN_ENTROPY_BITS = 3.0


def _high_entropy(match: re.Match[str]) -> tuple[str, tuple[RedactionKind, ...]] | None:
    token = match.group(0)
    # Identifiers ("test_scoring_handles_429_retry_after") and UUIDs are short runs between
    # separators; keys and digests have a long run mixing letters and digits.
    if not any(_mixes_letters_and_digits(run) for run in _ALPHANUMERIC_RUN.findall(token)):
        return None
    if _entropy_bits_per_char(token) < _MIN_ENTROPY_BITS:
        return None
    return _CREDENTIAL_PLACEHOLDER, ("secret",)


def _mixes_letters_and_digits(text: str) -> bool:
    return any(c.isdigit() for c in text) and any(c.isalpha() for c in text)


def _entropy_bits_per_char(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


_STEPS: tuple[tuple[re.Pattern[str], _Replace], ...] = (
    (_URL, _url),
    (_KNOWN_SECRET, _known_secret),
    (_AUTHORIZATION, _authorization),
    (_ASSIGNMENT, _assignment),
    (_EMAIL, _email),
    (_CARD, _card),
    (_PHONE, _phone),
    (_TOKEN, _high_entropy),
)
