from __future__ import annotations

import pytest
from django.test import Client, override_settings


def test_healthz_needs_no_dependency() -> None:
    response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_readyz_reports_each_dependency() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "postgres": "ok", "redis": "ok", "permission_cache": "ok", "ai_cache": "ok", "broker": "ok"
    }  # fmt: skip


@pytest.mark.django_db
def test_readyz_names_the_unreachable_part() -> None:
    # port 9 (discard) is closed on loopback
    with override_settings(REDIS_URL="redis://127.0.0.1:9/0"):
        response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["detail"] == "Unreachable: redis."
    assert body["checks"]["postgres"] == "ok"
    assert body["checks"]["redis"].startswith("error")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["RBAC_REDIS_URL", "AI_CACHE_REDIS_URL"])
def test_readyz_probes_a_cache_on_a_redis_of_its_own(role: str) -> None:
    with override_settings(**{role: "redis://127.0.0.1:9/0"}):
        response = Client().get("/readyz")
    assert response.status_code == 503
    name = {"RBAC_REDIS_URL": "permission_cache", "AI_CACHE_REDIS_URL": "ai_cache"}[role]
    assert response.json()["detail"] == f"Unreachable: {name}."
    assert response.json()["checks"]["redis"] == "ok"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_the_docs_assets_itself(api_server: str) -> None:
    import urllib.request

    for path in (
        "/api/v2/docs",
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui.css",
    ):
        with urllib.request.urlopen(f"{api_server}{path}", timeout=10) as response:
            assert response.status == 200
