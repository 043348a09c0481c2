"""Rules for the short names people give things (organizations, roles): they travel into mail
subjects and bodies and into the audit log, so they are one line of printable text."""

from __future__ import annotations

import unicodedata

from taskscore.core.errors import FieldError, ValidationFailed


def name_check(value: str, *, field: str) -> str:
    """`value` stripped, or ValidationFailed naming `field` when it holds a line break or another
    control or format character (Unicode categories Cc, Cf, Zl, Zp): a newline in an org's name
    reached an invitation mail's subject."""
    value = value.strip()
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise ValidationFailed(
            detail=f"The {field} must be one line of printable text.",
            errors=[FieldError(field, "Use one line of text, without control characters.")],
        )
    return value
