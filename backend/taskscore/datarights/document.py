"""The export document: all of an org's data as one JSON object, produced piece by piece so that
an org with a million tasks is never held in memory.

    {"format": "taskscore.org-export", "format_version": 1, "exported_at": "...",
     "organization": {...},
     "members": [
    {...},
    {...}
    ],
     "roles": [...], ...}

Each section lists the rows of one model of the org, oldest id first, read a page at a time by
keyset. A row has every stored column of its model (a foreign key as `<name>_id`; a person as
`<name>_email` too), except secrets: API keys' and invitations' hashes are never exported.
Every model of the org is either a section here or named in NOT_EXPORTED with the reason (a test
holds that to the registry, `registry.org_models`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from taskscore.audit.models import AuditEvent
from taskscore.billing.models import (
    AIUsage,
    CheckoutSession,
    Invoice,
    OrgBilling,
    Subscription,
    UsageRecord,
)
from taskscore.orgs.models import ApiKey, Invitation, Membership, Organization
from taskscore.rbac.models import Role
from taskscore.scoring.models import (
    HumanRating,
    ScoreOverride,
    ScoringModel,
    ScoringVersion,
    TaskScore,
)
from taskscore.tasks.models import Task

FORMAT = "taskscore.org-export"
FORMAT_VERSION = 1
PAGE_SIZE = 1000

# Columns never exported: what authenticates (a key's or an invitation's hash).
SECRET_COLUMNS: dict[type[models.Model], frozenset[str]] = {
    ApiKey: frozenset({"secret_hash"}),
    Invitation: frozenset({"token_hash"}),
}


@dataclass(frozen=True)
class Section:
    name: str
    model: type[models.Model]
    rows: Callable[[int], QuerySet[Any]]  # the org's rows, by org id
    # Columns a row has besides its model's own (a member's email and role).
    more: Callable[[Any], dict[str, Any]] = field(default=lambda _row: {})


def _member_extra(membership: Membership) -> dict[str, Any]:
    return {
        "email": membership.user.email,
        "name": membership.user.name,
        "role": membership.role.key,
    }


SECTIONS: tuple[Section, ...] = (
    Section(
        "members",
        Membership,
        lambda org_id: Membership.objects.filter(org_id=org_id).select_related("user", "role"),
        _member_extra,
    ),
    # The built-in roles are listed too: members and keys refer to them by id.
    Section("roles", Role, lambda org_id: Role.objects.filter(Q(org_id=org_id) | Q(org=None))),
    Section("invitations", Invitation, lambda org_id: Invitation.objects.filter(org_id=org_id)),
    Section("api_keys", ApiKey, lambda org_id: ApiKey.objects.filter(org_id=org_id)),
    Section(
        "scoring_models", ScoringModel, lambda org_id: ScoringModel.objects.filter(org_id=org_id)
    ),
    Section(
        "scoring_versions",
        ScoringVersion,
        lambda org_id: ScoringVersion.objects.filter(org_id=org_id),
    ),
    Section("tasks", Task, lambda org_id: Task.objects.filter(org_id=org_id)),
    Section("task_scores", TaskScore, lambda org_id: TaskScore.objects.filter(task__org_id=org_id)),
    Section(
        "score_overrides", ScoreOverride, lambda org_id: ScoreOverride.objects.filter(org_id=org_id)
    ),
    Section(
        "calibration_labels", HumanRating, lambda org_id: HumanRating.objects.filter(org_id=org_id)
    ),
    Section("billing", OrgBilling, lambda org_id: OrgBilling.objects.filter(org_id=org_id)),
    Section(
        "subscriptions", Subscription, lambda org_id: Subscription.objects.filter(org_id=org_id)
    ),
    Section("invoices", Invoice, lambda org_id: Invoice.objects.filter(org_id=org_id)),
    Section(
        "checkout_sessions",
        CheckoutSession,
        lambda org_id: CheckoutSession.objects.filter(org_id=org_id),
    ),
    Section("task_usage", UsageRecord, lambda org_id: UsageRecord.objects.filter(org_id=org_id)),
    Section("ai_usage", AIUsage, lambda org_id: AIUsage.objects.filter(org_id=org_id)),
    Section("audit_log", AuditEvent, lambda org_id: AuditEvent.objects.filter(org_id=org_id)),
)

# The org's models that are no section, and why.
NOT_EXPORTED: dict[str, str] = {
    "billing.StripeEvent": "Stripe's raw messages; what they changed is in billing, "
    "subscriptions and invoices",
    "billing.MeterOutbox": "usage reports waiting to be sent to Stripe's meter (delivery "
    "bookkeeping; the usage itself is task_usage)",
    "billing.UsageCount": "the count of task_usage per period, kept by the database",
    "tasks.TaskCount": "the count of tasks, kept by the database",
    "scoring.PreviewRun": "draft previews: kept a day, they score nothing",
    "datarights.OrgExport": "the exports themselves",
    "datarights.OrgExportChunk": "the exports' files",
}


def _value(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


class _People:
    """Users' emails by id, loaded a page at a time (rows name people by id)."""

    def __init__(self) -> None:
        self._emails: dict[int, str] = {}

    def load(self, ids: set[int]) -> None:
        missing = ids - self._emails.keys()
        if missing:
            found = get_user_model().objects.filter(pk__in=missing).values_list("pk", "email")
            self._emails.update({pk: email for pk, email in found})
            self._emails.update({pk: "" for pk in missing - self._emails.keys()})

    def email(self, user_id: int | None) -> str | None:
        return None if user_id is None else self._emails.get(user_id)


