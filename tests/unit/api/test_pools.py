"""`/v2/lbaas/pools` against the in-process app (spec §4.3, §3.3, §5)."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from pier.api.services import Services
from pier.db.engine import transaction
from pier.db.tables import Listener, Pool
from pier.settings import Settings
from tests.support.app import api_client, as_project, converge, make_services

URL = "/v2/lbaas/pools"
P1, P2 = as_project("p1"), as_project("p2")
READER = as_project("p1", "reader")
ADMIN = as_project("admin-project", "admin")
REF = "http://barbican/v1/secrets/" + "c" * 36
NOT_ACTIVE = "Load Balancer {} is immutable and cannot be updated."


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path, settings=Settings(accept_any_subnet=True))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with api_client(services) as client:
        yield client


def make_loadbalancer(client: TestClient, services: Services, headers: dict[str, str] = P1) -> str:
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}}
    response = client.post("/v2/lbaas/loadbalancers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    converge(services)
    return str(response.json()["loadbalancer"]["id"])


def make_listener(
    client: TestClient, services: Services, lb: str, protocol: str = "HTTP", port: int = 80
) -> str:
    body = {"listener": {"loadbalancer_id": lb, "protocol": protocol, "protocol_port": port}}
    response = client.post("/v2/lbaas/listeners", json=body, headers=P1)
    assert response.status_code == 201, response.text
    converge(services)
    return str(response.json()["listener"]["id"])


def post(client: TestClient, headers: dict[str, str] = P1, /, **fields: Any) -> Any:
    body = {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", **fields}
    return client.post(URL, json={"pool": body}, headers=headers)


def create(
    client: TestClient, services: Services, headers: dict[str, str] = P1, /, **fields: Any
) -> dict[str, Any]:
    response = post(client, headers, **fields)
    assert response.status_code == 201, response.text
    converge(services)
    result: dict[str, Any] = response.json()["pool"]
    return result


def show(client: TestClient, kind: str, ident: str) -> dict[str, Any]:
    response = client.get(f"/v2/lbaas/{kind}s/{ident}", headers=ADMIN)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()[kind]
    return result


def count_pools(services: Services) -> int:
    with transaction(services.sessions, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(Pool)) or 0)


def fault(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["faultstring"])


def test_create_defaults_and_shape(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    response = post(client, loadbalancer_id=lb, project_id="other", tags=["t"])
    assert response.status_code == 201, response.text
    pool = response.json()["pool"]
    assert pool["provisioning_status"] == "PENDING_CREATE"
    assert pool["operating_status"] == "OFFLINE"
    assert pool["project_id"] == pool["tenant_id"] == "p1"
    assert pool["loadbalancers"] == [{"id": lb}]
    assert pool["listeners"] == pool["members"] == []
    assert "healthmonitor_id" not in pool
    assert pool["session_persistence"] is None
    assert pool["name"] == pool["description"] == ""
    assert pool["admin_state_up"] is True
    assert pool["tls_enabled"] is False
    for key in (
        "tls_container_ref",
        "ca_tls_container_ref",
        "crl_container_ref",
        "tls_ciphers",
        "tls_versions",
        "alpn_protocols",
        "updated_at",
    ):
        assert pool[key] is None, key
    assert (pool["protocol"], pool["lb_algorithm"], pool["tags"]) == ("HTTP", "ROUND_ROBIN", ["t"])
    assert show(client, "loadbalancer", lb)["provisioning_status"] == "PENDING_UPDATE"
    converge(services)
    assert show(client, "pool", pool["id"])["provisioning_status"] == "ACTIVE"
    assert show(client, "loadbalancer", lb)["pools"] == [{"id": pool["id"]}]


def test_create_on_a_listener_makes_it_the_default(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    listener = make_listener(client, services, lb)
    response = post(client, listener_id=listener)
    assert response.status_code == 201, response.text
    pool = response.json()["pool"]
    assert pool["listeners"] == [{"id": listener}]
    assert pool["loadbalancers"] == [{"id": lb}]
    shown = show(client, "listener", listener)
    assert shown["default_pool_id"] == pool["id"]
    assert shown["provisioning_status"] == "PENDING_UPDATE"
    converge(services)
    assert fault(post(client, listener_id=listener), 409) == (
        "This listener already has a default pool"
    )
    assert fault(post(client, loadbalancer_id=lb, listener_id=listener), 409)
    assert count_pools(services) == 1


@pytest.mark.parametrize(
    ("listener_protocol", "fields", "status", "text"),
    [
        (
            "HTTP",
            {"protocol": "TCP"},
            400,
            "Validation failure: The pool protocol 'TCP' is invalid "
            "while the listener protocol is 'HTTP'.",
        ),
        (
            "UDP",
            {"protocol": "HTTP"},
            400,
            "Validation failure: The pool protocol 'HTTP' is "
            "invalid while the listener protocol is 'UDP'.",
        ),
        ("PROMETHEUS", {}, 400, "Protocol PROMETHEUS listeners cannot have child objects."),
    ],
)
def test_listener_protocol_compatibility(
    client: TestClient,
    services: Services,
    listener_protocol: str,
    fields: dict[str, Any],
    status: int,
    text: str,
) -> None:
    lb = make_loadbalancer(client, services)
    listener = make_listener(client, services, lb, listener_protocol)
    assert fault(post(client, listener_id=listener, **fields), status) == text
    assert count_pools(services) == 0
    assert show(client, "listener", listener)["default_pool_id"] is None


def test_compatible_listener_protocols(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    for port, (listener_protocol, pool_protocol) in enumerate(
        [("TCP", "PROXYV2"), ("HTTPS", "TCP"), ("UDP", "UDP"), ("SCTP", "SCTP")]
    ):
        listener = make_listener(client, services, lb, listener_protocol, 100 + port)
        create(client, services, listener_id=listener, protocol=pool_protocol)


def test_parents_are_checked(client: TestClient, services: Services) -> None:
    assert fault(post(client), 400) == (
        "Validation failure: Must provide at least one of: loadbalancer_id, listener_id"
    )
    missing = str(uuid.uuid4())
    assert fault(post(client, loadbalancer_id=missing), 404) == (
        f"Load Balancer {missing} not found."
    )
    assert fault(post(client, listener_id=missing), 404) == f"Listener {missing} not found."
    lb = make_loadbalancer(client, services)
    elsewhere = make_listener(client, services, make_loadbalancer(client, services))
    assert "is not on load balancer" in fault(
        post(client, loadbalancer_id=lb, listener_id=elsewhere), 400
    )
    response = client.post(
        "/v2/lbaas/loadbalancers",
        headers=P1,
        json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}},
    )
    pending = response.json()["loadbalancer"]["id"]
    assert fault(post(client, loadbalancer_id=pending), 409) == NOT_ACTIVE.format(pending)
    assert count_pools(services) == 0


@pytest.mark.parametrize(
    ("fields", "status", "text"),
    [
        (
            {"protocol": None},
            400,
            "Invalid input for field/attribute protocol. Value: 'Unset'. Mandatory field missing.",
        ),
        ({"lb_algorithm": "RANDOM"}, 400, "Value should be one of:"),
        ({"protocol": "TERMINATED_HTTPS"}, 400, "Value should be one of:"),
        ({"bogus": 1}, 400, "Unknown attribute for argument pool_.pool: bogus"),
        (
            {"session_persistence": {}},
            400,
            "Invalid input for field/attribute type. Value: 'Unset'. Mandatory field missing.",
        ),
        (
            {"session_persistence": {"type": "APP_COOKIE"}},
            400,
            'Validation failure: Field "cookie_name" must be specified when using the "APP_COOKIE" '
            "session persistence type.",
        ),
        (
            {"session_persistence": {"type": "HTTP_COOKIE", "cookie_name": "c"}},
            400,
            'Validation failure: Field "cookie_name" can only be specified with session '
            'persistence of type "APP_COOKIE".',
        ),
        (
            {"session_persistence": {"type": "APP_COOKIE", "cookie_name": "a b"}},
            400,
            "Value should match the pattern",
        ),
        (
            {"session_persistence": {"type": "APP_COOKIE", "cookie_name": "a=b"}},
            400,
            'Validation failure: Supplied "cookie_name" is invalid.',
        ),
        (
            {"session_persistence": {"type": "SOURCE_IP", "persistence_timeout": 5}},
            400,
            "Validation failure: persistence_timeout and persistence_granularity is only for "
            "UDP and SCTP protocol pools.",
        ),
        (
            {"protocol": "UDP", "session_persistence": {"type": "HTTP_COOKIE"}},
            400,
            "Validation failure: Session persistence of type HTTP_COOKIE is not supported for "
            "UDP/SCTP protocol pools.",
        ),
        (
            {"protocol": "SCTP", "session_persistence": {"type": "SOURCE_IP", "cookie_name": "c"}},
            400,
            "Validation failure: session_persistence SOURCE_IP type for UDP and SCTP protocols "
            "only accepts: type, persistence_timeout, persistence_granularity.",
        ),
        (
            {"protocol": "UDP", "session_persistence": {"type": "APP_COOKIE", "cookie_name": "c"}},
            400,
            "Validation failure: Cookie names are not supported for UDP/SCTP pools.",
        ),
        (
            {"session_persistence": {"type": "SOURCE_IP", "persistence_granularity": "x"}},
            400,
            "Value should be IPv4 or IPv6 format",
        ),
        (
            {"crl_container_ref": REF},
            400,
            "Validation failure: A CA certificate reference is required to specify a revocation "
            "list.",
        ),
        ({"tls_enabled": True, "tls_versions": []}, 400, "Empty TLS version list."),
        (
            {"tls_enabled": True, "alpn_protocols": ["h3"]},
            400,
            "Value should be a valid ALPN protocol ID",
        ),
        ({"tls_ciphers": "A;B"}, 400, "Invalid characters in cipher string."),
        (
            {"members": [{"address": "10.0.0.1", "protocol_port": 80}]},
            400,
            "only accepted inside a fully populated load balancer create",
        ),
        (
            {"healthmonitor": {"type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1}},
            400,
            "only accepted inside a fully populated load balancer create",
        ),
    ],
)
def test_create_validation_changes_nothing(
    client: TestClient, services: Services, fields: dict[str, Any], status: int, text: str
) -> None:
    lb = make_loadbalancer(client, services)
    assert text in fault(post(client, loadbalancer_id=lb, **fields), status)
    assert count_pools(services) == 0
    assert show(client, "loadbalancer", lb)["provisioning_status"] == "ACTIVE"


def test_session_persistence_and_tls(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    cookie = create(
        client,
        services,
        loadbalancer_id=lb,
        session_persistence={"type": "APP_COOKIE", "cookie_name": "JSESSIONID"},
    )
    assert cookie["session_persistence"] == {
        "type": "APP_COOKIE",
        "cookie_name": "JSESSIONID",
        "persistence_timeout": None,
        "persistence_granularity": None,
    }
    udp = create(
        client,
        services,
        loadbalancer_id=lb,
        protocol="UDP",
        lb_algorithm="SOURCE_IP",
        session_persistence={
            "type": "SOURCE_IP",
            "persistence_timeout": 60,
            "persistence_granularity": "255.255.255.0",
        },
    )
    assert udp["session_persistence"] == {
        "type": "SOURCE_IP",
        "cookie_name": None,
        "persistence_timeout": 60,
        "persistence_granularity": "255.255.255.0",
    }
    tls = create(
        client,
        services,
        loadbalancer_id=lb,
        protocol="HTTPS",
        tls_enabled=True,
        tls_container_ref=REF,
        ca_tls_container_ref=REF + "a",
        crl_container_ref=REF + "b",
    )
    assert tls["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert tls["alpn_protocols"] == ["h2", "http/1.1", "http/1.0"]
    assert tls["tls_ciphers"].startswith("TLS_AES_128_GCM_SHA256:")
    assert (tls["tls_container_ref"], tls["ca_tls_container_ref"], tls["crl_container_ref"]) == (
        REF,
        REF + "a",
        REF + "b",
    )


def test_update(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    listener = make_listener(client, services, lb)
    pool = create(
        client,
        services,
        listener_id=listener,
        name="a",
        tags=["x"],
        session_persistence={"type": "APP_COOKIE", "cookie_name": "c"},
    )
    url = f"{URL}/{pool['id']}"
    response = client.put(
        url,
        headers=P1,
        json={
            "pool": {
                "name": "b",
                "description": "d",
                "lb_algorithm": "LEAST_CONNECTIONS",
                "session_persistence": {"cookie_name": "other"},
                "tags": ["y"],
                "admin_state_up": False,
            }
        },
    )
    assert response.status_code == 200, response.text
    updated = response.json()["pool"]
    assert updated["provisioning_status"] == "PENDING_UPDATE"
    assert (updated["name"], updated["description"], updated["lb_algorithm"]) == (
        "b",
        "d",
        "LEAST_CONNECTIONS",
    )
    assert updated["session_persistence"]["type"] == "APP_COOKIE"
    assert updated["session_persistence"]["cookie_name"] == "other"
    assert updated["tags"] == ["y"]
    assert updated["admin_state_up"] is False
    assert show(client, "listener", listener)["provisioning_status"] == "PENDING_UPDATE"
    assert show(client, "loadbalancer", lb)["provisioning_status"] == "PENDING_UPDATE"
    assert fault(client.put(url, headers=P1, json={"pool": {}}), 409) == NOT_ACTIVE.format(lb)
    converge(services)
    response = client.put(
        url,
        headers=P1,
        json={
            "pool": {
                "session_persistence": None,
                "tags": None,
                "tls_ciphers": None,
                "tls_versions": None,
            }
        },
    )
    updated = response.json()["pool"]
    assert updated["session_persistence"] is None
    assert updated["tags"] == ["y"]
    assert updated["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert updated["tls_ciphers"].startswith("TLS_AES")
    converge(services)
    response = client.put(
        url,
        headers=P1,
        json={"pool": {"session_persistence": {"type": "SOURCE_IP"}, "tls_enabled": True}},
    )
    updated = response.json()["pool"]
    assert updated["session_persistence"]["type"] == "SOURCE_IP"
    assert updated["alpn_protocols"] == ["h2", "http/1.1", "http/1.0"]


@pytest.mark.parametrize(
    ("create_fields", "changes", "status", "text"),
    [
        ({}, {"protocol": "TCP"}, 400, "Unknown attribute for argument pool_.pool: protocol"),
        ({}, {"loadbalancer_id": str(uuid.uuid4())}, 400, "Unknown attribute"),
        ({}, {"listener_id": str(uuid.uuid4())}, 400, "Unknown attribute"),
        ({}, {"lb_algorithm": None}, 400, "lb_algorithm"),
        (
            {},
            {"session_persistence": {"cookie_name": "c"}},
            400,
            "Invalid input for field/attribute type. Value: 'Unset'. Mandatory field missing.",
        ),
        (
            {},
            {"session_persistence": {"type": "SOURCE_IP", "persistence_timeout": 3}},
            400,
            "persistence_timeout and persistence_granularity is only for UDP protocol pools.",
        ),
        (
            {"session_persistence": {"type": "SOURCE_IP"}},
            {"session_persistence": {"cookie_name": "c"}},
            400,
            'Field "cookie_name" can only be specified with session persistence of type '
            '"APP_COOKIE".',
        ),
        (
            {"protocol": "UDP"},
            {"session_persistence": {"type": "APP_COOKIE"}},
            400,
            "Session persistence of type APP_COOKIE is not supported for UDP/SCTP protocol pools.",
        ),
        (
            {"ca_tls_container_ref": REF, "crl_container_ref": REF},
            {"ca_tls_container_ref": None},
            400,
            "Validation failure: A CA reference cannot be removed when a certificate "
            "revocation list is present.",
        ),
        (
            {},
            {"crl_container_ref": REF},
            400,
            "Validation failure: A CA reference is required to specify a certificate "
            "revocation list.",
        ),
        (
            {},
            {"ca_tls_container_ref": None, "crl_container_ref": REF},
            400,
            "A CA reference is required to specify a certificate revocation list.",
        ),
        ({}, {"alpn_protocols": []}, 400, "Empty ALPN protocol list."),
    ],
)
def test_update_validation_changes_nothing(
    client: TestClient,
    services: Services,
    create_fields: dict[str, Any],
    changes: dict[str, Any],
    status: int,
    text: str,
) -> None:
    lb = make_loadbalancer(client, services)
    pool = create(client, services, loadbalancer_id=lb, **create_fields)
    before = show(client, "pool", pool["id"])
    assert before["provisioning_status"] == "ACTIVE"
    response = client.put(f"{URL}/{pool['id']}", headers=P1, json={"pool": changes})
    assert text in fault(response, status)
    assert show(client, "pool", pool["id"]) == before
    assert show(client, "loadbalancer", lb)["provisioning_status"] == "ACTIVE"


def test_delete_detaches_default_pool_users(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    first = make_listener(client, services, lb, port=80)
    second = make_listener(client, services, lb, port=81)
    pool = create(client, services, listener_id=first)
    response = client.put(
        f"/v2/lbaas/listeners/{second}",
        headers=P1,
        json={"listener": {"default_pool_id": pool["id"]}},
    )
    assert response.status_code == 200
    converge(services)
    assert [user["id"] for user in show(client, "pool", pool["id"])["listeners"]] == [first, second]
    url = f"{URL}/{pool['id']}"
    assert client.delete(url, headers=READER).status_code == 403
    assert client.delete(url, headers=P2).status_code == 403
    response = client.delete(url, headers=P1)
    assert response.status_code == 204
    assert show(client, "pool", pool["id"])["provisioning_status"] == "PENDING_DELETE"
    for listener in (first, second):
        shown = show(client, "listener", listener)
        assert shown["default_pool_id"] is None
        assert shown["provisioning_status"] == "PENDING_UPDATE"
    assert show(client, "loadbalancer", lb)["provisioning_status"] == "PENDING_UPDATE"
    assert fault(client.delete(url, headers=P1), 409) == NOT_ACTIVE.format(lb)
    converge(services)
    assert fault(client.get(url, headers=P1), 404) == f"Pool {pool['id']} not found."
    assert fault(client.delete(url, headers=P1), 404) == f"Pool {pool['id']} not found."
    missing = str(uuid.uuid4())
    assert fault(client.put(f"{URL}/{missing}", headers=P1, json={"pool": {}}), 404) == (
        f"Pool {missing} not found."
    )


def test_redirect_pool_is_in_use(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    listener = make_listener(client, services, lb)
    pool = create(client, services, loadbalancer_id=lb)
    body = {
        "l7policy": {
            "listener_id": listener,
            "action": "REDIRECT_TO_POOL",
            "redirect_pool_id": pool["id"],
        }
    }
    response = client.post("/v2/lbaas/l7policies", json=body, headers=P1)
    assert response.status_code == 201, response.text
    l7policy = response.json()["l7policy"]["id"]
    converge(services)
    # Octavia counts L7 redirects among a pool's listeners only once the policy has rules.
    assert show(client, "pool", pool["id"])["listeners"] == []
    rule = {"rule": {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/a"}}
    response = client.post(f"/v2/lbaas/l7policies/{l7policy}/rules", json=rule, headers=P1)
    assert response.status_code == 201, response.text
    converge(services)
    assert show(client, "pool", pool["id"])["listeners"] == [{"id": listener}]
    response = client.put(f"{URL}/{pool['id']}", headers=P1, json={"pool": {"name": "n"}})
    assert response.status_code == 200
    assert show(client, "listener", listener)["provisioning_status"] == "PENDING_UPDATE"
    converge(services)
    assert fault(client.delete(f"{URL}/{pool['id']}", headers=P1), 409) == (
        f"Pool {pool['id']} is in use by L7 policy {l7policy}"
    )
    assert show(client, "pool", pool["id"])["provisioning_status"] == "ACTIVE"


def test_healthmonitor_id_and_members(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    pool = create(client, services, loadbalancer_id=lb)
    body = {
        "healthmonitor": {
            "pool_id": pool["id"],
            "type": "HTTP",
            "delay": 5,
            "timeout": 2,
            "max_retries": 2,
        }
    }
    response = client.post("/v2/lbaas/healthmonitors", json=body, headers=P1)
    assert response.status_code == 201, response.text
    monitor = response.json()["healthmonitor"]["id"]
    converge(services)
    member = {"member": {"address": "10.0.0.5", "protocol_port": 80}}
    response = client.post(f"{URL}/{pool['id']}/members", json=member, headers=P1)
    assert response.status_code == 201, response.text
    shown = show(client, "pool", pool["id"])
    assert shown["healthmonitor_id"] == monitor
    assert shown["members"] == [{"id": response.json()["member"]["id"]}]


def test_projects_and_roles(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    pool = create(client, services, loadbalancer_id=lb)
    other = create(client, services, P2, loadbalancer_id=make_loadbalancer(client, services, P2))
    url = f"{URL}/{pool['id']}"
    assert fault(client.get(url, headers=P2), 403) == (
        "Policy does not allow this request to be performed."
    )
    assert client.get(url, headers=READER).status_code == 200
    assert (
        client.post(
            URL,
            headers=READER,
            json={
                "pool": {"loadbalancer_id": lb, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}
            },
        ).status_code
        == 403
    )
    assert fault(post(client, P2, loadbalancer_id=lb), 403)
    assert client.put(url, headers=READER, json={"pool": {}}).status_code == 403
    assert client.put(url, headers=P2, json={"pool": {}}).status_code == 403
    assert [item["id"] for item in client.get(URL, headers=P1).json()["pools"]] == [pool["id"]]
    assert [item["id"] for item in client.get(URL, headers=ADMIN).json()["pools"]] == [
        pool["id"],
        other["id"],
    ]
    assert client.get(f"{URL}?project_id=p2", headers=P1).status_code == 403
    observer = as_project("x", "load-balancer_global_observer")
    assert len(client.get(URL, headers=observer).json()["pools"]) == 2
    assert client.put(url, headers=ADMIN, json={"pool": {"name": "admin"}}).status_code == 200


def test_list_filters_sorting_pagination_fields_tags(
    client: TestClient, services: Services
) -> None:
    lb = make_loadbalancer(client, services)
    first = create(client, services, loadbalancer_id=lb, name="one", tags=["a"])
    second = create(
        client,
        services,
        loadbalancer_id=lb,
        name="two",
        protocol="TCP",
        lb_algorithm="SOURCE_IP",
        tags=["a", "b"],
    )
    other_lb = make_loadbalancer(client, services)
    third = create(client, services, loadbalancer_id=other_lb, name="three", protocol="UDP")

    def ids(query: str) -> list[str]:
        response = client.get(f"{URL}?{query}", headers=P1)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["pools"]]

    assert ids("name=two") == [second["id"]]
    assert ids(f"id={first['id']}") == [first["id"]]
    assert ids(f"loadbalancer_id={other_lb}") == [third["id"]]
    assert ids("protocol=TCP&lb_algorithm=SOURCE_IP") == [second["id"]]
    assert ids("admin_state_up=True") == [first["id"], second["id"], third["id"]]
    assert ids("sort=name:desc") == [second["id"], third["id"], first["id"]]
    assert ids("tags=a,b") == [second["id"]]
    assert ids("not-tags-any=b") == [first["id"], third["id"]]
    page = client.get(f"{URL}?limit=2", headers=P1).json()
    assert [item["id"] for item in page["pools"]] == [first["id"], second["id"]]
    marker = page["pools_links"][0]["href"].split("marker=")[1]
    assert ids(f"limit=2&marker={marker}") == [third["id"]]
    listed = client.get(f"{URL}?fields=name&fields=listeners", headers=P1).json()["pools"]
    assert listed[0] == {"name": "one", "listeners": []}
    assert fault(client.get(f"{URL}?bogus=1", headers=P1), 400) == (
        "One or more arguments are either duplicate or invalid"
    )


def test_quota(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    response = client.put("/v2/lbaas/quotas/p1", json={"quota": {"pool": 1}}, headers=ADMIN)
    assert response.status_code == 202, response.text
    create(client, services, loadbalancer_id=lb)
    assert fault(post(client, loadbalancer_id=lb), 403) == (
        "Quota has been met for resources: Pool"
    )
    assert count_pools(services) == 1
    with transaction(services.sessions, write=False) as session:
        assert session.scalar(select(func.count()).select_from(Listener)) == 0
