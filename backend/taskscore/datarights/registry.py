"""Which models hold an org's rows, found from the app registry (so that a new model cannot be
forgotten by the export or the deletion), and the order in which to delete them.

A model belongs to the org when it has a foreign key to `Organization` (any: a nullable one
such as a Stripe event's or a custom role's counts too), or a non-nullable foreign key to a
model that belongs to the org (a score through its task, an export's chunk through its
export)."""

from __future__ import annotations

import functools
from graphlib import TopologicalSorter

from django.apps import apps
from django.db import models

from taskscore.orgs.models import Organization

Model = type[models.Model]


def _foreign_keys(model: Model) -> list[models.ForeignKey[models.Model, models.Model]]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and f.remote_field.model is not model
    ]


@functools.cache
def org_models() -> dict[Model, str]:
    """Every model holding rows of an org (Organization itself excluded), with the lookup that
    filters them by the org's id (`org_id`, `task__org_id`, `export__org_id`)."""
    paths: dict[Model, str] = {}
    candidates = [m for m in apps.get_models() if m is not Organization]
    for model in candidates:
        for field in _foreign_keys(model):
            if field.remote_field.model is Organization:
                paths[model] = f"{field.name}_id"
                break
    changed = True
    while changed:  # through non-nullable keys to models found so far
        changed = False
        for model in candidates:
            if model in paths:
                continue
            for field in _foreign_keys(model):
                parent = field.remote_field.model
                if not field.null and parent in paths:
                    paths[model] = f"{field.name}__{paths[parent]}"
                    changed = True
                    break
    return paths


@functools.cache
def deletion_order() -> list[Model]:
    """The org's models, each after every model of the org that refers to it (so a row is
    deleted only once nothing of the org points at it, PROTECT included)."""
    owned = org_models()
    graph: dict[Model, set[Model]] = {model: set() for model in owned}
    for model in owned:
        for field in _foreign_keys(model):
            parent = field.remote_field.model
            if parent in owned:
                graph[parent].add(model)  # the parent comes after the model referring to it
    return list(TopologicalSorter(graph).static_order())


def label(model: Model) -> str:
    return str(model._meta.label)