def _person_columns(model: type[models.Model]) -> list[str]:
    """The model's foreign keys to a user (as attribute names, `created_by_id`)."""
    user_model = get_user_model()
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and f.remote_field.model is user_model
    ]


def row_of(
    obj: models.Model, *, people: _People | None = None, person_columns: list[str] | None = None
) -> dict[str, Any]:
    """Every stored column of `obj` but its secrets, and the email of each person it names."""
    secret = SECRET_COLUMNS.get(type(obj), frozenset())
    row = {
        f.attname: _value(f.value_from_object(obj))
        for f in obj._meta.concrete_fields
        if f.name not in secret
    }
    if people is not None:
        for column in person_columns or []:
            row[column.removesuffix("_id") + "_email"] = people.email(row[column])
    return row


def _dumps(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def section_rows(section: Section, org_id: int) -> Iterator[dict[str, Any]]:
    """The section's rows for the org, a page at a time by primary key."""
    people = _People()
    person_columns = _person_columns(section.model)
    last: Any = None
    while True:
        page = section.rows(org_id).order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        objs = list(page[:PAGE_SIZE])
        if not objs:
            return
        people.load(
            {getattr(o, c) for o in objs for c in person_columns if getattr(o, c) is not None}
        )
        for obj in objs:
            yield row_of(obj, people=people, person_columns=person_columns) | section.more(obj)
        last = objs[-1].pk


def rows_total(org_id: int) -> int:
    """How many rows the export of the org writes (its sections' rows and the org itself)."""
    return 1 + sum(section.rows(org_id).count() for section in SECTIONS)


def document(org_id: int, *, on_row: Callable[[], None] = lambda: None) -> Iterator[str]:
    """The export of the org as JSON text, piece by piece; `on_row` is called after each row."""
    org = Organization.objects.get(pk=org_id)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now(),
        "organization": row_of(org),
    }
    yield _dumps(header)[:-1]  # the object stays open for the sections
    on_row()
    for section in SECTIONS:
        yield f',\n"{section.name}":['
        separator = "\n"
        for row in section_rows(section, org_id):
            yield separator + _dumps(row)
            separator = ",\n"
            on_row()
        yield "\n]"
    yield "}\n"
