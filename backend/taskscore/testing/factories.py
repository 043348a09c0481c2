"""factory_boy factories for tests (kept in the package so every app's tests can import them).

Call `XFactory.create(...)`, which mypy types as the model, rather than `XFactory(...)`."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress

from taskscore.accounts.models import User
from taskscore.billing.selectors import billing_account_of, plan_get
from taskscore.billing.services import billing_plan_grant
from taskscore.orgs.models import Membership, Organization
from taskscore.rbac.callers import OPERATOR
from taskscore.rbac.services import role_builtin
from taskscore.scoring.services import version_active_get_or_create
from taskscore.tasks.models import Task


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A user with allauth's primary email record, verified unless `email_verified=False`."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kwargs: Any) -> None:
        obj.set_password(extracted or "password")
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def email_verified(obj: User, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        if create:
            EmailAddress.objects.create(
                user=obj, email=obj.email, primary=True, verified=extracted is not False
            )


class OrganizationFactory(factory.django.DjangoModelFactory[Organization]):
    class Meta:
        model = Organization
        skip_postgeneration_save = True  # the hook below saves what it makes itself

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")

    @factory.post_generation
    def scoring(org: Organization, create: bool, extracted: Any, **kwargs: Any) -> None:
        """Like an org opened through the API: its default scoring version is active."""
        if create:
            version_active_get_or_create(org_id=org.pk)

    @factory.post_generation
    def plan(org: Organization, create: bool, extracted: str | None, **kwargs: Any) -> None:
        """`plan="pro"`: the org is granted that plan (as `manage.py plan_grant` does), for tests
        that use a paid feature (API keys: Pro; custom roles, the audit log: Business)."""
        if create and extracted:
            org_plan_grant(org, extracted)


def org_plan_grant(org: Organization, plan: str) -> None:
    """Put an existing org on `plan` without a subscription (an operator's grant), unless it is
    granted a higher plan already (fixtures combine: a key needs Pro, the audit log Business)."""
    current = billing_account_of(org_id=org.pk).granted_plan
    if current is None or current.sort_order < plan_get(code=plan).sort_order:
        billing_plan_grant(org_id=org.pk, plan_code=plan, caller=OPERATOR)


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    org = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = factory.LazyFunction(lambda: role_builtin("member"))


class TaskFactory(factory.django.DjangoModelFactory[Task]):
    class Meta:
        model = Task

    org = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    attributes = factory.LazyFunction(
        lambda: {"reach": 500.0, "impact": 5.0, "confidence": 50.0, "effort": 5.0}
    )
