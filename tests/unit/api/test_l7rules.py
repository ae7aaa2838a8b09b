"""`/v2/lbaas/l7policies/{id}/rules` against the in-process app (spec §4.7, §3.3, §5)."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from pier.api.mutations.l7rule import validate_l7rule_values
from pier.api.services import Services
from pier.db.engine import transaction
from pier.db.tables import L7Policy, L7Rule, Listener, LoadBalancer
from pier.domain.errors import InvalidInput
from pier.settings import QuotaDefaults, Settings
from tests.support.app import api_client, as_project, converge, make_services
from tests.unit.api.test_l7policies import ADMIN, P1, P2, READER, Tree, build_tree, fault, status_of
from tests.unit.api.test_l7policies import create as create_policy

POLICIES = "/v2/lbaas/l7policies"
PATH_RULE = {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"}


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path, settings=Settings(accept_any_subnet=True))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with api_client(services) as client:
        yield client


@pytest.fixture
def tree(client: TestClient, services: Services) -> Tree:
    return build_tree(client, services)


@pytest.fixture
def policy_id(client: TestClient, services: Services, tree: Tree) -> str:
    return str(create_policy(client, services, tree.listener_id)["id"])


def rules_url(policy_id: str) -> str:
    return f"{POLICIES}/{policy_id}/rules"


def post(client: TestClient, policy_id: str, headers: dict[str, str] = P1, **fields: Any) -> Any:
    return client.post(
        rules_url(policy_id), json={"rule": {**PATH_RULE, **fields}}, headers=headers
    )


def create(client: TestClient, services: Services, policy_id: str, **fields: Any) -> dict[str, Any]:
    response = post(client, policy_id, **fields)
    assert response.status_code == 201, response.text
    converge(services)
    result: dict[str, Any] = response.json()["rule"]
    return result


def put(
    client: TestClient, policy_id: str, rule_id: str, headers: dict[str, str] = P1, **fields: Any
) -> Any:
    return client.put(f"{rules_url(policy_id)}/{rule_id}", json={"rule": fields}, headers=headers)


def show(client: TestClient, policy_id: str, rule_id: str) -> dict[str, Any]:
    response = client.get(f"{rules_url(policy_id)}/{rule_id}", headers=P1)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["rule"]
    return result


def parent_statuses(services: Services, tree: Tree, policy_id: str) -> tuple[Any, ...]:
    return (
        status_of(services, LoadBalancer, tree.loadbalancer_id),
        status_of(services, Listener, tree.listener_id),
        status_of(services, L7Policy, policy_id),
    )


def rule_count(services: Services) -> int:
    with transaction(services.sessions, write=False) as session:
        return len(list(session.scalars(select(L7Rule))))


ALL_ACTIVE = ("ACTIVE", "ACTIVE", "ACTIVE")
ALL_PENDING = ("PENDING_UPDATE", "PENDING_UPDATE", "PENDING_UPDATE")


# --- create ------------------------------------------------------------------------------


def test_rule_has_octavias_shape_and_defaults(
    client: TestClient, services: Services, tree: Tree, policy_id: str
) -> None:
    response = post(
        client, policy_id, type="HOST_NAME", compare_type="EQUAL_TO", value="www.example.com"
    )
    assert response.status_code == 201
    rule = response.json()["rule"]
    assert set(rule) == {
        "id",
        "type",
        "compare_type",
        "key",
        "value",
        "invert",
        "admin_state_up",
        "project_id",
        "tenant_id",
        "provisioning_status",
        "operating_status",
        "created_at",
        "updated_at",
        "tags",
    }
    assert (rule["type"], rule["compare_type"], rule["value"]) == (
        "HOST_NAME",
        "EQUAL_TO",
        "www.example.com",
    )
    assert rule["key"] is None
    assert rule["invert"] is False
    assert rule["admin_state_up"] is True
    assert rule["tags"] == []
    assert rule["project_id"] == rule["tenant_id"] == "p1"
    assert rule["provisioning_status"] == "PENDING_CREATE"
    assert rule["operating_status"] == "OFFLINE"
    assert rule["updated_at"] is None


def test_create_marks_policy_listener_and_loadbalancer(
    client: TestClient, services: Services, tree: Tree, policy_id: str
) -> None:
    rule = post(client, policy_id).json()["rule"]
    assert parent_statuses(services, tree, policy_id) == ALL_PENDING
    converge(services)
    assert parent_statuses(services, tree, policy_id) == ALL_ACTIVE
    assert show(client, policy_id, rule["id"])["provisioning_status"] == "ACTIVE"
    policy = client.get(f"{POLICIES}/{policy_id}", headers=P1).json()["l7policy"]
    assert policy["rules"] == [{"id": rule["id"]}]


def test_create_stores_every_field(client: TestClient, services: Services, policy_id: str) -> None:
    rule = create(
        client,
        services,
        policy_id,
        type="HEADER",
        compare_type="CONTAINS",
        key="X-Thing",
        value="abc",
        invert="true",
        admin_state_up=False,
        tags=["t"],
        project_id="ignored",
    )
    assert (rule["type"], rule["key"], rule["value"]) == ("HEADER", "X-Thing", "abc")
    assert rule["invert"] is True
    assert rule["admin_state_up"] is False
    assert rule["tags"] == ["t"]
    assert rule["project_id"] == "p1"


def test_null_invert_is_false(client: TestClient, policy_id: str) -> None:
    assert post(client, policy_id, invert=None).json()["rule"]["invert"] is False


# --- per-type validation -----------------------------------------------------------------

VALID_RULES = [
    {"type": "HOST_NAME", "compare_type": "ENDS_WITH", "value": ".example.com"},
    {"type": "HOST_NAME", "compare_type": "REGEX", "value": "^www\\..*$"},
    {"type": "PATH", "compare_type": "CONTAINS", "value": "/a/b?c=d"},
    {"type": "PATH", "compare_type": "EQUAL_TO", "value": '"quoted value with spaces"'},
    {"type": "FILE_TYPE", "compare_type": "EQUAL_TO", "value": "jpg"},
    {"type": "FILE_TYPE", "compare_type": "REGEX", "value": "jpe?g"},
    {"type": "HEADER", "compare_type": "STARTS_WITH", "key": "X-Forwarded-For", "value": "10."},
    {"type": "HEADER", "compare_type": "REGEX", "key": "User-Agent", "value": ".*Mobile.*"},
    {"type": "COOKIE", "compare_type": "EQUAL_TO", "key": "session", "value": "a=b/c"},
    {"type": "SSL_CONN_HAS_CERT", "compare_type": "EQUAL_TO", "value": "tRuE"},
    {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO", "value": "0"},
    {
        "type": "SSL_DN_FIELD",
        "compare_type": "STARTS_WITH",
        "key": "st-1",
        "value": "ST-FIELD1-PREFIX",
    },
    {"type": "SSL_DN_FIELD", "compare_type": "REGEX", "key": "CN", "value": "^.test*$"},
]


@pytest.mark.parametrize("rule", VALID_RULES)
def test_valid_rules(rule: dict[str, Any]) -> None:
    assert validate_l7rule_values({**rule, "invert": None}) == {**rule, "invert": False}


RULE = "Error parsing L7Rule: Invalid L7 Rule: "
INVALID_RULES = [
    (
        {"type": "PATH", "compare_type": "STARTS_WITH", "value": ""},
        RULE + "L7 rule type requires a value",
    ),
    ({"type": None, "compare_type": "STARTS_WITH", "value": "/a"}, RULE + "invalid rule type"),
    (
        {"type": "PATH", "compare_type": None, "value": "/a"},
        RULE + "invalid comparison type for rule type",
    ),
    (
        {"type": "PATH", "compare_type": "REGEX", "value": "bad string\\"},
        "Error parsing L7Rule: Unable to parse regular expression: bad escape (end of pattern) "
        "at position 10",
    ),
    (
        {"type": "HOST_NAME", "compare_type": "EQUAL_TO", "value": "a b"},
        "Error parsing L7Rule: Invalid characters in comparison value",
    ),
    (
        {"type": "FILE_TYPE", "compare_type": "STARTS_WITH", "value": "png"},
        RULE + "invalid comparison type for rule type",
    ),
    (
        {"type": "FILE_TYPE", "compare_type": "EQUAL_TO", "value": "p ng"},
        "Error parsing L7Rule: Invalid characters in comparison value",
    ),
    (
        {"type": "HEADER", "compare_type": "CONTAINS", "value": "some-string"},
        RULE + "L7 rule type requires a key",
    ),
    (
        {"type": "HEADER", "compare_type": "CONTAINS", "key": "X:Y", "value": "v"},
        "Error parsing L7Rule: Invalid characters in key",
    ),
    (
        {"type": "HEADER", "compare_type": "CONTAINS", "key": "X", "value": "a b"},
        "Error parsing L7Rule: Invalid characters in header value",
    ),
    (
        {"type": "HEADER", "compare_type": "REGEX", "key": "X", "value": "(unclosed"},
        "Error parsing L7Rule: Unable to parse regular expression: missing ), unterminated "
        "subpattern at position 0",
    ),
    (
        {"type": "COOKIE", "compare_type": "EQUAL_TO", "key": "bad cookie name", "value": "v"},
        "Error parsing L7Rule: Invalid characters in key",
    ),
    (
        {"type": "COOKIE", "compare_type": "EQUAL_TO", "value": "v"},
        RULE + "L7 rule type requires a key",
    ),
    (
        {"type": "COOKIE", "compare_type": "EQUAL_TO", "key": "c", "value": "a;b"},
        "Error parsing L7Rule: Invalid characters in cookie value",
    ),
    (
        {
            "type": "SSL_CONN_HAS_CERT",
            "compare_type": "EQUAL_TO",
            "key": "no-need-key",
            "value": "true",
        },
        RULE + 'L7rule type SSL_CONN_HAS_CERT does not use the "key" field.',
    ),
    (
        {"type": "SSL_CONN_HAS_CERT", "compare_type": "EQUAL_TO", "value": "not-true-string"},
        RULE + "L7rule value not-true-string is not a boolean True string.",
    ),
    (
        {"type": "SSL_CONN_HAS_CERT", "compare_type": "STARTS_WITH", "value": "tRUe"},
        RULE + "L7rule type SSL_CONN_HAS_CERT only supports the EQUAL_TO compare type.",
    ),
    (
        {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO", "key": "k", "value": "0"},
        RULE + 'L7rule type SSL_VERIFY_RESULT does not use the "key" field.',
    ),
    (
        {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO", "value": "true"},
        RULE + "L7rule type SSL_VERIFY_RESULT needs a int value, which is >= 0",
    ),
    (
        {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO", "value": "-1"},
        RULE + "L7rule type SSL_VERIFY_RESULT needs a int value, which is >= 0",
    ),
    (
        {"type": "SSL_VERIFY_RESULT", "compare_type": "STARTS_WITH", "value": "0"},
        RULE + "L7rule type SSL_VERIFY_RESULT only supports the EQUAL_TO compare type.",
    ),
    (
        {"type": "SSL_DN_FIELD", "compare_type": "REGEX", "value": "bad regex\\"},
        "Error parsing L7Rule: Unable to parse regular expression: bad escape (end of pattern) "
        "at position 9",
    ),
    (
        {"type": "SSL_DN_FIELD", "compare_type": "REGEX", "value": "^.test*$"},
        RULE + "L7rule type SSL_DN_FIELD needs to specify a key and a value.",
    ),
    (
        {
            "type": "SSL_DN_FIELD",
            "compare_type": "EQUAL_TO",
            "key": "NOT_SUPPORTED_DN_FIELD",
            "value": "x",
        },
        RULE + "Invalid L7rule distinguished name field.",
    ),
]


@pytest.mark.parametrize(("rule", "message"), INVALID_RULES)
def test_invalid_rules(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_l7rule_values(rule)
    assert caught.value.message == message
    assert caught.value.status == 400


def test_api_applies_the_per_type_validation(
    client: TestClient, services: Services, tree: Tree, policy_id: str
) -> None:
    for rule, message in INVALID_RULES[3:]:
        response = client.post(rules_url(policy_id), json={"rule": rule}, headers=P1)
        assert response.status_code == 400, rule
        assert fault(response) == message
    for rule in VALID_RULES:
        assert (
            client.post(rules_url(policy_id), json={"rule": rule}, headers=P1).status_code == 201
        ), rule
        converge(services)
    assert rule_count(services) == len(VALID_RULES)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"type": None},
            "Invalid input for field/attribute type. Value: 'Unset'. Mandatory field missing.",
        ),
        (
            {"compare_type": None},
            "Invalid input for field/attribute compare_type. Value: 'Unset'. "
            "Mandatory field missing.",
        ),
        (
            {"value": None},
            "Invalid input for field/attribute value. Value: 'Unset'. Mandatory field missing.",
        ),
        (
            {"type": "URL"},
            "Invalid input for field/attribute type. Value: 'URL'. Value should be "
            "one of: HOST_NAME, PATH, FILE_TYPE, HEADER, COOKIE, SSL_CONN_HAS_CERT, "
            "SSL_VERIFY_RESULT, SSL_DN_FIELD",
        ),
        (
            {"compare_type": "LIKE"},
            "Value should be one of: REGEX, STARTS_WITH, ENDS_WITH, CONTAINS, EQUAL_TO",
        ),
        (
            {"value": "a\nb"},
            "Invalid input for field/attribute value. Value: 'a\nb'. "
            "Value should match the pattern ^[^\\r\\n]*$",
        ),
        ({"value": "/a\n"}, "Value should match the pattern ^[^\\r\\n]*$"),
        ({"value": "/a\r"}, "Value should match the pattern ^[^\\r\\n]*$"),
        (
            {"type": "HEADER", "key": "X\r\nInjected: 1", "value": "v"},
            "Invalid input for field/attribute key. Value: 'X\r\nInjected: 1'. "
            "Value should match the pattern ^[^\\r\\n]*$",
        ),
        ({"value": "x" * 256}, "Value should have a maximum character requirement of 255"),
        ({"key": "x" * 256}, "Value should have a maximum character requirement of 255"),
        ({"invert": "maybe"}, "Invalid input for field/attribute invert"),
        ({"name": "rule"}, "Unknown attribute for argument rule_.rule: name"),
    ],
)
def test_create_rejects_invalid_fields(
    client: TestClient, services: Services, fields: dict[str, Any], message: str
) -> None:
    """Body validation comes first: these fail before the policy is even looked up."""
    response = post(client, str(uuid.uuid4()), **fields)
    assert response.status_code == 400
    assert message in fault(response)


def test_body_needs_the_rule_wrapper(client: TestClient, policy_id: str) -> None:
    response = client.post(rules_url(policy_id), json={"l7rule": PATH_RULE}, headers=P1)
    assert response.status_code == 400
    assert fault(response) == "Unknown attributes for argument rule_: l7rule"


def test_rejected_create_changes_nothing(
    client: TestClient, services: Services, tree: Tree, policy_id: str
) -> None:
    response = post(client, policy_id, type="HEADER")
    assert response.status_code == 400
    assert rule_count(services) == 0
    assert parent_statuses(services, tree, policy_id) == ALL_ACTIVE


def test_fifty_rules_per_policy(client: TestClient, services: Services, tree: Tree) -> None:
    policy = create_policy(client, services, tree.listener_id, rules=[PATH_RULE] * 49)
    create(client, services, policy["id"])
    response = post(client, policy["id"])
    assert response.status_code == 409
    assert fault(response) == f"Too many rules on L7 policy {policy['id']}"
    assert rule_count(services) == 50
    assert parent_statuses(services, tree, policy["id"]) == ALL_ACTIVE


def test_rule_quota(tmp_path: Path) -> None:
    settings = Settings(accept_any_subnet=True, quota_defaults=QuotaDefaults(l7rule=1))
    services = make_services(tmp_path, settings=settings)
    with api_client(services) as client:
        tree = build_tree(client, services)
        policy_id = create_policy(client, services, tree.listener_id)["id"]
        create(client, services, policy_id)
        response = post(client, policy_id)
        assert response.status_code == 403
        assert fault(response) == "Quota has been met for resources: L7 Rule"
        assert rule_count(services) == 1


# --- statuses: 409 while the policy or the load balancer is busy -------------------------


def test_writes_need_an_active_policy(
    client: TestClient, services: Services, tree: Tree, policy_id: str
) -> None:
    rule = create(client, services, policy_id)
    with transaction(services.sessions) as session:
        row = session.get(L7Policy, policy_id)
        assert row is not None
        row.provisioning_status = "ERROR"
    message = f"L7Policy {policy_id} is immutable and cannot be updated."
    for response in (
        post(client, policy_id),
        put(client, policy_id, rule["id"], value="/b"),
        client.delete(f"{rules_url(policy_id)}/{rule['id']}", headers=P1),
    ):
        assert response.status_code == 409
        assert fault(response) == message
    assert show(client, policy_id, rule["id"])["value"] == "/api"
    assert rule_count(services) == 1
    assert status_of(services, LoadBalancer, tree.loadbalancer_id) == "ACTIVE"


def test_the_policy_check_comes_before_the_loadbalancer_check(
    client: TestClient, services: Services, tree: Tree, policy_id: str
) -> None:
    assert (
        client.put(
            f"{POLICIES}/{policy_id}", json={"l7policy": {"name": "x"}}, headers=P1
        ).status_code
        == 200
    )
    response = post(client, policy_id)
    assert response.status_code == 409
    assert fault(response) == f"L7Policy {policy_id} is immutable and cannot be updated."


def test_writes_need_an_active_loadbalancer(
    client: TestClient, services: Services, tree: Tree, policy_id: str
) -> None:
    rule = create(client, services, policy_id)
    create_policy_response = client.post(
        POLICIES,
        json={"l7policy": {"listener_id": tree.listener_id, "action": "REJECT"}},
        headers=P1,
    )
    assert create_policy_response.status_code == 201  # the LB is now PENDING_UPDATE
    message = f"Load Balancer {tree.loadbalancer_id} is immutable and cannot be updated."
    for response in (
        post(client, policy_id),
        put(client, policy_id, rule["id"], value="/b"),
        client.delete(f"{rules_url(policy_id)}/{rule['id']}", headers=P1),
    ):
        assert response.status_code == 409
        assert fault(response) == message
    assert rule_count(services) == 1
    assert status_of(services, L7Rule, rule["id"]) == "ACTIVE"


# --- update ------------------------------------------------------------------------------


def test_update_returns_200_and_marks_the_tree(
    client: TestClient, services: Services, tree: Tree, policy_id: str
) -> None:
    rule = create(client, services, policy_id, tags=["old"])
    response = put(client, policy_id, rule["id"], value="/images", invert=True, tags=["new"])
    assert response.status_code == 200
    updated = response.json()["rule"]
    assert (updated["value"], updated["invert"], updated["tags"]) == ("/images", True, ["new"])
    assert updated["type"] == "PATH"
    assert updated["provisioning_status"] == "PENDING_UPDATE"
    assert updated["updated_at"] is not None
    assert parent_statuses(services, tree, policy_id) == ALL_PENDING
    converge(services)
    assert show(client, policy_id, rule["id"])["provisioning_status"] == "ACTIVE"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"type": "SSL_CONN_HAS_CERT", "compare_type": "EQUAL_TO", "value": "tRuE"},
            {"type": "SSL_CONN_HAS_CERT", "value": "tRuE", "key": None},
        ),
        (
            {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO", "value": "0"},
            {"type": "SSL_VERIFY_RESULT", "value": "0"},
        ),
        (
            {"type": "SSL_DN_FIELD", "key": "st-1", "value": "ST-FIELD1-PREFIX"},
            {"type": "SSL_DN_FIELD", "key": "st-1", "compare_type": "STARTS_WITH"},
        ),
        ({"invert": None}, {"invert": False}),
        ({"admin_state_up": False, "tags": None}, {"admin_state_up": False, "tags": ["t"]}),
        ({"type": "HEADER", "key": "X-A"}, {"type": "HEADER", "key": "X-A", "value": "/api"}),
    ],
)
def test_update_merges_with_the_stored_rule(
    client: TestClient,
    services: Services,
    policy_id: str,
    change: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    rule = create(client, services, policy_id, invert=True, tags=["t"])
    response = put(client, policy_id, rule["id"], **change)
    assert response.status_code == 200, response.text
    updated = response.json()["rule"]
    assert {key: updated[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("start", "change", "message"),
    [
        (
            {},
            {"compare_type": "REGEX", "value": "bad string\\"},
            "Error parsing L7Rule: Unable to parse regular expression: bad escape (end of pattern) "
            "at position 10",
        ),
        ({}, {"type": "HEADER"}, RULE + "L7 rule type requires a key"),
        ({}, {"type": "FILE_TYPE"}, RULE + "invalid comparison type for rule type"),
        ({}, {"type": None}, RULE + "invalid rule type"),
        ({}, {"compare_type": None}, RULE + "invalid comparison type for rule type"),
        ({}, {"value": None}, RULE + "L7 rule type requires a value"),
        (
            {"type": "HEADER", "key": "X-A", "compare_type": "EQUAL_TO", "value": "true"},
            {"type": "SSL_CONN_HAS_CERT"},
            RULE + 'L7rule type SSL_CONN_HAS_CERT does not use the "key" field.',
        ),
        (
            {},
            {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO"},
            RULE + "L7rule type SSL_VERIFY_RESULT needs a int value, which is >= 0",
        ),
        ({}, {"value": "a\nb"}, "Value should match the pattern ^[^\\r\\n]*$"),
        ({}, {"type": "BOGUS"}, "Value should be one of: HOST_NAME"),
        ({}, {"project_id": "p2"}, "Unknown attribute for argument rule_.rule: project_id"),
    ],
)
def test_update_rejects_an_invalid_merged_rule(
    client: TestClient,
    services: Services,
    tree: Tree,
    policy_id: str,
    start: dict[str, Any],
    change: dict[str, Any],
    message: str,
) -> None:
    rule = create(client, services, policy_id, **start)
    response = put(client, policy_id, rule["id"], **change)
    assert response.status_code == 400
    assert message in fault(response)
    stored = show(client, policy_id, rule["id"])
    kept = ("type", "compare_type", "key", "value", "invert", "admin_state_up", "tags")
    assert {key: stored[key] for key in kept} == {key: rule[key] for key in kept}
    assert stored["provisioning_status"] == "ACTIVE"
    assert parent_statuses(services, tree, policy_id) == ALL_ACTIVE


def test_empty_update_still_marks_the_tree(
    client: TestClient, services: Services, tree: Tree, policy_id: str
) -> None:
    rule = create(client, services, policy_id)
    assert put(client, policy_id, rule["id"]).status_code == 200
    assert parent_statuses(services, tree, policy_id) == ALL_PENDING


# --- delete ------------------------------------------------------------------------------


def test_delete_marks_the_rule_and_its_parents(
    client: TestClient, services: Services, tree: Tree, policy_id: str
) -> None:
    rule = create(client, services, policy_id)
    response = client.delete(f"{rules_url(policy_id)}/{rule['id']}", headers=P1)
    assert response.status_code == 204
    assert response.content == b""
    assert status_of(services, L7Rule, rule["id"]) == "PENDING_DELETE"
    assert parent_statuses(services, tree, policy_id) == ALL_PENDING
    converge(services)
    response = client.get(f"{rules_url(policy_id)}/{rule['id']}", headers=P1)
    assert response.status_code == 404
    assert fault(response) == f"L7 Rule {rule['id']} not found."
    assert parent_statuses(services, tree, policy_id) == ALL_ACTIVE
    policy = client.get(f"{POLICIES}/{policy_id}", headers=P1).json()["l7policy"]
    assert policy["rules"] == []


# --- 404s --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("POST", ""), ("GET", "/RULE"), ("PUT", "/RULE"), ("DELETE", "/RULE")],
)
def test_unknown_policy_in_the_path_is_404(
    client: TestClient, services: Services, policy_id: str, method: str, suffix: str
) -> None:
    rule = create(client, services, policy_id)
    missing = str(uuid.uuid4())
    body = {"rule": PATH_RULE} if method in ("POST", "PUT") else None
    response = client.request(
        method, rules_url(missing) + suffix.replace("RULE", rule["id"]), json=body, headers=P1
    )
    assert response.status_code == 404
    assert fault(response) == f"L7Policy {missing} not found."


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_rule_is_404(client: TestClient, policy_id: str, method: str) -> None:
    missing = str(uuid.uuid4())
    response = client.request(
        method,
        f"{rules_url(policy_id)}/{missing}",
        headers=P1,
        json={"rule": {"value": "/x"}} if method == "PUT" else None,
    )
    assert response.status_code == 404
    assert fault(response) == f"L7 Rule {missing} not found."


def test_a_rule_of_another_policy_is_404(
    client: TestClient, services: Services, tree: Tree, policy_id: str
) -> None:
    rule = create(client, services, policy_id)
    other_policy = create_policy(client, services, tree.listener_id)["id"]
    response = client.get(f"{rules_url(other_policy)}/{rule['id']}", headers=P1)
    assert response.status_code == 404
    assert fault(response) == f"L7 Rule {rule['id']} not found."
    assert put(client, other_policy, rule["id"], value="/x").status_code == 404
    assert client.delete(f"{rules_url(other_policy)}/{rule['id']}", headers=P1).status_code == 404
    assert show(client, policy_id, rule["id"])["provisioning_status"] == "ACTIVE"


# --- RBAC --------------------------------------------------------------------------------


def test_other_projects_get_403(client: TestClient, services: Services, policy_id: str) -> None:
    rule = create(client, services, policy_id)
    item = f"{rules_url(policy_id)}/{rule['id']}"
    for method, url in (
        ("GET", rules_url(policy_id)),
        ("POST", rules_url(policy_id)),
        ("GET", item),
        ("PUT", item),
        ("DELETE", item),
    ):
        body = {"rule": PATH_RULE} if method in ("POST", "PUT") else None
        response = client.request(method, url, json=body, headers=P2)
        assert response.status_code == 403, (method, url)
        assert fault(response) == "Policy does not allow this request to be performed."
    assert rule_count(services) == 1
    assert show(client, policy_id, rule["id"])["provisioning_status"] == "ACTIVE"


@pytest.mark.parametrize("headers", [READER, as_project("p1", "load-balancer_observer")])
def test_readers_read_but_do_not_write(
    client: TestClient, services: Services, policy_id: str, headers: dict[str, str]
) -> None:
    rule = create(client, services, policy_id)
    item = f"{rules_url(policy_id)}/{rule['id']}"
    assert client.get(rules_url(policy_id), headers=headers).json()["rules"][0]["id"] == rule["id"]
    assert client.get(item, headers=headers).status_code == 200
    assert post(client, policy_id, headers=headers).status_code == 403
    assert put(client, policy_id, rule["id"], headers=headers, value="/x").status_code == 403
    assert client.delete(item, headers=headers).status_code == 403
    assert rule_count(services) == 1


def test_admin_and_global_observer(client: TestClient, services: Services, policy_id: str) -> None:
    rule = create(client, services, policy_id)
    observer = as_project("other", "load-balancer_global_observer")
    assert client.get(rules_url(policy_id), headers=observer).status_code == 200
    assert post(client, policy_id, headers=observer).status_code == 403
    response = post(client, policy_id, headers=ADMIN)
    assert response.status_code == 201
    assert response.json()["rule"]["project_id"] == "p1"
    converge(services)
    assert put(client, policy_id, rule["id"], headers=ADMIN, value="/x").status_code == 200


# --- list: filters, sorting, paging, fields, tags ----------------------------------------


@pytest.fixture
def three(client: TestClient, services: Services, policy_id: str) -> list[dict[str, Any]]:
    return [
        create(client, services, policy_id, value="/a", tags=["x", "y"]),
        create(
            client,
            services,
            policy_id,
            type="HEADER",
            compare_type="EQUAL_TO",
            key="X-K",
            value="b",
            invert=True,
            tags=["x"],
        ),
        create(
            client,
            services,
            policy_id,
            type="HOST_NAME",
            compare_type="ENDS_WITH",
            value=".c",
            admin_state_up=False,
        ),
    ]


def listed_values(client: TestClient, policy_id: str, query: str) -> list[str]:
    response = client.get(f"{rules_url(policy_id)}?{query}", headers=P1)
    assert response.status_code == 200, response.text
    return [rule.get("value") for rule in response.json()["rules"]]


LIST_CASES = [
    ("", ["/a", "b", ".c"]),
    ("type=HEADER", ["b"]),
    ("compare_type=ENDS_WITH", [".c"]),
    ("key=X-K", ["b"]),
    ("value=/a", ["/a"]),
    ("invert=true", ["b"]),
    ("admin_state_up=false", [".c"]),
    ("type=PATH&type=HOST_NAME", ["/a", ".c"]),
    ("tags=x", ["/a", "b"]),
    ("tags=x,y", ["/a"]),
    ("tags-any=y", ["/a"]),
    ("not-tags=x", [".c"]),
    ("not-tags-any=y", ["b", ".c"]),
    ("sort=value:desc", ["b", "/a", ".c"]),
    ("sort_key=type&sort_dir=asc", ["b", ".c", "/a"]),
    ("project_id=p1", ["/a", "b", ".c"]),
    # Rules have no name; the CLI's name lookup must find nothing rather than fail.
    ("name=x", []),
]


def test_list_filters_and_sorting(
    client: TestClient, policy_id: str, three: list[dict[str, Any]]
) -> None:
    for query, values in LIST_CASES:
        assert listed_values(client, policy_id, query) == values, query
    assert listed_values(client, policy_id, f"id={three[1]['id']}") == ["b"]


def test_list_only_shows_the_policys_rules(
    client: TestClient, services: Services, tree: Tree, policy_id: str, three: list[dict[str, Any]]
) -> None:
    other_policy = create_policy(client, services, tree.listener_id)["id"]
    create(client, services, other_policy, value="/other")
    assert listed_values(client, policy_id, "") == ["/a", "b", ".c"]
    assert listed_values(client, other_policy, "") == ["/other"]


def test_list_pagination_and_fields(
    client: TestClient, policy_id: str, three: list[dict[str, Any]]
) -> None:
    response = client.get(
        f"{rules_url(policy_id)}?limit=2&fields=id&fields=value", headers=P1
    ).json()
    assert response["rules"] == [
        {"id": three[0]["id"], "value": "/a"},
        {"id": three[1]["id"], "value": "b"},
    ]
    [link] = response["rules_links"]
    assert link["rel"] == "next"
    assert f"marker={three[1]['id']}" in link["href"]
    following = client.get(
        f"{rules_url(policy_id)}?limit=2&marker={three[1]['id']}", headers=P1
    ).json()
    assert [rule["value"] for rule in following["rules"]] == [".c"]
    assert {link["rel"] for link in following["rules_links"]} == {"previous"}


def test_show_fields(client: TestClient, policy_id: str, three: list[dict[str, Any]]) -> None:
    response = client.get(
        f"{rules_url(policy_id)}/{three[1]['id']}?fields=key&fields=invert", headers=P1
    )
    assert response.json() == {"rule": {"key": "X-K", "invert": True}}


def test_list_rejects_bad_queries(
    client: TestClient, policy_id: str, three: list[dict[str, Any]]
) -> None:
    for query in ("bogus=1", "sort=bogus", "limit=abc", "invert=maybe"):
        assert client.get(f"{rules_url(policy_id)}?{query}", headers=P1).status_code == 400, query
