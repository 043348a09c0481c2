"""The paid features a plan may include: names the compiler checks, each with the words a
person reads. A plan lists the ones it includes (`Plan.entitlements`); higher plans include every
feature of the plans below them. Where each is enforced: docs/decisions/0011-plan-features.md."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Feature(StrEnum):
    API_KEYS = "api_keys"  # creating API keys, and every request authenticated by one
    CUSTOM_ROLES = "custom_roles"  # creating and editing custom roles
    AUDIT_LOG = "audit_log"  # reading the audit log (it is recorded on every plan)


FEATURE_LABELS: Mapping[Feature, str] = {
    Feature.API_KEYS: "API keys",
    Feature.CUSTOM_ROLES: "Custom roles",
    Feature.AUDIT_LOG: "Audit log",
}
assert set(FEATURE_LABELS) == set(Feature), "every feature has its words"
