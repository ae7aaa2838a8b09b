"""`/v2/lbaas/healthmonitors` against the in-process app (spec §4.5, §3.3, §5)."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from pier.api.mutations.healthmonitor import validate_healthmonitor_values
from pier.api.services import Services
from pier.db.engine import transaction
from pier.db.tables import HealthMonitor, Listener, LoadBalancer, Pool, Quota
from pier.domain.errors import InvalidInput
from pier.settings import Settings
from tests.support.app import api_client, as_project, converge, make_services

URL = "/v2/lbaas/healthmonitors"
P1, P2 = as_project("p1"), as_project("p2")
READER = as_project("p1", "reader")
ADMIN = as_project("admin-project", "admin")


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path, settings=Settings(accept_any_subnet=True))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with api_client(services) as client:
        yield client


def create_loadbalancer(
    client: TestClient, services: Services, headers: dict[str, str] = P1
) -> str:
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}}
    response = client.post("/v2/lbaas/loadbalancers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    converge(services)
    return str(response.json()["loadbalancer"]["id"])


def create_pool(
    client: TestClient,
    services: Services,
    loadbalancer_id: str,
    protocol: str = "HTTP",
    headers: dict[str, str] = P1,
) -> str:
    body = {"loadbalancer_id": loadbalancer_id, "protocol": protocol, "lb_algorithm": "ROUND_ROBIN"}
    response = client.post("/v2/lbaas/pools", json={"pool": body}, headers=headers)
    assert response.status_code == 201, response.text
    converge(services)
    return str(response.json()["pool"]["id"])


@pytest.fixture
def loadbalancer_id(client: TestClient, services: Services) -> str:
    return create_loadbalancer(client, services)


@pytest.fixture
def pool_id(client: TestClient, services: Services, loadbalancer_id: str) -> str:
    return create_pool(client, services, loadbalancer_id)


def post(client: TestClient, pool: str, headers: dict[str, str] = P1, **fields: Any) -> Any:
    body = {"pool_id": pool, "type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 2, **fields}
    return client.post(URL, json={"healthmonitor": body}, headers=headers)


def create(client: TestClient, pool_id: str, **fields: Any) -> dict[str, Any]:
    response = post(client, pool_id, **fields)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["healthmonitor"]
    return result


def put(
    client: TestClient, healthmonitor_id: str, headers: dict[str, str] = P1, **fields: Any
) -> Any:
    return client.put(f"{URL}/{healthmonitor_id}", json={"healthmonitor": fields}, headers=headers)


def statuses(services: Services, table: Any) -> list[str]:
    with transaction(services.sessions, write=False) as session:
        return [row.provisioning_status for row in session.scalars(select(table))]


def monitor_rows(services: Services) -> list[HealthMonitor]:
    with transaction(services.sessions, write=False) as session:
        return list(session.scalars(select(HealthMonitor)))


def fault(response: Any) -> str:
    return str(response.json()["faultstring"])


# --- create ------------------------------------------------------------------------------


def test_http_monitor_gets_octavias_shape_and_defaults(client: TestClient, pool_id: str) -> None:
    monitor = create(client, pool_id)
    assert set(monitor) == {
        "id",
        "name",
        "type",
        "delay",
        "timeout",
        "max_retries",
        "max_retries_down",
        "http_method",
        "url_path",
        "expected_codes",
        "admin_state_up",
        "project_id",
        "tenant_id",
        "pools",
        "provisioning_status",
        "operating_status",
        "created_at",
        "updated_at",
        "tags",
        "http_version",
        "domain_name",
    }
    assert monitor["pools"] == [{"id": pool_id}]
    assert (monitor["http_method"], monitor["url_path"], monitor["expected_codes"]) == (
        "GET",
        "/",
        "200",
    )
    assert monitor["max_retries_down"] == 3
    assert (monitor["delay"], monitor["timeout"], monitor["max_retries"]) == (5, 3, 2)
    assert monitor["provisioning_status"] == "PENDING_CREATE"
    assert monitor["operating_status"] == "OFFLINE"
    assert monitor["project_id"] == monitor["tenant_id"] == "p1"
    assert monitor["name"] == ""
    assert monitor["admin_state_up"] is True
    assert monitor["http_version"] is None and monitor["domain_name"] is None
    assert monitor["tags"] == []
    assert monitor["updated_at"] is None


def test_create_stores_every_field(client: TestClient, pool_id: str) -> None:
    monitor = create(
        client,
        pool_id,
        type="HTTPS",
        name="hm",
        http_method="HEAD",
        url_path="/health?full=1",
        expected_codes="200-204",
        http_version=1.1,
        domain_name="example.com",
        max_retries_down="5",
        admin_state_up=False,
        tags=["a"],
        project_id="ignored",
    )
    assert (monitor["type"], monitor["name"], monitor["http_method"]) == ("HTTPS", "hm", "HEAD")
    assert monitor["url_path"] == "/health?full=1"
    assert monitor["expected_codes"] == "200-204"
    assert monitor["http_version"] == 1.1
    assert monitor["domain_name"] == "example.com"
    assert monitor["max_retries_down"] == 5
    assert monitor["admin_state_up"] is False
    assert monitor["tags"] == ["a"]
    assert monitor["project_id"] == "p1"


def test_http_version_is_a_json_float(client: TestClient, pool_id: str) -> None:
    response = post(client, pool_id, http_version="1.0")
    assert response.status_code == 201
    assert b'"http_version":1.0' in response.content


@pytest.mark.parametrize("hm_type", ["TCP", "PING", "TLS-HELLO"])
def test_non_http_monitors_show_null_http_fields(
    client: TestClient, pool_id: str, hm_type: str
) -> None:
    monitor = create(client, pool_id, type=hm_type)
    assert monitor["type"] == hm_type
    assert monitor["http_method"] is None
    assert monitor["url_path"] is None
    assert monitor["expected_codes"] is None


@pytest.mark.parametrize("field", ["http_method", "url_path", "expected_codes"])
def test_non_http_monitors_reject_http_fields(
    client: TestClient, services: Services, pool_id: str, field: str
) -> None:
    value = {"http_method": "GET", "url_path": "/", "expected_codes": "200"}[field]
    response = post(client, pool_id, type="TCP", **{field: value})
    assert response.status_code == 400
    assert fault(response) == f"{field} is not a valid option for health monitors of type TCP"
    assert monitor_rows(services) == []


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        (
            {"type": "BOGUS"},
            "Value should be one of: HTTP, HTTPS, PING, TCP, TLS-HELLO, UDP-CONNECT, SCTP",
        ),
        (
            {"delay": -1},
            "Invalid input for field/attribute delay. Value: '-1'. "
            "Value should be greater or equal to 0",
        ),
        ({"timeout": -1}, "Value should be greater or equal to 0"),
        ({"max_retries": 0}, "Value should be greater or equal to 1"),
        ({"max_retries": 11}, "Value should be lower or equal to 10"),
        ({"max_retries_down": 11}, "Value should be lower or equal to 10"),
        ({"max_retries_down": 0}, "Value should be greater or equal to 1"),
        ({"http_method": "FETCH"}, "Invalid input for field/attribute http_method"),
        ({"expected_codes": "2xx"}, "Value should match the pattern"),
        ({"expected_codes": "200-"}, "Value should match the pattern"),
        ({"url_path": "health"}, "Value must be a valid URL Path string"),
        ({"url_path": "http://host/health"}, "Value must be a valid URL Path string"),
        ({"url_path": "//host/health"}, "Value must be a valid URL Path string"),
        ({"url_path": "/a b"}, "Value must be a valid URL Path string"),
        ({"http_version": 2.0}, "Value should be one of: 1.0, 1.1"),
        ({"domain_name": "-bad-.com", "http_version": 1.1}, "Value should match the pattern"),
        (
            {"domain_name": "example.com"},
            "Validation failure: 'http_version' must be specified when 'domain_name' is provided.",
        ),
        (
            {"domain_name": "example.com", "http_version": 1.0},
            "http_version 1.0 is not a valid option for health monitors HTTP 1.1 domain name "
            "health check",
        ),
        ({"pool_id": "nope"}, "Value should be UUID format"),
        ({"bogus": 1}, "Unknown attribute for argument healthmonitor_.healthmonitor: bogus"),
        (
            {"type": "UDP-CONNECT"},
            "Validation failure: The UDP-CONNECT type is only supported for pools of type "
            "UDP/SCTP.",
        ),
        (
            {"type": "SCTP"},
            "Validation failure: The SCTP type is only supported for pools of type UDP/SCTP.",
        ),
    ],
)
def test_create_rejects_invalid_input(
    client: TestClient, services: Services, pool_id: str, fields: dict[str, Any], text: str
) -> None:
    response = post(client, pool_id, **fields)
    assert response.status_code == 400
    assert text in fault(response)
    assert monitor_rows(services) == []
    assert statuses(services, Pool) == ["ACTIVE"]
    assert statuses(services, LoadBalancer) == ["ACTIVE"]


@pytest.mark.parametrize("field", ["pool_id", "type", "delay", "timeout", "max_retries"])
def test_mandatory_fields(client: TestClient, pool_id: str, field: str) -> None:
    body = {"pool_id": pool_id, "type": "TCP", "delay": 5, "timeout": 3, "max_retries": 2}
    del body[field]
    response = client.post(URL, json={"healthmonitor": body}, headers=P1)
    assert response.status_code == 400
    assert fault(response) == (
        f"Invalid input for field/attribute {field}. Value: 'Unset'. Mandatory field missing."
    )


@pytest.mark.parametrize("codes", ["200", "200,202", "200, 202 ,204", "200-299"])
def test_expected_codes_forms(client: TestClient, pool_id: str, codes: str) -> None:
    assert create(client, pool_id, expected_codes=codes)["expected_codes"] == codes


@pytest.mark.parametrize(
    ("protocol", "hm_type", "delay"),
    [
        ("UDP", "UDP-CONNECT", 3),
        ("UDP", "TCP", 1),
        ("UDP", "HTTP", 1),
        ("UDP", "SCTP", 1),
        ("SCTP", "SCTP", 1),
        ("SCTP", "UDP-CONNECT", 5),
    ],
)
def test_datagram_pools_accept_their_types(
    client: TestClient,
    services: Services,
    loadbalancer_id: str,
    protocol: str,
    hm_type: str,
    delay: int,
) -> None:
    pool_id = create_pool(client, services, loadbalancer_id, protocol)
    monitor = create(client, pool_id, type=hm_type, delay=delay)
    assert monitor["type"] == hm_type
    assert (monitor["http_method"] == "GET") is (hm_type == "HTTP")


@pytest.mark.parametrize("hm_type", ["PING", "HTTPS", "TLS-HELLO"])
def test_datagram_pools_reject_other_types(
    client: TestClient, services: Services, loadbalancer_id: str, hm_type: str
) -> None:
    pool_id = create_pool(client, services, loadbalancer_id, "UDP")
    response = post(client, pool_id, type=hm_type)
    assert response.status_code == 400
    assert fault(response) == (
        "Validation failure: The associated pool protocol is UDP, so "
        "only a UDP-CONNECT/SCTP/TCP/HTTP health monitor is supported."
    )


def test_udp_connect_has_a_minimum_delay(
    client: TestClient, services: Services, loadbalancer_id: str
) -> None:
    pool_id = create_pool(client, services, loadbalancer_id, "UDP")
    response = post(client, pool_id, type="UDP-CONNECT", delay=1)
    assert response.status_code == 400
    assert fault(response) == (
        "Validation failure: The request delay value 1 should be larger "
        "than 3 for UDP-CONNECT health monitor type."
    )


def test_timeout_above_delay_is_accepted(client: TestClient, pool_id: str) -> None:
    assert create(client, pool_id, delay=1, timeout=10)["timeout"] == 10


def test_one_monitor_per_pool(client: TestClient, services: Services, pool_id: str) -> None:
    create(client, pool_id)
    converge(services)
    response = post(client, pool_id, type="TCP")
    assert response.status_code == 409
    assert fault(response) == "This pool already has a health monitor"
    assert len(monitor_rows(services)) == 1
    assert statuses(services, Pool) == ["ACTIVE"]


def test_create_marks_the_tree_then_worker_settles(
    client: TestClient, services: Services, loadbalancer_id: str, pool_id: str
) -> None:
    body = {
        "loadbalancer_id": loadbalancer_id,
        "protocol": "HTTP",
        "protocol_port": 80,
        "default_pool_id": pool_id,
    }
    response = client.post("/v2/lbaas/listeners", json={"listener": body}, headers=P1)
    assert response.status_code == 201, response.text
    converge(services)
    create(client, pool_id)
    assert statuses(services, Pool) == ["PENDING_UPDATE"]
    assert statuses(services, Listener) == ["PENDING_UPDATE"]
    assert statuses(services, LoadBalancer) == ["PENDING_UPDATE"]
    converge(services)
    assert statuses(services, HealthMonitor) == ["ACTIVE"]
    assert statuses(services, Pool) == ["ACTIVE"]


def test_create_on_a_busy_pool_or_loadbalancer_is_a_conflict(
    client: TestClient, services: Services, loadbalancer_id: str, pool_id: str
) -> None:
    with transaction(services.sessions) as session:
        session.get(Pool, pool_id).provisioning_status = "PENDING_UPDATE"  # type: ignore[union-attr]
    response = post(client, pool_id)
    assert response.status_code == 409
    assert fault(response) == f"Pool {pool_id} is immutable and cannot be updated."
    with transaction(services.sessions) as session:
        session.get(Pool, pool_id).provisioning_status = "ACTIVE"  # type: ignore[union-attr]
        session.get(LoadBalancer, loadbalancer_id).provisioning_status = "ERROR"  # type: ignore[union-attr]
    response = post(client, pool_id)
    assert response.status_code == 409
    assert fault(response) == (
        f"Load Balancer {loadbalancer_id} is immutable and cannot be updated."
    )
    assert monitor_rows(services) == []


def test_unknown_pool_is_404(client: TestClient) -> None:
    missing = str(uuid.uuid4())
    response = post(client, missing)
    assert response.status_code == 404
    assert fault(response) == f"Pool {missing} not found."


def test_monitor_quota(
    client: TestClient, services: Services, loadbalancer_id: str, pool_id: str
) -> None:
    with transaction(services.sessions) as session:
        session.merge(Quota(project_id="p1", healthmonitor=1))
    create(client, pool_id)
    converge(services)
    response = post(client, create_pool(client, services, loadbalancer_id))
    assert response.status_code == 403
    assert fault(response) == "Quota has been met for resources: Health Monitor"


def test_members_created_after_a_monitor_start_offline(
    client: TestClient, services: Services, pool_id: str
) -> None:
    members = f"/v2/lbaas/pools/{pool_id}/members"
    body = {"member": {"address": "10.0.0.5", "protocol_port": 80}}
    monitor = create(client, pool_id)
    converge(services)
    assert client.post(members, json=body, headers=P1).json()["member"]["operating_status"] == (
        "OFFLINE"
    )
    converge(services)
    assert client.delete(f"{URL}/{monitor['id']}", headers=P1).status_code == 204
    converge(services)
    body["member"]["protocol_port"] = 81
    assert client.post(members, json=body, headers=P1).json()["member"]["operating_status"] == (
        "NO_MONITOR"
    )


# --- show, RBAC ----------------------------------------------------------------------------


def test_show_and_fields(client: TestClient, pool_id: str) -> None:
    monitor = create(client, pool_id, name="hm")
    response = client.get(f"{URL}/{monitor['id']}", params={"pool_id": pool_id}, headers=P1)
    assert response.status_code == 200
    assert response.json()["healthmonitor"] == monitor
    response = client.get(f"{URL}/{monitor['id']}?fields=name&fields=pools", headers=P1)
    assert response.json() == {"healthmonitor": {"name": "hm", "pools": [{"id": pool_id}]}}


def test_unknown_monitor_is_404(client: TestClient) -> None:
    missing = str(uuid.uuid4())
    for response in (
        client.get(f"{URL}/{missing}", headers=P1),
        put(client, missing, name="x"),
        client.delete(f"{URL}/{missing}", headers=P1),
    ):
        assert response.status_code == 404
        assert fault(response) == f"Health Monitor {missing} not found."


def test_other_projects_get_403(client: TestClient, services: Services, pool_id: str) -> None:
    monitor = create(client, pool_id)
    converge(services)
    for response in (
        client.get(f"{URL}/{monitor['id']}", headers=P2),
        put(client, monitor["id"], headers=P2, name="x"),
        client.delete(f"{URL}/{monitor['id']}", headers=P2),
        client.get(f"{URL}?project_id=p1", headers=P2),
    ):
        assert response.status_code == 403
        assert fault(response) == "Policy does not allow this request to be performed."
    assert client.get(URL, headers=P2).json()["healthmonitors"] == []
    assert statuses(services, HealthMonitor) == ["ACTIVE"]


def test_create_on_another_projects_pool_is_403(
    client: TestClient, services: Services, pool_id: str
) -> None:
    response = post(client, pool_id, headers=P2)
    assert response.status_code == 403
    assert monitor_rows(services) == []


def test_readers_read_but_do_not_write(
    client: TestClient, services: Services, pool_id: str
) -> None:
    assert post(client, pool_id, headers=READER).status_code == 403
    monitor = create(client, pool_id)
    converge(services)
    assert client.get(f"{URL}/{monitor['id']}", headers=READER).status_code == 200
    assert len(client.get(URL, headers=READER).json()["healthmonitors"]) == 1
    assert put(client, monitor["id"], headers=READER, name="x").status_code == 403
    assert client.delete(f"{URL}/{monitor['id']}", headers=READER).status_code == 403


def test_admin_and_global_observer_see_every_project(
    client: TestClient, services: Services, pool_id: str
) -> None:
    create(client, pool_id)
    other_pool = create_pool(
        client, services, create_loadbalancer(client, services, P2), headers=P2
    )
    response = post(client, other_pool, headers=P2)
    assert response.status_code == 201
    assert len(client.get(URL, headers=ADMIN).json()["healthmonitors"]) == 2
    observer = as_project("x", "load-balancer_global_observer")
    assert len(client.get(URL, headers=observer).json()["healthmonitors"]) == 2
    assert len(client.get(f"{URL}?project_id=p2", headers=ADMIN).json()["healthmonitors"]) == 1
    assert len(client.get(URL, headers=P1).json()["healthmonitors"]) == 1


# --- update and delete -------------------------------------------------------------------


@pytest.fixture
def monitor(client: TestClient, services: Services, pool_id: str) -> dict[str, Any]:
    result = create(
        client,
        pool_id,
        http_method="POST",
        url_path="/x",
        expected_codes="202",
        max_retries_down=5,
        tags=["a"],
    )
    converge(services)
    return result


def test_update_changes_fields_and_marks_the_tree(
    client: TestClient, services: Services, monitor: dict[str, Any]
) -> None:
    response = put(
        client,
        monitor["id"],
        name="hm",
        delay=9,
        timeout=8,
        max_retries=7,
        max_retries_down=6,
        http_method="PATCH",
        url_path="/y",
        expected_codes="200-209",
        http_version=1.1,
        domain_name="a.example",
        admin_state_up=False,
        tags=["b"],
    )
    assert response.status_code == 200
    updated = response.json()["healthmonitor"]
    assert updated["provisioning_status"] == "PENDING_UPDATE"
    assert (
        updated["delay"],
        updated["timeout"],
        updated["max_retries"],
        updated["max_retries_down"],
    ) == (9, 8, 7, 6)
    assert (updated["http_method"], updated["url_path"], updated["expected_codes"]) == (
        "PATCH",
        "/y",
        "200-209",
    )
    assert (updated["http_version"], updated["domain_name"]) == (1.1, "a.example")
    assert updated["admin_state_up"] is False
    assert updated["tags"] == ["b"]
    assert updated["updated_at"] is not None
    assert statuses(services, Pool) == ["PENDING_UPDATE"]
    assert statuses(services, LoadBalancer) == ["PENDING_UPDATE"]
    converge(services)
    assert statuses(services, HealthMonitor) == ["ACTIVE"]


def test_update_nulls_reset_to_defaults(client: TestClient, monitor: dict[str, Any]) -> None:
    response = put(
        client,
        monitor["id"],
        http_method=None,
        url_path=None,
        expected_codes=None,
        max_retries_down=None,
        name=None,
        tags=None,
        admin_state_up=None,
    )
    updated = response.json()["healthmonitor"]
    assert (updated["http_method"], updated["url_path"], updated["expected_codes"]) == (
        "GET",
        "/",
        "200",
    )
    assert updated["max_retries_down"] == 3
    assert updated["name"] == ""
    assert updated["tags"] == ["a"]
    assert updated["admin_state_up"] is False


@pytest.mark.parametrize("field", ["delay", "timeout", "max_retries"])
def test_update_rejects_null_timing(
    client: TestClient, services: Services, monitor: dict[str, Any], field: str
) -> None:
    response = put(client, monitor["id"], **{field: None})
    assert response.status_code == 400
    assert fault(response) == f"None is not a valid option for {field}"
    assert statuses(services, HealthMonitor) == ["ACTIVE"]


@pytest.mark.parametrize("field", ["type", "pool_id", "project_id"])
def test_update_rejects_immutable_fields(
    client: TestClient, monitor: dict[str, Any], field: str
) -> None:
    response = put(client, monitor["id"], **{field: "TCP"})
    assert response.status_code == 400
    assert (
        fault(response) == f"Unknown attribute for argument healthmonitor_.healthmonitor: {field}"
    )


def test_update_of_tcp_monitor_rejects_http_fields(
    client: TestClient, services: Services, pool_id: str
) -> None:
    monitor = create(client, pool_id, type="TCP")
    converge(services)
    for field in ("http_method", "url_path", "expected_codes"):
        response = put(client, monitor["id"], **{field: None})
        assert response.status_code == 400
        assert fault(response) == f"{field} is not a valid option for health monitors of type TCP"
    assert put(client, monitor["id"], delay=1).status_code == 200


def test_update_checks_domain_name_against_http_version(
    client: TestClient, services: Services, monitor: dict[str, Any]
) -> None:
    response = put(client, monitor["id"], domain_name="a.example")
    assert response.status_code == 400
    assert "'http_version' must be specified" in fault(response)
    response = put(client, monitor["id"], domain_name="a.example", http_version=1.0)
    assert response.status_code == 400
    assert fault(response) == (
        "http_version 1.0 is not a valid option for health monitors "
        "HTTP 1.1 domain name health check"
    )
    assert put(client, monitor["id"], http_version=1.1).status_code == 200
    converge(services)
    assert put(client, monitor["id"], domain_name="a.example").status_code == 200


def test_update_keeps_the_udp_connect_minimum(
    client: TestClient, services: Services, loadbalancer_id: str
) -> None:
    pool_id = create_pool(client, services, loadbalancer_id, "UDP")
    monitor = create(client, pool_id, type="UDP-CONNECT", delay=5)
    converge(services)
    response = put(client, monitor["id"], delay=2)
    assert response.status_code == 400
    assert "The request delay value 2 should be larger than 3" in fault(response)


def test_update_while_pending_is_a_conflict(client: TestClient, pool_id: str) -> None:
    monitor = create(client, pool_id)
    response = put(client, monitor["id"], name="x")
    assert response.status_code == 409
    assert fault(response) == f"Pool {pool_id} is immutable and cannot be updated."


def test_delete_marks_then_worker_removes(
    client: TestClient, services: Services, monitor: dict[str, Any]
) -> None:
    response = client.delete(f"{URL}/{monitor['id']}", headers=P1)
    assert response.status_code == 204
    assert response.content == b""
    assert statuses(services, HealthMonitor) == ["PENDING_DELETE"]
    assert statuses(services, Pool) == ["PENDING_UPDATE"]
    assert client.delete(f"{URL}/{monitor['id']}", headers=P1).status_code == 409
    converge(services)
    assert client.get(f"{URL}/{monitor['id']}", headers=P1).status_code == 404


# --- list --------------------------------------------------------------------------------


@pytest.fixture
def three_monitors(
    client: TestClient, services: Services, loadbalancer_id: str
) -> list[dict[str, Any]]:
    monitors = []
    for index, (hm_type, tags) in enumerate((("HTTP", ["x"]), ("TCP", ["x", "y"]), ("PING", []))):
        pool_id = create_pool(client, services, loadbalancer_id)
        monitors.append(
            create(client, pool_id, name=f"hm{index}", type=hm_type, tags=tags, delay=index + 1)
        )
        converge(services)
    return monitors


def names(response: Any) -> list[str]:
    return [item["name"] for item in response.json()["healthmonitors"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["hm0", "hm1", "hm2"]),
        ("name=hm1", ["hm1"]),
        ("type=PING", ["hm2"]),
        ("delay=1", ["hm0"]),
        ("admin_state_up=true&provisioning_status=ACTIVE", ["hm0", "hm1", "hm2"]),
        ("http_method=GET", ["hm0"]),
        ("tags=x", ["hm0", "hm1"]),
        ("tags-any=y", ["hm1"]),
        ("not-tags=x", ["hm2"]),
        ("not-tags-any=x", ["hm2"]),
        ("sort=name:desc", ["hm2", "hm1", "hm0"]),
        ("sort_key=delay&sort_dir=desc", ["hm2", "hm1", "hm0"]),
    ],
)
def test_list_filters_and_sorts(
    client: TestClient, three_monitors: list[dict[str, Any]], query: str, expected: list[str]
) -> None:
    response = client.get(f"{URL}?{query}", headers=P1)
    assert response.status_code == 200, response.text
    assert names(response) == expected


def test_list_by_id_and_pool_id(client: TestClient, three_monitors: list[dict[str, Any]]) -> None:
    second = three_monitors[1]
    assert names(client.get(URL, params={"id": second["id"]}, headers=P1)) == ["hm1"]
    pool_id = second["pools"][0]["id"]
    assert names(client.get(URL, params={"pool_id": pool_id}, headers=P1)) == ["hm1"]


def test_list_rejects_unknown_filters(client: TestClient) -> None:
    response = client.get(f"{URL}?bogus=1", headers=P1)
    assert response.status_code == 400
    assert fault(response) == "One or more arguments are either duplicate or invalid"
    assert client.get(f"{URL}?http_version=abc", headers=P1).status_code == 400


def test_list_pages_and_selects_fields(
    client: TestClient, three_monitors: list[dict[str, Any]]
) -> None:
    first = client.get(f"{URL}?limit=2&fields=name", headers=P1).json()
    assert first["healthmonitors"] == [{"name": "hm0"}, {"name": "hm1"}]
    (link,) = first["healthmonitors_links"]
    assert link["rel"] == "next"
    marker = three_monitors[1]["id"]
    second = client.get(f"{URL}?limit=2&marker={marker}", headers=P1).json()
    assert names_of(second) == ["hm2"]


def names_of(body: dict[str, Any]) -> list[str]:
    return [item["name"] for item in body["healthmonitors"]]


# --- the function the single-call create reuses ------------------------------------------


def test_validate_values_fills_defaults_and_clears_http_fields() -> None:
    settings = Settings()
    http = validate_healthmonitor_values({"type": "HTTP", "delay": 1}, "HTTP", settings)
    assert (http["http_method"], http["url_path"], http["expected_codes"]) == ("GET", "/", "200")
    tcp = validate_healthmonitor_values({"type": "TCP", "delay": 1}, "TCP", settings)
    assert tcp["http_method"] is None and tcp["url_path"] is None
    with pytest.raises(InvalidInput, match="only a UDP-CONNECT/SCTP/TCP/HTTP"):
        validate_healthmonitor_values({"type": "PING", "delay": 1}, "SCTP", settings)
