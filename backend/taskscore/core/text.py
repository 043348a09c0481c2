"""Rules for the short names people give things (organizations, roles): they travel into mail
subjects and bodies and into the audit log, so they are one line of printable text."""

from __future__ import annotations

import re

from taskscore.core.errors import FieldError, ValidationFailed

# The control and format characters (Unicode 14 categories Cc, Cf, Zl, Zp: line breaks, tabs,
# bidirectional and zero-width controls), as one character class: the OpenAPI document states
# the same pattern as the check below uses, so the two cannot disagree.
_NOT_PRINTABLE = (
    "\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
# One line of printable text with something besides spaces in it.
NAME_PATTERN = f"^[^{_NOT_PRINTABLE}]*[^{_NOT_PRINTABLE}\\s][^{_NOT_PRINTABLE}]*$"
_NAME = re.compile(NAME_PATTERN)


def name_check(value: str, *, field: str) -> str:
    """`value` stripped, or ValidationFailed naming `field` when it is blank or holds a line
    break or another control or format character (NAME_PATTERN): a newline in an org's name
    reached an invitation mail's subject."""
    if not _NAME.fullmatch(value):
        raise ValidationFailed(
            detail=f"The {field} must be one line of printable text.",
            errors=[FieldError(field, "Use one line of text, without control characters.")],
        )
    return value.strip()
