"""Single-call ("fully populated") load balancer create (spec §4.1.1)."""

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from pier.api.services import Services
from pier.db.engine import transaction
from pier.db.tables import HealthMonitor, L7Policy, L7Rule, Listener, LoadBalancer, Member, Pool
from pier.settings import Settings
from tests.support.app import api_client, as_project, converge, make_services

URL = "/v2/lbaas/loadbalancers"
P1 = as_project("p1")
ADMIN = as_project("admin-project", "admin")
CERT = "http://barbican/v1/containers/" + "b" * 36
TABLES = (LoadBalancer, Listener, Pool, HealthMonitor, Member, L7Policy, L7Rule)

# The spec's own example (§4.1.1).
EXAMPLE: dict[str, Any] = {
    "name": "web",
    "listeners": [
        {
            "protocol": "HTTP",
            "protocol_port": 80,
            "default_pool": {"name": "p1"},
            "l7policies": [
                {
                    "action": "REDIRECT_TO_POOL",
                    "redirect_pool": {"name": "p2"},
                    "rules": [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"}],
                }
            ],
        }
    ],
    "pools": [
        {
            "name": "p1",
            "protocol": "HTTP",
            "lb_algorithm": "ROUND_ROBIN",
            "healthmonitor": {"type": "HTTP", "delay": 5, "timeout": 2, "max_retries": 2},
            "members": [{"address": "10.0.0.9", "protocol_port": 80}],
        },
        {"name": "p2", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"},
    ],
}


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path, settings=Settings(accept_any_subnet=True))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with api_client(services) as client:
        yield client


def post(client: TestClient, body: dict[str, Any], headers: dict[str, str] = P1) -> Any:
    full = {"vip_subnet_id": str(uuid.uuid4()), **copy.deepcopy(body)}
    return client.post(URL, json={"loadbalancer": full}, headers=headers)


def create(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = post(client, body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["loadbalancer"]
    return result


def counts(services: Services) -> dict[str, int]:
    with transaction(services.sessions, write=False) as session:
        return {
            table.__name__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in TABLES
        }


def fault(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["faultstring"])


def assert_nothing_written(services: Services) -> None:
    assert set(counts(services).values()) == {0}
    assert services.queue.get(timeout=0) is None


def test_full_graph_response(client: TestClient, services: Services) -> None:
    lb = create(client, EXAMPLE)
    assert lb["provisioning_status"] == "PENDING_CREATE"
    [listener] = lb["listeners"]
    pools = {pool["name"]: pool for pool in lb["pools"]}
    assert set(pools) == {"p1", "p2"}
    assert "loadbalancers" not in listener
    assert listener["provisioning_status"] == "PENDING_CREATE"
    assert listener["default_pool_id"] == pools["p1"]["id"]
    assert listener["project_id"] == "p1"
    [policy] = listener["l7policies"]
    assert policy["action"] == "REDIRECT_TO_POOL"
    assert policy["redirect_pool_id"] == pools["p2"]["id"]
    assert policy["position"] == 1
    assert policy["provisioning_status"] == "PENDING_CREATE"
    [rule] = policy["rules"]
    assert (rule["type"], rule["compare_type"], rule["value"]) == ("PATH", "STARTS_WITH", "/api")
    assert rule["provisioning_status"] == "PENDING_CREATE"
    p1, p2 = pools["p1"], pools["p2"]
    for pool in (p1, p2):
        assert "loadbalancers" not in pool and "healthmonitor_id" not in pool
        assert pool["provisioning_status"] == "PENDING_CREATE"
        assert pool["listeners"] == [{"id": listener["id"]}]
    assert p2["healthmonitor"] is None and p2["members"] == []
    monitor = p1["healthmonitor"]
    assert "pools" not in monitor
    assert (monitor["type"], monitor["http_method"], monitor["url_path"]) == ("HTTP", "GET", "/")
    assert monitor["provisioning_status"] == "PENDING_CREATE"
    [member] = p1["members"]
    assert (member["address"], member["protocol_port"]) == ("10.0.0.9", 80)
    assert member["operating_status"] == "OFFLINE"  # the pool has a monitor
    assert member["provisioning_status"] == "PENDING_CREATE"
    assert counts(services) == {
        "LoadBalancer": 1,
        "Listener": 1,
        "Pool": 2,
        "HealthMonitor": 1,
        "Member": 1,
        "L7Policy": 1,
        "L7Rule": 1,
    }


def test_graph_converges_and_shows_ids(client: TestClient, services: Services) -> None:
    lb = create(client, EXAMPLE)
    converge(services)
    shown = client.get(f"{URL}/{lb['id']}", headers=P1).json()["loadbalancer"]
    assert shown["provisioning_status"] == "ACTIVE"
    assert shown["listeners"] == [{"id": lb["listeners"][0]["id"]}]
    assert len(shown["pools"]) == 2
    listener = client.get(f"/v2/lbaas/listeners/{shown['listeners'][0]['id']}", headers=P1).json()[
        "listener"
    ]
    assert listener["provisioning_status"] == "ACTIVE"
    assert listener["l7policies"] == [{"id": lb["listeners"][0]["l7policies"][0]["id"]}]
    assert listener["loadbalancers"] == [{"id": lb["id"]}]


def test_inline_pools_are_hoisted(client: TestClient, services: Services) -> None:
    body = {
        "listeners": [
            {
                "protocol": "HTTP",
                "protocol_port": 80,
                "default_pool": {
                    "name": "web",
                    "protocol": "HTTP",
                    "lb_algorithm": "ROUND_ROBIN",
                    "members": [{"address": "10.0.0.1", "protocol_port": 8080}],
                },
                "l7policies": [
                    {
                        "action": "REDIRECT_TO_POOL",
                        "position": 1,
                        "redirect_pool": {
                            "name": "api",
                            "protocol": "PROXY",
                            "lb_algorithm": "LEAST_CONNECTIONS",
                        },
                        "rules": [
                            {
                                "type": "HOST_NAME",
                                "compare_type": "EQUAL_TO",
                                "value": "api.example.com",
                            }
                        ],
                    },
                    {
                        "action": "REJECT",
                        "position": 1,
                        "rules": [{"type": "PATH", "compare_type": "EQUAL_TO", "value": "/admin"}],
                    },
                ],
            },
            {"protocol": "TCP", "protocol_port": 443, "default_pool": {"name": "web"}},
        ]
    }
    lb = create(client, body)
    pools = {pool["name"]: pool for pool in lb["pools"]}
    assert set(pools) == {"web", "api"}
    assert pools["api"]["protocol"] == "PROXY"
    first, second = lb["listeners"]
    assert first["default_pool_id"] == second["default_pool_id"] == pools["web"]["id"]
    assert pools["web"]["listeners"] == [{"id": first["id"]}, {"id": second["id"]}]
    assert pools["web"]["members"][0]["operating_status"] == "NO_MONITOR"
    positions = {policy["action"]: policy["position"] for policy in first["l7policies"]}
    assert positions == {"REJECT": 1, "REDIRECT_TO_POOL": 2}
    assert counts(services)["Pool"] == 2


def test_terminated_https_listener_gets_tls_defaults(client: TestClient) -> None:
    lb = create(
        client,
        {
            "listeners": [
                {
                    "protocol": "TERMINATED_HTTPS",
                    "protocol_port": 443,
                    "default_tls_container_ref": CERT,
                    "insert_headers": {"X-Forwarded-For": "true"},
                    "tags": ["t"],
                }
            ]
        },
    )
    [listener] = lb["listeners"]
    assert listener["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert listener["insert_headers"] == {"X-Forwarded-For": "true"}
    assert listener["l7policies"] == []
    assert listener["tags"] == ["t"]
    assert lb["pools"] == []


def test_pools_without_listeners(client: TestClient) -> None:
    lb = create(
        client,
        {
            "pools": [
                {
                    "name": "solo",
                    "protocol": "UDP",
                    "lb_algorithm": "SOURCE_IP",
                    "session_persistence": {"type": "SOURCE_IP"},
                    "healthmonitor": {
                        "type": "UDP-CONNECT",
                        "delay": 5,
                        "timeout": 2,
                        "max_retries": 2,
                    },
                }
            ]
        },
    )
    [pool] = lb["pools"]
    assert pool["listeners"] == []
    assert pool["session_persistence"]["type"] == "SOURCE_IP"
    assert pool["healthmonitor"]["http_method"] is None
    assert lb["listeners"] == []


def _with(path: str, value: Any) -> dict[str, Any]:
    """EXAMPLE with one nested value set (`listeners.0.protocol`); index == len appends."""
    body = copy.deepcopy(EXAMPLE)
    *parents, last = path.split(".")
    target: Any = body
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    if last.isdigit() and int(last) == len(target):
        target.append(value)
    else:
        target[int(last) if last.isdigit() else last] = value
    return body


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        (
            _with("pools.1.name", "p1"),
            400,
            "Validation failure: Pool names must be unique when "
            "creating a fully populated loadbalancer.",
        ),
        (
            _with("pools.1.name", "p3"),
            400,
            "Validation failure: Pool 'p2' was referenced but no full definition was found.",
        ),
        (
            _with("listeners.0.default_pool", {"protocol": "HTTP"}),
            400,
            "Validation failure: Pools must be named when creating a fully populated loadbalancer.",
        ),
        (
            _with("pools.1", {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}),
            400,
            "Missing details for Pool object: name",
        ),
        (
            _with("pools.1", {"name": "p2", "lb_algorithm": "ROUND_ROBIN"}),
            400,
            "Validation failure: Pool definition for 'p2' missing required attribute: protocol",
        ),
        (
            _with("pools.1", {"name": "p2", "protocol": "HTTP"}),
            400,
            "Validation failure: Pool definition for 'p2' missing required attribute: lb_algorithm",
        ),
        (
            _with(
                "listeners.0.default_pool",
                {"name": "p2", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"},
            ),
            400,
            "Pool names must be unique",
        ),
        (
            _with("listeners.0.bogus", 1),
            400,
            "Unknown attribute for argument loadbalancer_.loadbalancer.listeners: bogus",
        ),
        (_with("listeners.0.loadbalancer_id", str(uuid.uuid4())), 400, "Unknown attribute"),
        (_with("listeners.0.protocol_port", 0), 400, "Value should be greater or equal to 1"),
        (
            _with("pools.0.protocol", "TCP"),
            400,
            "Validation failure: The pool protocol 'TCP' is invalid while the listener protocol is "
            "'HTTP'.",
        ),
        (
            _with("pools.1.protocol", "UDP"),
            400,
            "Validation failure: The pool protocol 'UDP' is invalid while the listener protocol is "
            "'HTTP'.",
        ),
        (
            _with("pools.0.session_persistence", {"type": "APP_COOKIE"}),
            400,
            'Field "cookie_name" must be specified',
        ),
        (
            _with("pools.0.members.0.address", "169.254.169.254"),
            400,
            "169.254.169.254 is not a valid option for member address",
        ),
        (
            _with("pools.0.members.1", {"address": "10.0.0.9", "protocol_port": 80}),
            409,
            "Another member on this pool is already using ip 10.0.0.9 on protocol_port 80",
        ),
        (_with("pools.0.members.0.bogus", 1), 400, "Unknown attribute"),
        (
            _with("pools.0.healthmonitor.type", "UDP-CONNECT"),
            400,
            "The UDP-CONNECT type is only supported for pools of type UDP/SCTP.",
        ),
        (_with("pools.0.healthmonitor.pool_id", str(uuid.uuid4())), 400, "Unknown attribute"),
        (_with("pools.0.healthmonitor.delay", None), 400, "Mandatory field missing."),
        (
            _with("listeners.0.l7policies.0.rules.0.value", "a b"),
            400,
            "Error parsing L7Rule: Invalid characters in comparison value",
        ),
        (
            _with("listeners.0.l7policies.0.action", "REDIRECT_TO_URL"),
            400,
            "Invalid L7 Policy arguments: redirect_url must not be None",
        ),
        (
            _with("listeners.0.l7policies.0.redirect_pool_id", str(uuid.uuid4())),
            400,
            "Unknown attribute",
        ),
        (
            _with(
                "listeners.0.l7policies.0.rules",
                [{"type": "PATH", "compare_type": "EQUAL_TO", "value": f"/{n}"} for n in range(51)],
            ),
            409,
            "Too many rules on L7 policy",
        ),
        (_with("listeners.0.protocol", "TCP"), 501, "do not support L7 policies"),
        (
            _with("listeners.1", {"protocol": "TCP", "protocol_port": 80}),
            409,
            "Another Listener on this Load Balancer is already using protocol HTTP and "
            "protocol_port 80",
        ),
        (
            _with("listeners.0.protocol", "PROMETHEUS"),
            400,
            "Protocol PROMETHEUS listeners cannot have child objects.",
        ),
        (_with("listeners.0.default_pool_id", str(uuid.uuid4())), 404, "not found."),
        (
            _with("listeners.0.insert_headers", {"X-Bogus": "1"}),
            400,
            "['X-Bogus'] is not a valid option for insert_headers",
        ),
    ],
)
def test_any_error_writes_nothing(
    client: TestClient, services: Services, body: dict[str, Any], status: int, text: str
) -> None:
    if "default_pool_id" in body["listeners"][0]:
        del body["listeners"][0]["default_pool"]
    assert text in fault(post(client, body), status)
    assert_nothing_written(services)


def test_quotas_are_checked_per_batch(client: TestClient, services: Services) -> None:
    for resource, name in (
        ("pool", "Pool"),
        ("listener", "Listener"),
        ("healthmonitor", "Health Monitor"),
        ("member", "Member"),
        ("l7policy", "L7 Policy"),
        ("l7rule", "L7 Rule"),
    ):
        limit = 2 if resource == "pool" else 1
        response = client.put(
            "/v2/lbaas/quotas/p1", headers=ADMIN, json={"quota": {resource: limit - 1}}
        )
        assert response.status_code == 202, response.text
        assert fault(post(client, EXAMPLE), 403) == f"Quota has been met for resources: {name}"
        assert_nothing_written(services)
        client.put("/v2/lbaas/quotas/p1", headers=ADMIN, json={"quota": {resource: limit}})
    create(client, EXAMPLE)


def test_other_projects_cannot_create_through_a_graph(
    client: TestClient, services: Services
) -> None:
    response = post(client, EXAMPLE, as_project("p1", "reader"))
    assert fault(response, 403) == "Policy does not allow this request to be performed."
    assert_nothing_written(services)
