"""`/v2/lbaas/listeners` against the in-process app (spec §4.2, §3.3, §3.6, §5)."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from pier.api.services import Services
from pier.db.engine import transaction
from pier.db.tables import Amphora, Listener, ListenerStatistics, LoadBalancer
from pier.settings import Settings
from tests.support.app import api_client, as_project, converge, make_services

URL = "/v2/lbaas/listeners"
P1, P2 = as_project("p1"), as_project("p2")
READER = as_project("p1", "reader")
ADMIN = as_project("admin-project", "admin")
CERT = "http://barbican/v1/containers/" + "a" * 36


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


def post(client: TestClient, lb: str, headers: dict[str, str] = P1, /, **fields: Any) -> Any:
    body = {"loadbalancer_id": lb, "protocol": "HTTP", "protocol_port": 80, **fields}
    return client.post(URL, json={"listener": body}, headers=headers)


def create(
    client: TestClient, services: Services, lb: str, headers: dict[str, str] = P1, /, **fields: Any
) -> dict[str, Any]:
    response = post(client, lb, headers, **fields)
    assert response.status_code == 201, response.text
    converge(services)
    result: dict[str, Any] = response.json()["listener"]
    return result


def make_pool(
    client: TestClient, services: Services, loadbalancer_id: str, protocol: str = "HTTP"
) -> str:
    body = {
        "pool": {
            "loadbalancer_id": loadbalancer_id,
            "protocol": protocol,
            "lb_algorithm": "ROUND_ROBIN",
        }
    }
    response = client.post("/v2/lbaas/pools", json=body, headers=P1)
    assert response.status_code == 201, response.text
    converge(services)
    return str(response.json()["pool"]["id"])


def lb_status(client: TestClient, loadbalancer_id: str) -> str:
    response = client.get(f"/v2/lbaas/loadbalancers/{loadbalancer_id}", headers=ADMIN)
    return str(response.json()["loadbalancer"]["provisioning_status"])


def count_listeners(services: Services) -> int:
    with transaction(services.sessions, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(Listener)) or 0)


def fault(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["faultcode"] == ("Client" if status < 500 else "Server")
    return str(body["faultstring"])


def test_create_defaults_and_shape(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    response = post(client, lb, project_id="someone-else", tags=["t"])
    assert response.status_code == 201
    listener = response.json()["listener"]
    assert listener["provisioning_status"] == "PENDING_CREATE"
    assert listener["operating_status"] == "OFFLINE"
    assert listener["project_id"] == listener["tenant_id"] == "p1"
    assert listener["loadbalancers"] == [{"id": lb}]
    assert listener["l7policies"] == []
    assert listener["name"] == listener["description"] == ""
    assert listener["admin_state_up"] is True
    assert listener["connection_limit"] == -1
    assert listener["insert_headers"] == {}
    assert listener["allowed_cidrs"] is None
    assert listener["sni_container_refs"] == []
    assert listener["default_pool_id"] is None
    assert listener["timeout_client_data"] == 50000
    assert listener["timeout_member_connect"] == 5000
    assert listener["timeout_member_data"] == 50000
    assert listener["timeout_tcp_inspect"] == 0
    assert listener["client_authentication"] == "NONE"
    for key in (
        "default_tls_container_ref",
        "client_ca_tls_container_ref",
        "client_crl_container_ref",
        "tls_ciphers",
        "tls_versions",
        "alpn_protocols",
        "hsts_max_age",
        "updated_at",
    ):
        assert listener[key] is None, key
    assert listener["hsts_include_subdomains"] is listener["hsts_preload"] is False
    assert listener["tags"] == ["t"]
    assert lb_status(client, lb) == "PENDING_UPDATE"
    converge(services)
    shown = client.get(f"{URL}/{listener['id']}", headers=P1).json()["listener"]
    assert shown["provisioning_status"] == "ACTIVE"
    assert lb_status(client, lb) == "ACTIVE"


def test_strings_are_coerced_and_nulls_mean_defaults(
    client: TestClient, services: Services
) -> None:
    lb = make_loadbalancer(client, services)
    listener = create(
        client,
        services,
        lb,
        connection_limit="100",
        protocol_port="8080",
        timeout_client_data=None,
        admin_state_up=None,
    )
    assert listener["connection_limit"] == 100
    assert listener["protocol_port"] == 8080
    assert listener["timeout_client_data"] == 50000
    assert listener["admin_state_up"] is False


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        (
            {"protocol": None},
            "Invalid input for field/attribute protocol. Value: 'Unset'. Mandatory field missing.",
        ),
        ({"protocol": "FTP"}, "Value should be one of:"),
        ({"protocol_port": 0}, "Value should be greater or equal to 1"),
        ({"protocol_port": 65536}, "Value should be lower or equal to 65535"),
        ({"connection_limit": -2}, "Value should be greater or equal to -1"),
        ({"timeout_client_data": 2073600001}, "Value should be lower or equal to 2073600000"),
        ({"loadbalancer_id": "nope"}, "Value should be UUID format"),
        ({"bogus": 1}, "Unknown attribute for argument listener_.listener: bogus"),
        ({"name": "x" * 256}, "maximum character requirement of 255"),
        ({"alpn_protocols": ["spdy"]}, "Value should be a valid ALPN protocol ID"),
        ({"allowed_cidrs": ["nope"]}, "Value should be IPv4 or IPv6 CIDR format"),
        ({"default_pool_id": "x"}, "Value should be UUID format"),
    ],
)
def test_schema_errors_change_nothing(
    client: TestClient, services: Services, fields: dict[str, Any], text: str
) -> None:
    lb = make_loadbalancer(client, services)
    assert text in fault(post(client, lb, **fields), 400)
    assert count_listeners(services) == 0
    assert lb_status(client, lb) == "ACTIVE"


def test_unwrapped_body(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    response = client.post(URL, json={"loadbalancer_id": lb}, headers=P1)
    assert "Unknown attributes for argument listener_" in fault(response, 400)


def test_unknown_loadbalancer_and_pending_loadbalancer(
    client: TestClient, services: Services
) -> None:
    missing = str(uuid.uuid4())
    assert fault(post(client, missing), 404) == f"Load Balancer {missing} not found."
    response = client.post(
        "/v2/lbaas/loadbalancers",
        headers=P1,
        json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}},
    )
    lb = response.json()["loadbalancer"]["id"]
    assert fault(post(client, lb), 409) == f"Load Balancer {lb} is immutable and cannot be updated."
    assert count_listeners(services) == 0


def test_port_uniqueness_by_family(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    create(client, services, lb, protocol="HTTP", protocol_port=80)
    for protocol in ("TCP", "HTTPS", "PROMETHEUS", "HTTP"):
        assert fault(post(client, lb, protocol=protocol, protocol_port=80), 409) == (
            "Another Listener on this Load Balancer is already using protocol HTTP and "
            "protocol_port 80"
        )
    create(client, services, lb, protocol="UDP", protocol_port=80)
    create(client, services, lb, protocol="SCTP", protocol_port=80)
    assert "protocol UDP and protocol_port 80" in fault(
        post(client, lb, protocol="UDP", protocol_port=80), 409
    )
    other = make_loadbalancer(client, services)
    create(client, services, other, protocol="TCP", protocol_port=80)


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        (
            {"protocol": "TCP", "insert_headers": {"X-Forwarded-For": "true"}},
            "insert-headers is not a valid option for a TCP protocol listener.",
        ),
        (
            {"protocol": "UDP", "insert_headers": {"X-Forwarded-For": "true"}},
            "insert-headers is not a valid option for a UDP protocol listener.",
        ),
        (
            {"insert_headers": {"X-Bogus": "true"}},
            "['X-Bogus'] is not a valid option for insert_headers",
        ),
        (
            {"insert_headers": {"X-SSL-Client-Verify": "true"}},
            "['X-SSL-Client-Verify'] is not a valid option for HTTP protocol listener.",
        ),
        (
            {"default_tls_container_ref": CERT},
            "Validation failure: Certificate container references are not allowed on HTTP protocol "
            "listeners.",
        ),
        (
            {"protocol": "UDP", "sni_container_refs": [CERT]},
            "Validation failure: UDP protocol listener does not support TLS.",
        ),
        (
            {"protocol": "TERMINATED_HTTPS"},
            "Validation failure: An SNI or default certificate container reference must be "
            "provided for TERMINATED_HTTPS protocol listeners.",
        ),
        (
            {"protocol": "TERMINATED_HTTPS", "client_ca_tls_container_ref": CERT},
            "Validation failure: An SNI or default certificate container reference must be "
            "provided with a client CA container reference.",
        ),
        (
            {
                "protocol": "TERMINATED_HTTPS",
                "default_tls_container_ref": CERT,
                "client_authentication": "MANDATORY",
            },
            "Validation failure: Client authentication setting MANDATORY requires a client CA "
            "container reference.",
        ),
        (
            {
                "protocol": "TERMINATED_HTTPS",
                "default_tls_container_ref": CERT,
                "client_crl_container_ref": CERT,
            },
            "Validation failure: A client authentication CA reference is required to specify a "
            "client authentication revocation list.",
        ),
        (
            {"protocol": "PROMETHEUS", "client_ca_tls_container_ref": CERT},
            "must be provided with a client CA container reference.",
        ),
        (
            {"protocol": "TERMINATED_HTTPS", "default_tls_container_ref": CERT, "tls_versions": []},
            "Validation failure: Empty TLS version list. Either specify at least one TLS "
            "version or remove this parameter to use the default.",
        ),
        (
            {
                "protocol": "TERMINATED_HTTPS",
                "default_tls_container_ref": CERT,
                "tls_versions": ["TLSv9"],
            },
            "Validation failure: Invalid TLS versions: TLSv9",
        ),
        (
            {
                "protocol": "TERMINATED_HTTPS",
                "default_tls_container_ref": CERT,
                "alpn_protocols": [],
            },
            "Validation failure: Empty ALPN protocol list.",
        ),
        (
            {
                "protocol": "TERMINATED_HTTPS",
                "default_tls_container_ref": CERT,
                "tls_ciphers": "AES 256",
            },
            "Validation failure: Invalid characters in cipher string.",
        ),
        (
            {"hsts_max_age": 10},
            "Validation failure: The HSTS feature can only be used for listeners using the "
            "TERMINATED_HTTPS protocol.",
        ),
        (
            {
                "protocol": "TERMINATED_HTTPS",
                "default_tls_container_ref": CERT,
                "hsts_preload": True,
            },
            "Validation failure: HSTS configuration options hsts_include_subdomains and "
            "hsts_preload only make sense if hsts_max_age is set as well.",
        ),
        (
            {"allowed_cidrs": ["2001:db8::/64"]},
            "Validation failure: CIDR 2001:db8::/64 IP version incompatible with all VIPs",
        ),
        ({"default_pool": {"name": "p"}}, "only accepted inside a fully populated load balancer"),
        ({"l7policies": [{"action": "REJECT"}]}, "only accepted inside a fully populated"),
    ],
)
def test_validation_rules(
    client: TestClient, services: Services, fields: dict[str, Any], text: str
) -> None:
    lb = make_loadbalancer(client, services)
    assert text in fault(post(client, lb, **fields), 400)
    assert count_listeners(services) == 0
    assert lb_status(client, lb) == "ACTIVE"


def test_header_insertion_and_cidrs(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    listener = create(
        client,
        services,
        lb,
        insert_headers={"X-Forwarded-For": "true"},
        allowed_cidrs=["10.1.2.3/8", "192.168.0.0/24"],
    )
    assert listener["insert_headers"] == {"X-Forwarded-For": "true"}
    assert listener["allowed_cidrs"] == ["10.0.0.0/8", "192.168.0.0/24"]
    listener = create(
        client,
        services,
        lb,
        protocol="TERMINATED_HTTPS",
        protocol_port=443,
        default_tls_container_ref=CERT,
        insert_headers={"X-SSL-Client-Verify": "true"},
    )
    assert listener["insert_headers"] == {"X-SSL-Client-Verify": "true"}


def test_terminated_https_gets_tls_defaults(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    listener = create(
        client,
        services,
        lb,
        protocol="TERMINATED_HTTPS",
        protocol_port=443,
        sni_container_refs=[CERT, CERT + "b"],
        client_ca_tls_container_ref=CERT,
        client_authentication="OPTIONAL",
        client_crl_container_ref=CERT,
        hsts_max_age=3600,
        hsts_preload=True,
    )
    assert listener["tls_ciphers"].startswith("TLS_AES_128_GCM_SHA256:")
    assert listener["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert listener["alpn_protocols"] == ["h2", "http/1.1", "http/1.0"]
    assert listener["sni_container_refs"] == [CERT, CERT + "b"]
    assert listener["default_tls_container_ref"] is None
    assert listener["client_authentication"] == "OPTIONAL"
    assert listener["hsts_max_age"] == 3600 and listener["hsts_preload"] is True
    own = create(
        client,
        services,
        lb,
        protocol="TERMINATED_HTTPS",
        protocol_port=8443,
        default_tls_container_ref=CERT,
        tls_versions=["TLSv1.3"],
        alpn_protocols=["h2"],
        tls_ciphers="ECDHE-RSA-AES128-GCM-SHA256",
    )
    assert own["tls_versions"] == ["TLSv1.3"]
    assert own["alpn_protocols"] == ["h2"]
    assert own["tls_ciphers"] == "ECDHE-RSA-AES128-GCM-SHA256"


def test_default_pool(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    pool = make_pool(client, services, lb)
    listener = create(client, services, lb, default_pool_id=pool)
    assert listener["default_pool_id"] == pool
    shown = client.get(f"/v2/lbaas/pools/{pool}", headers=P1).json()["pool"]
    assert shown["listeners"] == [{"id": listener["id"]}]
    tcp_pool = make_pool(client, services, lb, protocol="TCP")
    assert fault(post(client, lb, protocol_port=81, default_pool_id=tcp_pool), 400) == (
        "Validation failure: The pool protocol 'TCP' is invalid while the listener protocol is "
        "'HTTP'."
    )
    assert fault(
        post(client, lb, protocol="PROMETHEUS", protocol_port=82, default_pool_id=pool), 400
    ) == ("Protocol PROMETHEUS listeners cannot have child objects.")
    missing = str(uuid.uuid4())
    assert fault(post(client, lb, protocol_port=83, default_pool_id=missing), 404) == (
        f"Pool {missing} not found."
    )
    elsewhere = make_pool(client, services, make_loadbalancer(client, services))
    assert fault(post(client, lb, protocol_port=84, default_pool_id=elsewhere), 404) == (
        f"Pool {elsewhere} not found."
    )


def test_update_and_unset(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    pool = make_pool(client, services, lb)
    listener = create(
        client,
        services,
        lb,
        name="a",
        connection_limit=5,
        tags=["x"],
        timeout_client_data=1,
        default_pool_id=pool,
        insert_headers={"X-Forwarded-Port": "true"},
    )
    url = f"{URL}/{listener['id']}"
    response = client.put(
        url,
        headers=P1,
        json={
            "listener": {
                "name": "b",
                "connection_limit": None,
                "timeout_client_data": None,
                "default_pool_id": None,
                "insert_headers": None,
                "allowed_cidrs": ["10.9.9.9/16"],
                "tags": ["y"],
                "description": "d",
                "admin_state_up": False,
            }
        },
    )
    assert response.status_code == 200, response.text
    updated = response.json()["listener"]
    assert updated["provisioning_status"] == "PENDING_UPDATE"
    assert (updated["name"], updated["description"]) == ("b", "d")
    assert updated["connection_limit"] == -1
    assert updated["timeout_client_data"] == 50000
    assert updated["default_pool_id"] is None
    assert updated["insert_headers"] == {}
    assert updated["allowed_cidrs"] == ["10.9.0.0/16"]
    assert updated["tags"] == ["y"]
    assert updated["admin_state_up"] is False
    assert updated["updated_at"] is not None
    assert lb_status(client, lb) == "PENDING_UPDATE"
    assert fault(client.put(url, headers=P1, json={"listener": {"name": "c"}}), 409) == (
        f"Load Balancer {lb} is immutable and cannot be updated."
    )
    converge(services)
    response = client.put(
        url, headers=P1, json={"listener": {"tags": None, "default_pool_id": pool}}
    )
    assert response.json()["listener"]["tags"] == ["y"]
    assert response.json()["listener"]["default_pool_id"] == pool


def test_empty_update_still_locks(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    listener = create(client, services, lb)
    response = client.put(f"{URL}/{listener['id']}", headers=P1, json={"listener": {}})
    assert response.json()["listener"]["provisioning_status"] == "PENDING_UPDATE"
    assert lb_status(client, lb) == "PENDING_UPDATE"


@pytest.mark.parametrize(
    ("create_fields", "changes", "text"),
    [
        ({}, {"protocol": "TCP"}, "Unknown attribute for argument listener_.listener: protocol"),
        (
            {},
            {"protocol_port": 81},
            "Unknown attribute for argument listener_.listener: protocol_port",
        ),
        ({}, {"loadbalancer_id": str(uuid.uuid4())}, "Unknown attribute"),
        (
            {},
            {"default_tls_container_ref": CERT},
            "Certificate container references are not allowed on HTTP protocol listeners.",
        ),
        (
            {"protocol": "UDP"},
            {"insert_headers": {"X-Forwarded-For": "true"}},
            "Validation failure: UDP protocol listener does not support TLS or header insertion.",
        ),
        (
            {},
            {"insert_headers": {"X-SSL-Client-CN": "true"}},
            "['X-SSL-Client-CN'] is not a valid option for HTTP protocol listener.",
        ),
        (
            {"protocol": "TERMINATED_HTTPS", "default_tls_container_ref": CERT},
            {"client_authentication": "MANDATORY"},
            "Client authentication setting MANDATORY requires a client CA container reference.",
        ),
        (
            {"protocol": "TERMINATED_HTTPS", "default_tls_container_ref": CERT},
            {"hsts_include_subdomains": True},
            "Validation failure: Cannot enable hsts_include_subdomains or hsts_preload if "
            "hsts_max_age was not set as well.",
        ),
        ({}, {"hsts_max_age": 5}, "can only be used for listeners using the TERMINATED_HTTPS"),
        (
            {"protocol": "TERMINATED_HTTPS", "default_tls_container_ref": CERT},
            {"default_tls_container_ref": None},
            "An SNI or default certificate container reference must be provided",
        ),
        (
            {"protocol": "TERMINATED_HTTPS", "default_tls_container_ref": CERT},
            {"tls_versions": ["TLSv1.2", "bogus"]},
            "Invalid TLS versions: bogus",
        ),
    ],
)
def test_update_validation(
    client: TestClient,
    services: Services,
    create_fields: dict[str, Any],
    changes: dict[str, Any],
    text: str,
) -> None:
    lb = make_loadbalancer(client, services)
    listener = create(client, services, lb, **{"protocol_port": 443, **create_fields})
    before = client.get(f"{URL}/{listener['id']}", headers=P1).json()["listener"]
    assert before["provisioning_status"] == "ACTIVE"
    response = client.put(f"{URL}/{listener['id']}", headers=P1, json={"listener": changes})
    assert text in fault(response, 400)
    assert lb_status(client, lb) == "ACTIVE"
    shown = client.get(f"{URL}/{listener['id']}", headers=P1).json()["listener"]
    assert shown == before


def test_update_tls_nulls_reset_to_defaults(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    listener = create(
        client,
        services,
        lb,
        protocol="TERMINATED_HTTPS",
        protocol_port=443,
        default_tls_container_ref=CERT,
        tls_versions=["TLSv1.3"],
        alpn_protocols=["h2"],
        hsts_max_age=10,
    )
    response = client.put(
        f"{URL}/{listener['id']}",
        headers=P1,
        json={
            "listener": {
                "tls_versions": None,
                "alpn_protocols": None,
                "tls_ciphers": None,
                "client_authentication": None,
                "hsts_preload": True,
            }
        },
    )
    updated = response.json()["listener"]
    assert updated["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert updated["alpn_protocols"] == ["h2", "http/1.1", "http/1.0"]
    assert updated["tls_ciphers"].startswith("TLS_AES_128_GCM_SHA256")
    assert updated["client_authentication"] == "NONE"
    assert updated["hsts_preload"] is True


def test_update_default_pool_rules(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    listener = create(client, services, lb)
    url = f"{URL}/{listener['id']}"
    tcp_pool = make_pool(client, services, lb, protocol="TCP")
    assert "The pool protocol 'TCP' is invalid" in fault(
        client.put(url, headers=P1, json={"listener": {"default_pool_id": tcp_pool}}), 400
    )
    missing = str(uuid.uuid4())
    assert (
        fault(client.put(url, headers=P1, json={"listener": {"default_pool_id": missing}}), 404)
        == f"Pool {missing} not found."
    )


def test_delete(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    listener = create(client, services, lb)
    url = f"{URL}/{listener['id']}"
    assert client.delete(url, headers=READER).status_code == 403
    response = client.delete(url, headers=P1)
    assert response.status_code == 204
    assert response.content == b""
    shown = client.get(url, headers=P1).json()["listener"]
    assert shown["provisioning_status"] == "PENDING_DELETE"
    assert lb_status(client, lb) == "PENDING_UPDATE"
    assert fault(client.delete(url, headers=P1), 409) == (
        f"Load Balancer {lb} is immutable and cannot be updated."
    )
    converge(services)
    assert fault(client.get(url, headers=P1), 404) == f"Listener {listener['id']} not found."
    assert fault(client.delete(url, headers=P1), 404) == f"Listener {listener['id']} not found."
    assert lb_status(client, lb) == "ACTIVE"
    missing = str(uuid.uuid4())
    response = client.put(f"{URL}/{missing}", headers=P1, json={"listener": {}})
    assert fault(response, 404) == f"Listener {missing} not found."


def test_stats(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    listener = create(client, services, lb)
    url = f"{URL}/{listener['id']}/stats"
    assert client.get(url, headers=P1).json() == {
        "stats": {
            "active_connections": 0,
            "bytes_in": 0,
            "bytes_out": 0,
            "request_errors": 0,
            "total_connections": 0,
        }
    }
    with transaction(services.sessions) as session:
        live = Amphora(loadbalancer_id=lb, status="ALLOCATED")
        gone = Amphora(loadbalancer_id=lb, status="DELETED")
        session.add_all([live, gone])
        session.flush()
        for amphora_id, numbers in ((live.id, 1), (gone.id, 10), (listener["id"], 100)):
            session.add(
                ListenerStatistics(
                    listener_id=listener["id"],
                    amphora_id=amphora_id,
                    bytes_in=numbers,
                    bytes_out=2 * numbers,
                    active_connections=3 * numbers,
                    total_connections=4 * numbers,
                    request_errors=5 * numbers,
                )
            )
    assert client.get(url, headers=READER).json() == {
        "stats": {
            "active_connections": 303,
            "bytes_in": 111,
            "bytes_out": 222,
            "request_errors": 555,
            "total_connections": 444,
        }
    }
    assert client.get(url, headers=P2).status_code == 403
    missing = str(uuid.uuid4())
    assert fault(client.get(f"{URL}/{missing}/stats", headers=P1), 404) == (
        f"Listener {missing} not found."
    )


def test_projects_and_roles(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    listener = create(client, services, lb)
    other_lb = make_loadbalancer(client, services, P2)
    create(client, services, other_lb, P2, protocol_port=81)
    url = f"{URL}/{listener['id']}"
    assert fault(client.get(url, headers=P2), 403) == (
        "Policy does not allow this request to be performed."
    )
    assert client.get(url, headers=READER).status_code == 200
    assert fault(post(client, lb, READER, protocol_port=90), 403)
    assert fault(post(client, lb, P2, protocol_port=91), 403)
    assert client.put(url, headers=READER, json={"listener": {}}).status_code == 403
    assert client.put(url, headers=P2, json={"listener": {}}).status_code == 403
    observer = as_project("p1", "load-balancer_observer")
    assert client.get(url, headers=observer).status_code == 200
    assert client.get(url, headers=as_project("p1", "load-balancer_member")).status_code == 200
    assert [item["id"] for item in client.get(URL, headers=P1).json()["listeners"]] == [
        listener["id"]
    ]
    assert len(client.get(URL, headers=ADMIN).json()["listeners"]) == 2
    globals_ = as_project("p3", "load-balancer_global_observer")
    assert len(client.get(URL, headers=globals_).json()["listeners"]) == 2
    assert client.get(f"{URL}?project_id=p2", headers=P1).status_code == 403
    assert len(client.get(f"{URL}?project_id=p2", headers=ADMIN).json()["listeners"]) == 1
    assert client.get(URL, headers=as_project("p1", "nobody")).status_code == 403
    assert client.delete(url, headers=ADMIN).status_code == 204


def test_list_filters_sorting_pagination_fields_tags(
    client: TestClient, services: Services
) -> None:
    lb = make_loadbalancer(client, services)
    first = create(
        client, services, lb, name="one", protocol="HTTP", protocol_port=80, tags=["a", "b"]
    )
    second = create(client, services, lb, name="two", protocol="TCP", protocol_port=81, tags=["b"])
    third = create(client, services, lb, name="three", protocol="UDP", protocol_port=82)

    def ids(query: str) -> list[str]:
        response = client.get(f"{URL}?{query}", headers=P1)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["listeners"]]

    assert ids("name=two") == [second["id"]]
    assert ids(f"id={third['id']}") == [third["id"]]
    assert ids("protocol=TCP") == [second["id"]]
    assert ids("protocol_port=82") == [third["id"]]
    assert ids(f"loadbalancer_id={lb}") == [first["id"], second["id"], third["id"]]
    assert ids("admin_state_up=true&provisioning_status=ACTIVE") == ids("")
    assert ids("sort=protocol_port:desc") == [third["id"], second["id"], first["id"]]
    assert ids("sort_key=name&sort_dir=asc") == [first["id"], third["id"], second["id"]]
    assert ids("tags=a,b") == [first["id"]]
    assert ids("tags-any=a,b") == [first["id"], second["id"]]
    assert ids("not-tags=b") == [third["id"]]
    assert ids("not-tags-any=a") == [second["id"], third["id"]]
    page = client.get(f"{URL}?limit=1", headers=P1).json()
    assert [item["id"] for item in page["listeners"]] == [first["id"]]
    assert page["listeners_links"][0]["rel"] == "next"
    assert f"marker={first['id']}" in page["listeners_links"][0]["href"]
    page = client.get(f"{URL}?limit=1&marker={first['id']}", headers=P1).json()
    assert [item["id"] for item in page["listeners"]] == [second["id"]]
    assert {link["rel"] for link in page["listeners_links"]} == {"next", "previous"}
    listed = client.get(f"{URL}?fields=id&fields=protocol", headers=P1).json()["listeners"]
    assert listed[0] == {"id": first["id"], "protocol": "HTTP"}
    shown = client.get(f"{URL}/{first['id']}?fields=name", headers=P1).json()
    assert shown == {"listener": {"name": "one"}}
    assert client.get(f"/v2.0/lbaas/listeners/{first['id']}", headers=P1).status_code == 200
    for bad, text in (
        ("bogus=1", "One or more arguments are either duplicate or invalid"),
        ("sort=bogus", "Supplied sort key 'bogus' is not valid."),
        ("marker=nope", "Supplied pagination marker 'nope' is not valid."),
    ):
        assert fault(client.get(f"{URL}?{bad}", headers=P1), 400) == text


def test_quota(client: TestClient, services: Services) -> None:
    lb = make_loadbalancer(client, services)
    response = client.put("/v2/lbaas/quotas/p1", json={"quota": {"listener": 1}}, headers=ADMIN)
    assert response.status_code == 202, response.text
    create(client, services, lb)
    assert fault(post(client, lb, protocol_port=81), 403) == (
        "Quota has been met for resources: Listener"
    )
    assert count_listeners(services) == 1
    with transaction(services.sessions, write=False) as session:
        assert session.get(LoadBalancer, lb).provisioning_status == "ACTIVE"  # type: ignore[union-attr]


def test_allowed_cidrs_refused_with_custom_vip_security_groups(
    client: TestClient, services: Services
) -> None:
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()), "vip_sg_ids": [str(uuid.uuid4())]}}
    response = client.post("/v2/lbaas/loadbalancers", json=body, headers=P1)
    assert response.status_code == 201, response.text
    converge(services)
    lb = response.json()["loadbalancer"]["id"]
    assert fault(post(client, lb, allowed_cidrs=["10.0.0.0/8"]), 400) == (
        "Validation failure: Allowed CIDRs are not allowed when using custom VIP Security Groups."
    )
    create(client, services, lb)
