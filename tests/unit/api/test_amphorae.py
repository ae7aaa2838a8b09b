"""`/v2/octavia/amphorae` against the in-process app (spec §4.13, §3.3, §5).

Amphora rows are the worker's; here they are inserted directly beside load balancers created
through the API.
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from pier.api.network.bootstrap import ensure_public_network
from pier.api.services import Services
from pier.db.engine import transaction
from pier.db.tables import Amphora, ListenerStatistics, LoadBalancer
from pier.queue.memory import MemoryQueue
from pier.settings import Settings
from tests.support.app import api_client, as_project, converge, make_services

URL = "/v2/octavia/amphorae"
MEMBER, READER = as_project("p1"), as_project("p1", "reader")
ADMIN = as_project("admin-project", "admin")
FORBIDDEN = "Policy does not allow this request to be performed."
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path, settings=Settings(accept_any_subnet=True))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with api_client(services) as client:
        yield client


def expect_error(response: Any, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"faultcode": "Client", "faultstring": message, "debuginfo": None}


def make_loadbalancer(client: TestClient, services: Services, project: str = "p1") -> str:
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}}
    response = client.post("/v2/lbaas/loadbalancers", json=body, headers=as_project(project))
    assert response.status_code == 201, response.text
    converge(services)
    loadbalancer_id: str = response.json()["loadbalancer"]["id"]
    # The worker gave it an amphora; these tests place their own rows, so retire that one.
    with transaction(services.sessions) as session:
        for amphora in session.scalars(
            select(Amphora).where(Amphora.loadbalancer_id == loadbalancer_id)
        ):
            amphora.status = "DELETED"
    return loadbalancer_id


def add_amphora(services: Services, loadbalancer_id: str | None, **fields: Any) -> str:
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "loadbalancer_id": loadbalancer_id,
        "compute_id": str(uuid.uuid4()),
        "status": "ALLOCATED",
        "role": "STANDALONE",
        "lb_network_ip": "192.0.2.10",
        "created_at": CREATED,
        "updated_at": CREATED,
        **fields,
    }
    with transaction(services.sessions) as session:
        session.add(Amphora(**values))
    return str(values["id"])


def amphora_status(services: Services, amphora_id: str) -> str:
    with transaction(services.sessions, write=False) as session:
        row = session.get(Amphora, amphora_id)
        assert row is not None
        return row.status


def loadbalancer_status(services: Services, loadbalancer_id: str) -> str:
    with transaction(services.sessions, write=False) as session:
        row = session.get(LoadBalancer, loadbalancer_id)
        assert row is not None
        return row.provisioning_status


def queued(services: Services) -> list[str]:
    queue = services.queue
    assert isinstance(queue, MemoryQueue)
    found = []
    while (loadbalancer_id := queue.get(timeout=0)) is not None:
        found.append(loadbalancer_id)
    return found


# --- list and show ----------------------------------------------------------------------------


def test_show_has_every_field(client: TestClient, services: Services) -> None:
    loadbalancer_id = make_loadbalancer(client, services)
    expiry = datetime(2026, 2, 1, 0, 0, 0, tzinfo=UTC)
    amphora_id = add_amphora(
        services,
        loadbalancer_id,
        vrrp_ip="10.0.0.5",
        ha_ip="10.0.0.4",
        vrrp_port_id="f0f0f0f0-0000-0000-0000-000000000001",
        ha_port_id="f0f0f0f0-0000-0000-0000-000000000002",
        cert_expiration=expiry,
        cert_busy=True,
        role="MASTER",
        vrrp_interface="eth1",
        vrrp_id=1,
        vrrp_priority=100,
        cached_zone="nova",
        image_id="f0f0f0f0-0000-0000-0000-000000000003",
        compute_flavor="m1",
        updated_at=None,
    )
    response = client.get(f"{URL}/{amphora_id}", headers=ADMIN)
    assert response.status_code == 200
    amphora = response.json()["amphora"]
    assert amphora == {
        "id": amphora_id,
        "loadbalancer_id": loadbalancer_id,
        "compute_id": amphora["compute_id"],
        "lb_network_ip": "192.0.2.10",
        "vrrp_ip": "10.0.0.5",
        "ha_ip": "10.0.0.4",
        "vrrp_port_id": "f0f0f0f0-0000-0000-0000-000000000001",
        "ha_port_id": "f0f0f0f0-0000-0000-0000-000000000002",
        "cert_expiration": "2026-02-01T00:00:00",
        "cert_busy": True,
        "role": "MASTER",
        "status": "ALLOCATED",
        "vrrp_interface": "eth1",
        "vrrp_id": 1,
        "vrrp_priority": 100,
        "cached_zone": "nova",
        "created_at": "2026-01-02T03:04:05",
        "updated_at": None,
        "image_id": "f0f0f0f0-0000-0000-0000-000000000003",
        "compute_flavor": "m1",
    }
    shown = client.get(f"{URL}/{amphora_id}?fields=id&fields=status", headers=ADMIN).json()
    assert shown == {"amphora": {"id": amphora_id, "status": "ALLOCATED"}}
    assert client.get(f"/v2.0/octavia/amphorae/{amphora_id}", headers=ADMIN).status_code == 200


def test_show_unknown_or_deleted_is_404(client: TestClient, services: Services) -> None:
    missing = str(uuid.uuid4())
    expect_error(
        client.get(f"{URL}/{missing}", headers=ADMIN), 404, f"Amphora {missing} not found."
    )
    gone = add_amphora(services, None, status="DELETED")
    expect_error(client.get(f"{URL}/{gone}", headers=ADMIN), 404, f"Amphora {gone} not found.")


def test_list_hides_deleted_and_filters(client: TestClient, services: Services) -> None:
    first = make_loadbalancer(client, services, "p1")
    second = make_loadbalancer(client, services, "p2")
    master = add_amphora(services, first, role="MASTER", image_id="img-1")
    backup = add_amphora(services, first, role="BACKUP", status="BOOTING")
    other = add_amphora(services, second, compute_id="compute-x")
    spare = add_amphora(services, None, role=None, status="READY")
    add_amphora(services, first, status="DELETED")

    def ids(query: str = "") -> set[str]:
        response = client.get(f"{URL}{query}", headers=ADMIN)
        assert response.status_code == 200, response.text
        return {amphora["id"] for amphora in response.json()["amphorae"]}

    assert ids() == {master, backup, other, spare}
    assert ids(f"?loadbalancer_id={first}") == {master, backup}
    assert ids("?status=BOOTING") == {backup}
    assert ids("?role=MASTER") == {master}
    assert ids("?compute_id=compute-x") == {other}
    assert ids("?image_id=img-1") == {master}
    assert ids("?project_id=p2") == {other}
    assert ids(f"?project_id=p1&role=BACKUP&loadbalancer_id={first}") == {backup}
    assert ids(f"?id={spare}") == {spare}
    assert ids("?status=DELETED") == set()
    expect_error(
        client.get(f"{URL}?bogus=1", headers=ADMIN),
        400,
        "One or more arguments are either duplicate or invalid",
    )


def test_list_sort_fields_pagination(client: TestClient, services: Services) -> None:
    loadbalancer_id = make_loadbalancer(client, services)
    made = [
        add_amphora(services, loadbalancer_id, vrrp_priority=priority) for priority in (90, 100, 95)
    ]
    listed = client.get(f"{URL}?sort=vrrp_priority:desc&fields=vrrp_priority", headers=ADMIN).json()
    assert listed == {
        "amphorae": [{"vrrp_priority": 100}, {"vrrp_priority": 95}, {"vrrp_priority": 90}],
        "amphorae_links": [],
    }
    page = client.get(f"{URL}?limit=2", headers=ADMIN).json()
    assert len(page["amphorae"]) == 2
    assert page["amphorae_links"][0]["rel"] == "next"
    rest = client.get(page["amphorae_links"][0]["href"], headers=ADMIN).json()
    seen = {a["id"] for a in page["amphorae"]} | {a["id"] for a in rest["amphorae"]}
    assert seen == set(made)


# --- RBAC -------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [MEMBER, READER, as_project("p1", "load-balancer_member")])
def test_everything_is_admin_only(
    client: TestClient, services: Services, headers: dict[str, str]
) -> None:
    loadbalancer_id = make_loadbalancer(client, services)
    amphora_id = add_amphora(services, loadbalancer_id, status="ERROR")
    item = f"{URL}/{amphora_id}"
    for response in (
        client.get(URL, headers=headers),
        client.get(item, headers=headers),
        client.get(f"{item}/stats", headers=headers),
        client.put(f"{item}/failover", headers=headers),
        client.put(f"{item}/config", headers=headers),
        client.delete(item, headers=headers),
    ):
        expect_error(response, 403, FORBIDDEN)
    assert amphora_status(services, amphora_id) == "ERROR"
    assert loadbalancer_status(services, loadbalancer_id) == "ACTIVE"
    assert queued(services) == []


def test_legacy_admin_role_is_admin(client: TestClient, services: Services) -> None:
    add_amphora(services, make_loadbalancer(client, services))
    response = client.get(URL, headers=as_project("p1", "load-balancer_admin"))
    assert response.status_code == 200 and len(response.json()["amphorae"]) == 1


# --- failover ---------------------------------------------------------------------------------


def test_failover_marks_amphora_and_loadbalancer(client: TestClient, services: Services) -> None:
    loadbalancer_id = make_loadbalancer(client, services)
    amphora_id = add_amphora(services, loadbalancer_id)
    sibling = add_amphora(services, loadbalancer_id, role="BACKUP")
    response = client.put(f"{URL}/{amphora_id}/failover", headers=ADMIN)
    assert response.status_code == 202 and response.content == b""
    assert loadbalancer_status(services, loadbalancer_id) == "PENDING_UPDATE"
    assert amphora_status(services, amphora_id) == "PENDING_DELETE"
    assert amphora_status(services, sibling) == "ALLOCATED"
    assert queued(services) == [loadbalancer_id]


def test_failover_needs_an_active_loadbalancer(client: TestClient, services: Services) -> None:
    loadbalancer_id = make_loadbalancer(client, services)
    amphora_id = add_amphora(services, loadbalancer_id)
    assert (
        client.put(
            f"/v2/lbaas/loadbalancers/{loadbalancer_id}",
            json={"loadbalancer": {"name": "busy"}},
            headers=MEMBER,
        ).status_code
        == 200
    )
    queued(services)
    expect_error(
        client.put(f"{URL}/{amphora_id}/failover", headers=ADMIN),
        409,
        f"Load Balancer {loadbalancer_id} is immutable and cannot be updated.",
    )
    assert amphora_status(services, amphora_id) == "ALLOCATED"
    assert loadbalancer_status(services, loadbalancer_id) == "PENDING_UPDATE"
    assert queued(services) == []


def test_failover_of_unknown_or_unattached_amphora(client: TestClient, services: Services) -> None:
    missing = str(uuid.uuid4())
    expect_error(
        client.put(f"{URL}/{missing}/failover", headers=ADMIN), 404, f"Amphora {missing} not found."
    )
    spare = add_amphora(services, None, status="READY")
    expect_error(
        client.put(f"{URL}/{spare}/failover", headers=ADMIN),
        409,
        f"amphora {spare} is immutable and cannot be updated.",
    )
    assert amphora_status(services, spare) == "READY"


# --- config -----------------------------------------------------------------------------------


def test_config_enqueues_the_loadbalancer_and_changes_nothing(
    client: TestClient, services: Services
) -> None:
    loadbalancer_id = make_loadbalancer(client, services)
    amphora_id = add_amphora(services, loadbalancer_id)
    response = client.put(f"{URL}/{amphora_id}/config", headers=ADMIN)
    assert response.status_code == 202 and response.content == b""
    assert queued(services) == [loadbalancer_id]
    assert amphora_status(services, amphora_id) == "ALLOCATED"
    assert loadbalancer_status(services, loadbalancer_id) == "ACTIVE"
    missing = str(uuid.uuid4())
    expect_error(
        client.put(f"{URL}/{missing}/config", headers=ADMIN), 404, f"Amphora {missing} not found."
    )


# --- stats ------------------------------------------------------------------------------------


def test_stats_one_row_per_listener(client: TestClient, services: Services) -> None:
    loadbalancer_id = make_loadbalancer(client, services)
    amphora_id = add_amphora(services, loadbalancer_id)
    other = add_amphora(services, loadbalancer_id, role="BACKUP")
    listeners = sorted(str(uuid.uuid4()) for _ in range(2))
    with transaction(services.sessions) as session:
        session.add(
            ListenerStatistics(
                listener_id=listeners[0],
                amphora_id=amphora_id,
                bytes_in=10,
                bytes_out=20,
                active_connections=1,
                total_connections=5,
                request_errors=2,
            )
        )
        session.add(
            ListenerStatistics(
                listener_id=listeners[1],
                amphora_id=amphora_id,
                bytes_in=1,
                bytes_out=2,
                active_connections=3,
                total_connections=4,
                request_errors=0,
            )
        )
        session.add(ListenerStatistics(listener_id=listeners[0], amphora_id=other, bytes_in=99))
    response = client.get(f"{URL}/{amphora_id}/stats", headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {
        "amphora_stats": [
            {
                "id": amphora_id,
                "loadbalancer_id": loadbalancer_id,
                "listener_id": listeners[0],
                "active_connections": 1,
                "bytes_in": 10,
                "bytes_out": 20,
                "request_errors": 2,
                "total_connections": 5,
            },
            {
                "id": amphora_id,
                "loadbalancer_id": loadbalancer_id,
                "listener_id": listeners[1],
                "active_connections": 3,
                "bytes_in": 1,
                "bytes_out": 2,
                "request_errors": 0,
                "total_connections": 4,
            },
        ]
    }


def test_stats_without_rows_is_404(client: TestClient, services: Services) -> None:
    amphora_id = add_amphora(services, make_loadbalancer(client, services))
    expect_error(
        client.get(f"{URL}/{amphora_id}/stats", headers=ADMIN),
        404,
        f"Amphora stats for {amphora_id} not found.",
    )


# --- delete -----------------------------------------------------------------------------------


def test_delete_only_in_error(client: TestClient, services: Services) -> None:
    loadbalancer_id = make_loadbalancer(client, services)
    healthy = add_amphora(services, loadbalancer_id)
    expect_error(
        client.delete(f"{URL}/{healthy}", headers=ADMIN),
        409,
        f"amphora {healthy} is immutable and cannot be updated.",
    )
    assert amphora_status(services, healthy) == "ALLOCATED"
    assert queued(services) == []
    broken = add_amphora(services, loadbalancer_id, status="ERROR")
    response = client.delete(f"{URL}/{broken}", headers=ADMIN)
    assert response.status_code == 204 and response.content == b""
    assert amphora_status(services, broken) == "PENDING_DELETE"
    assert loadbalancer_status(services, loadbalancer_id) == "ACTIVE"
    assert queued(services) == [loadbalancer_id]
    expect_error(
        client.delete(f"{URL}/{broken}", headers=ADMIN),
        409,
        f"amphora {broken} is immutable and cannot be updated.",
    )


def test_delete_spare_enqueues_nothing(client: TestClient, services: Services) -> None:
    spare = add_amphora(services, None, status="ERROR", role=None)
    assert client.delete(f"{URL}/{spare}", headers=ADMIN).status_code == 204
    assert amphora_status(services, spare) == "PENDING_DELETE"
    assert queued(services) == []


def test_delete_unknown_or_deleted_is_404(client: TestClient, services: Services) -> None:
    missing = str(uuid.uuid4())
    expect_error(
        client.delete(f"{URL}/{missing}", headers=ADMIN), 404, f"Amphora {missing} not found."
    )
    gone = add_amphora(services, None, status="DELETED")
    expect_error(client.delete(f"{URL}/{gone}", headers=ADMIN), 404, f"Amphora {gone} not found.")


def test_a_noop_vip_amphora_has_uuid_compute_and_vrrp_port(
    client: TestClient, services: Services
) -> None:
    response = client.post(
        "/v2/lbaas/loadbalancers",
        json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}},
        headers=MEMBER,
    )
    loadbalancer_id = response.json()["loadbalancer"]["id"]
    converge(services)

    [amphora] = client.get(URL, params={"loadbalancer_id": loadbalancer_id}, headers=ADMIN).json()[
        "amphorae"
    ]
    for field in ("compute_id", "vrrp_port_id", "ha_port_id"):
        assert str(uuid.UUID(amphora[field])) == amphora[field]
    assert amphora["vrrp_ip"] == "198.51.100.1"  # Octavia's noop network driver's


def test_the_vrrp_port_is_a_real_port_on_the_vip_network_until_the_amphora_goes(
    tmp_path: Path,
) -> None:
    services = make_services(tmp_path)
    ensure_public_network(services.sessions, services.settings)
    with api_client(services) as client:
        [subnet] = client.get("/v2.0/subnets", headers=ADMIN).json()["subnets"]
        response = client.post(
            "/v2/lbaas/loadbalancers",
            json={"loadbalancer": {"vip_subnet_id": subnet["id"]}},
            headers=MEMBER,
        )
        loadbalancer_id = response.json()["loadbalancer"]["id"]
        converge(services)
        [amphora] = client.get(URL, headers=ADMIN).json()["amphorae"]

        [port] = client.get(
            "/v2.0/ports", params={"device_id": amphora["id"]}, headers=ADMIN
        ).json()["ports"]
        assert port["id"] == amphora["vrrp_port_id"]
        assert port["name"] == f"octavia-lb-vrrp-{amphora['id']}"
        assert port["network_id"] == subnet["network_id"]
        assert port["fixed_ips"][0]["ip_address"] == amphora["vrrp_ip"] != amphora["ha_ip"]

        client.delete(f"/v2/lbaas/loadbalancers/{loadbalancer_id}", headers=MEMBER)
        converge(services)
        ports = client.get("/v2.0/ports", params={"device_id": amphora["id"]}, headers=ADMIN)
        assert ports.json()["ports"] == []
