"""Data rights on a real Celery worker (apart from tests/test_data_rights.py, whose tests run
the jobs themselves and must not have a worker take them): an export is polled to its end and
downloaded, then the org's deletion is carried out by the worker."""

from __future__ import annotations

import pytest

from conftest import Actor
from taskscore.datarights.models import DeletionStatus, OrgDeletion
from taskscore.orgs.models import Organization
from tests.test_data_rights import ACME, document_of, org_rows, populate, post, wait

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


def test_an_export_and_a_deletion_run_on_a_worker(alice: Actor) -> None:
    populate(alice.org, alice.email, tag="acme")
    org_id = alice.org.pk
    # an export, polled until the worker has written it, then downloaded
    created = post(alice.client, f"{ACME}/exports").json()

    def exported() -> bool:
        status = alice.client.get(f"{ACME}/exports/{created['id']}").json()["status"]
        return bool(status == "done")

    wait(exported, timeout=60)
    _raw, doc = document_of(alice.client.get(f"{ACME}/exports/{created['id']}/download"))
    assert len(doc["tasks"]) == 2
    # then the org's deletion, carried out by the worker
    assert post(alice.client, f"{ACME}/deletion", {"confirm": "acme"}).status_code == 202
    wait(lambda: OrgDeletion.objects.filter(org_id=org_id, status=DeletionStatus.DONE).exists())
    assert not Organization.objects.filter(pk=org_id).exists()
    assert {name: n for name, n in org_rows(org_id).items() if n} == {}
