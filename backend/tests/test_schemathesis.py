"""Schemathesis fuzzes both OpenAPI documents against the API served by gunicorn with every check
it has (`--checks all`: no 5xx; status codes, content types, headers and bodies as documented;
schema-violating requests refused and schema-valid ones accepted; authentication enforced;
405s with their `Allow`; and, in the state machine, resources available once created and gone
once deleted), plus one of our own: another org's principal naming this org never succeeds.

- Per operation: MAX_EXAMPLES generated cases (positive and negative) after schemathesis' own
  explicit and coverage cases, as the org's owner (an API key; the operations only a browser
  session may use, with a logged-in session and its CSRF token).
- Stateful: schemathesis' state machine chains operations along the documents' OpenAPI links
  (a created task → reading, re-scoring and reviewing it; a created key → revoking it; a page →
  the next page), STATEFUL_SCENARIOS scenarios of up to STATEFUL_STEPS calls each.

Rules JSON Schema cannot say are stated in the documents as extensions (`x-greater-than`,
`x-unique-by`, `x-opaque`) and taught to the generator by `taskscore.testing.contract`, so that
what it generates as valid is valid. Deterministic: hypothesis derandomized, one seed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import ensure_resource_availability

from taskscore.accounts.services import user_create
from taskscore.orgs.models import ApiKey, Organization
from taskscore.orgs.services import api_key_create
from taskscore.rbac.callers import OPERATOR
from taskscore.scoring.services import org_open
from taskscore.testing.contract import contract_rules_install
from taskscore.testing.factories import org_plan_grant

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = 100
STATEFUL_SCENARIOS = 60
STATEFUL_STEPS = 12
ORG = "acme"
# The operations only a logged-in browser may use (the account's own: /me, creating an org,
# answering invitations); every other one is fuzzed with the owner's API key.
SESSION_ONLY: list[dict[str, list[str]]] = [{"BrowserSessionAuth": []}]
# How many cases each operation ran, for the summary at the end of the module.
EXAMPLES: Counter[str] = Counter()


@dataclass
class Identities:
    """Who the fuzzer is: the owner of `acme` (an API key, and a browser session with its CSRF
    token), and the owner of `globex` (an API key), who must never reach `acme`."""

    api_server: str
    owner_token: str
    outsider_token: str
    session_headers: dict[str, str]

    def headers_for(self, case: Case[Any]) -> dict[str, str]:
        if case.operation.definition.raw.get("security") == SESSION_ONLY:
            return dict(self.session_headers)
        return {"Authorization": f"Bearer {self.owner_token}"}

    def owner_key_restore(self) -> None:
        """A new owner key when the fuzzer revoked its own (DELETE …/api-keys/{its id})."""
        if not ApiKey.objects.filter(prefix=self.owner_token.split("_")[1], revoked_at=None):
            org = Organization.objects.get(slug=ORG)
            self.owner_token = api_key_create(
                org=org, name="fuzz", role_key="owner", caller=OPERATOR
            ).token


@pytest.fixture
def identities(api_server: str) -> Identities:
    owner = user_create(email="o@acme.test", password=None, is_email_verified=True)
    acme = org_open(name="Acme", owner=owner)
    globex = org_open(
        name="Globex",
        owner=user_create(email="o@globex.test", password=None, is_email_verified=True),
    )
    assert acme.slug == ORG
    # every paid feature for the owner's key to reach; globex's key needs Pro to be a principal
    org_plan_grant(acme, "business")
    org_plan_grant(globex, "pro")
    browser = Client()
    browser.force_login(owner)
    csrf = requests.get(f"{api_server}/api/v2/auth/csrf", timeout=60).cookies["csrftoken"]
    return Identities(
        api_server=api_server,
        owner_token=api_key_create(org=acme, name="fuzz", role_key="owner", caller=OPERATOR).token,
        outsider_token=api_key_create(
            org=globex, name="fuzz", role_key="owner", caller=OPERATOR
        ).token,
        session_headers={
            "Cookie": f"sessionid={browser.cookies['sessionid'].value}; csrftoken={csrf}",
            "X-CSRFToken": str(csrf),
        },
    )


def _schema(version: str) -> schemathesis.schemas.BaseSchema:
    from taskscore.api.management.commands.openapi import APIS

    raw = APIS[version].get_openapi_schema(path_prefix=f"/api/{version}/")
    # The fuzzer sends its own credentials (Identities), never generated ones: the checks probe
    # without them and with wrong ones (ignored_auth).
    config = SchemathesisConfig.from_dict(
        {
            "seed": 12013,
            "parameters": {"path.org": ORG},
            "generation": {"with-security-parameters": False},
            # A generated query can outgrow gunicorn's request line (4,094 bytes): it refuses
            # with 414 before the app, which is a rejection too.
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "406",
                        "409",
                        "414",
                        "415",
                        "422",
                        "428",
                        "429",
                        "5xx",
                    ]
                }
            },
        }
    )
    schema = schemathesis.openapi.from_dict(raw, config=config)
    contract_rules_install(schema)
    return schema


def _check(case: Case[Any], identities: Identities) -> None:
    EXAMPLES[case.operation.label] += 1
    # As the org's owner, every check schemathesis has.
    case.call_and_validate(
        base_url=identities.api_server, headers=identities.headers_for(case), timeout=30
    )
    # As another org's owner naming this org: never a success.
    if "org" in (case.path_parameters or {}):
        outsider = case.call(
            base_url=identities.api_server,
            headers={"Authorization": f"Bearer {identities.outsider_token}"},
            timeout=30,
        )
        assert outsider.status_code < 500, outsider.text
        assert not 200 <= outsider.status_code < 300, (case.method, case.formatted_path)


fuzz_settings = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


# Built once the identities exist (a lazy schema: nothing is generated at collection, so other
# runs, `make test-fast` among them, do not pay for the coverage cases).
@pytest.fixture
def v2_schema(identities: Identities, request: pytest.FixtureRequest) -> Any:
    _node_id_shim(request)
    return _schema("v2")


@pytest.fixture
def v1_schema(identities: Identities, request: pytest.FixtureRequest) -> Any:
    _node_id_shim(request)
    return _schema("v1")


def _node_id_shim(request: pytest.FixtureRequest) -> None:
    # schemathesis' lazy schemas name each operation's subtest through the node's `_nodeid`,
    # which pytest 9 no longer keeps as an attribute.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


v2 = schemathesis.pytest.from_fixture("v2_schema")
v1 = schemathesis.pytest.from_fixture("v1_schema")


@v2.parametrize()
@fuzz_settings
def test_v2_contract(case: Case[Any], identities: Identities) -> None:
    identities.owner_key_restore()
    _check(case, identities)


@v1.parametrize()
@fuzz_settings
def test_v1_contract(case: Case[Any], identities: Identities) -> None:
    identities.owner_key_restore()
    _check(case, identities)


def _state_machine(version: schemathesis.schemas.BaseSchema, identities: Identities) -> Any:
    base = version.as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            identities.owner_key_restore()

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            EXAMPLES[f"stateful {case.operation.label}"] += 1
            return {
                "base_url": identities.api_server,
                "headers": identities.headers_for(case),
                "timeout": 30,
            }

        def validate_response(self, response: Any, case: Case[Any], **kwargs: Any) -> None:
            # The headers are the fuzzer's own credentials (not generated ones), as in _check.
            # An org the state machine created (POST /orgs, as the session's user) is out of the
            # reach of acme's key: its pages answer 404 to the fuzzer, as they must, so that
            # "a created resource is found" is not asked of them; every other check is.
            elsewhere = (case.path_parameters or {}).get("org", ORG) != ORG
            case.validate_response(
                response,
                headers=kwargs["headers"],
                transport_kwargs=kwargs,
                recorder=self.recorder,
                excluded_checks=[ensure_resource_availability] if elsewhere else None,
            )

    return Machine


# No shrinking: the API's database keeps what earlier scenarios made, so a replay of a failing
# scenario meets another state and hypothesis calls the generation flaky instead of reporting the
# failure. A failure is reported as found, with its calls.
stateful_settings = settings(
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    max_examples=STATEFUL_SCENARIOS,
    stateful_step_count=STATEFUL_STEPS,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_stateful_links(version: str, identities: Identities) -> None:
    """The links chain operations with 0 failures (every check, the stateful ones included)."""
    _state_machine(_schema(version), identities).run(settings=stateful_settings)


@pytest.fixture(scope="module", autouse=True)
def _examples_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many cases each operation ran (pytest -s, or the captured teardown output)."""
    yield
    if EXAMPLES:
        fewest = min(EXAMPLES.values())
        print(
            f"\nschemathesis: {sum(EXAMPLES.values())} calls over {len(EXAMPLES)} operations "
            f"(fewest {fewest}); "
            + ", ".join(f"{label}: {count}" for label, count in sorted(EXAMPLES.items()))
        )
