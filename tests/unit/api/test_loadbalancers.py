"""`/v2/lbaas/loadbalancers` against the in-process app (spec §4.1, §3)."""

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

URL = "/v2/lbaas/loadbalancers"
P1, P2 = as_project("p1"), as_project("p2")
ADMIN = as_project("admin-project", "admin")


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path, settings=Settings(accept_any_subnet=True))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with api_client(services) as client:
        yield client


def create(client: TestClient, headers: dict[str, str] = P1, **fields: Any) -> dict[str, Any]:
    body = {"vip_subnet_id": str(uuid.uuid4()), **fields}
    response = client.post(URL, json={"loadbalancer": body}, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["loadbalancer"]
    return result


def count_rows(services: Services) -> int:
    with transaction(services.sessions, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(LoadBalancer)) or 0)


def test_create_returns_octavias_shape(client: TestClient) -> None:
    lb = create(client, name="lb1", tags=["a"])
    assert lb["provisioning_status"] == "PENDING_CREATE"
    assert lb["operating_status"] == "OFFLINE"
    assert lb["project_id"] == lb["tenant_id"] == "p1"
    assert lb["provider"] == "amphora"
    assert lb["listeners"] == lb["pools"] == []
    assert lb["description"] == ""
    assert lb["updated_at"] is None
    assert lb["tags"] == ["a"]
    assert lb["vip_address"]
    assert lb["admin_state_up"] is True
    assert set(lb) >= {
        "vip_port_id",
        "vip_network_id",
        "vip_qos_policy_id",
        "vip_vnic_type",
        "vip_sg_ids",
        "additional_vips",
        "flavor_id",
        "availability_zone",
    }


def test_create_then_worker_makes_it_active(client: TestClient, services: Services) -> None:
    lb = create(client)
    converge(services)
    shown = client.get(f"{URL}/{lb['id']}", headers=P1).json()["loadbalancer"]
    assert shown["provisioning_status"] == "ACTIVE"
    assert shown["operating_status"] == "OFFLINE"


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({}, 400, "VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id."),
        ({"vip_subnet_id": "nope"}, 400, "Value should be UUID format"),
        (
            {"vip_subnet_id": str(uuid.uuid4()), "provider": "f5"},
            400,
            "Provider 'f5' is not enabled.",
        ),
        (
            {"vip_subnet_id": str(uuid.uuid4()), "bogus": 1},
            400,
            "Unknown attribute for argument loadbalancer_.loadbalancer: bogus",
        ),
        ({"vip_subnet_id": str(uuid.uuid4()), "name": "x" * 256}, 400, "maximum character"),
        ({"vip_subnet_id": str(uuid.uuid4()), "flavor_id": str(uuid.uuid4())}, 400, "flavor"),
        (
            {"vip_subnet_id": str(uuid.uuid4()), "availability_zone": "nowhere"},
            400,
            "availability zone",
        ),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    client: TestClient, services: Services, body: dict[str, Any], status: int, text: str
) -> None:
    response = client.post(URL, json={"loadbalancer": body}, headers=P1)
    assert response.status_code == status
    fault = response.json()
    assert fault["faultcode"] == "Client"
    assert text in fault["faultstring"]
    assert fault["debuginfo"] is None
    assert count_rows(services) == 0


def test_unwrapped_and_invalid_json_bodies(client: TestClient) -> None:
    response = client.post(URL, json={"vip_subnet_id": str(uuid.uuid4())}, headers=P1)
    assert response.status_code == 400
    assert "Unknown attributes for argument loadbalancer_" in response.json()["faultstring"]
    response = client.post(URL, content=b"{nope", headers=P1)
    assert response.json()["faultstring"] == "Request is not in valid JSON format"


def test_writes_while_pending_get_409(client: TestClient, services: Services) -> None:
    lb = create(client)
    response = client.put(f"{URL}/{lb['id']}", json={"loadbalancer": {"name": "x"}}, headers=P1)
    assert response.status_code == 409
    assert response.json()["faultstring"] == (
        f"Invalid state PENDING_CREATE of loadbalancer resource {lb['id']}"
    )
    assert client.delete(f"{URL}/{lb['id']}", headers=P1).status_code == 409


def test_update_and_unset(client: TestClient, services: Services) -> None:
    lb = create(client, name="a", description="d", tags=["x"])
    converge(services)
    response = client.put(
        f"{URL}/{lb['id']}",
        headers=P1,
        json={
            "loadbalancer": {
                "name": "b",
                "description": None,
                "admin_state_up": False,
                "tags": ["y", "z"],
            }
        },
    )
    assert response.status_code == 200
    updated = response.json()["loadbalancer"]
    assert updated["provisioning_status"] == "PENDING_UPDATE"
    assert (updated["name"], updated["description"]) == ("b", "")
    assert updated["admin_state_up"] is False
    assert updated["tags"] == ["y", "z"]
    assert updated["updated_at"] is not None
    converge(services)
    response = client.put(f"{URL}/{lb['id']}", json={"loadbalancer": {"tags": None}}, headers=P1)
    assert response.json()["loadbalancer"]["tags"] == ["y", "z"]
    converge(services)
    response = client.put(
        f"{URL}/{lb['id']}", json={"loadbalancer": {"vip_address": "1.1.1.1"}}, headers=P1
    )
    assert response.status_code == 400


def test_delete_then_404(client: TestClient, services: Services) -> None:
    lb = create(client)
    converge(services)
    assert client.delete(f"{URL}/{lb['id']}", headers=P1).status_code == 204
    assert (
        client.get(f"{URL}/{lb['id']}", headers=P1).json()["loadbalancer"]["provisioning_status"]
        == "PENDING_DELETE"
    )
    converge(services)
    response = client.get(f"{URL}/{lb['id']}", headers=P1)
    assert response.status_code == 404
    assert response.json()["faultstring"] == f"Load Balancer {lb['id']} not found."
    assert client.get(URL, headers=P1).json()["loadbalancers"] == []


def test_projects_are_isolated(client: TestClient, services: Services) -> None:
    lb = create(client, name="mine")
    create(client, headers=P2, name="theirs")
    names = [row["name"] for row in client.get(URL, headers=P1).json()["loadbalancers"]]
    assert names == ["mine"]
    assert client.get(f"{URL}/{lb['id']}", headers=P2).status_code == 403
    assert client.get(f"{URL}?project_id=p2", headers=P1).status_code == 403
    converge(services)
    response = client.put(f"{URL}/{lb['id']}", json={"loadbalancer": {"name": "x"}}, headers=P2)
    assert response.status_code == 403
    everything = client.get(URL, headers=ADMIN).json()["loadbalancers"]
    assert sorted(row["name"] for row in everything) == ["mine", "theirs"]
    only_p2 = client.get(f"{URL}?project_id=p2", headers=ADMIN).json()["loadbalancers"]
    assert [row["name"] for row in only_p2] == ["theirs"]


def test_roles(client: TestClient, services: Services) -> None:
    reader = as_project("p1", "reader")
    assert (
        client.post(
            URL, json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}}, headers=reader
        ).status_code
        == 403
    )
    lb = create(client)
    assert client.get(f"{URL}/{lb['id']}", headers=reader).status_code == 200
    observer = as_project("p9", "load-balancer_global_observer")
    assert client.get(f"{URL}/{lb['id']}", headers=observer).status_code == 200
    assert len(client.get(URL, headers=observer).json()["loadbalancers"]) == 1
    converge(services)
    assert client.put(f"{URL}/{lb['id']}/failover", headers=P1).status_code == 403
    assert client.put(f"{URL}/{lb['id']}/failover", headers=ADMIN).status_code == 202
    assert client.get(URL).status_code == 401


def test_list_filters_sorting_pagination_fields_tags(client: TestClient) -> None:
    for index in range(5):
        create(client, name=f"lb{index}", tags=["all", f"t{index}"], admin_state_up=index % 2 == 0)
    rows = client.get(f"{URL}?sort=name:desc", headers=P1).json()["loadbalancers"]
    assert [row["name"] for row in rows] == ["lb4", "lb3", "lb2", "lb1", "lb0"]
    rows = client.get(f"{URL}?sort_key=name&sort_dir=asc", headers=P1).json()["loadbalancers"]
    assert rows[0]["name"] == "lb0"
    page = client.get(f"{URL}?limit=2&sort=name", headers=P1).json()
    assert [row["name"] for row in page["loadbalancers"]] == ["lb0", "lb1"]
    next_href = page["loadbalancers_links"][0]["href"]
    assert page["loadbalancers_links"][0]["rel"] == "next"
    page2 = client.get(next_href.replace("http://testserver", ""), headers=P1).json()
    assert [row["name"] for row in page2["loadbalancers"]] == ["lb2", "lb3"]
    assert {link["rel"] for link in page2["loadbalancers_links"]} == {"next", "previous"}
    previous = [link for link in page2["loadbalancers_links"] if link["rel"] == "previous"][0]
    back = client.get(previous["href"].replace("http://testserver", ""), headers=P1).json()
    assert [row["name"] for row in back["loadbalancers"]] == ["lb0", "lb1"]
    assert [
        r["name"] for r in client.get(f"{URL}?name=lb3", headers=P1).json()["loadbalancers"]
    ] == ["lb3"]
    disabled = client.get(f"{URL}?admin_state_up=false", headers=P1).json()["loadbalancers"]
    assert sorted(row["name"] for row in disabled) == ["lb1", "lb3"]
    tagged = client.get(f"{URL}?tags=all,t2", headers=P1).json()["loadbalancers"]
    assert [row["name"] for row in tagged] == ["lb2"]
    assert len(client.get(f"{URL}?tags-any=t1,t2", headers=P1).json()["loadbalancers"]) == 2
    assert len(client.get(f"{URL}?not-tags=all,t2", headers=P1).json()["loadbalancers"]) == 4
    assert len(client.get(f"{URL}?not-tags-any=t1,t2", headers=P1).json()["loadbalancers"]) == 3
    only = client.get(f"{URL}?fields=id&fields=name&name=lb1", headers=P1).json()
    assert set(only["loadbalancers"][0]) == {"id", "name"}


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("bogus=1", "One or more arguments are either duplicate or invalid"),
        ("sort=bogus", "Supplied sort key 'bogus' is not valid."),
        ("sort=name:sideways", "Supplied sort direction 'sideways' is not valid."),
        ("marker=nope", "Supplied pagination marker 'nope' is not valid."),
        ("admin_state_up=perhaps", "One or more arguments are either duplicate or invalid"),
    ],
)
def test_bad_list_queries(client: TestClient, query: str, text: str) -> None:
    response = client.get(f"{URL}?{query}", headers=P1)
    assert response.status_code == 400
    assert response.json()["faultstring"] == text


def test_bad_limit_uses_webob_shape(client: TestClient) -> None:
    response = client.get(f"{URL}?limit=abc", headers=P1)
    assert response.status_code == 400
    assert response.json() == {
        "code": 400,
        "title": "Bad Request",
        "description": "Supplied pagination limit 'abc' is not valid.",
    }


def test_delete_with_children_needs_cascade(client: TestClient, services: Services) -> None:
    lb = create(client)
    converge(services)
    response = client.post(
        "/v2/lbaas/listeners",
        headers=P1,
        json={"listener": {"loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": 80}},
    )
    assert response.status_code == 201, response.text
    converge(services)
    response = client.delete(f"{URL}/{lb['id']}", headers=P1)
    assert response.status_code == 400
    assert response.json()["faultstring"] == (
        f"Validation failure: Cannot delete Load Balancer {lb['id']} - it has children"
    )
    assert client.delete(f"{URL}/{lb['id']}?cascade=true", headers=P1).status_code == 204
    converge(services)
    assert client.get(f"{URL}/{lb['id']}", headers=P1).status_code == 404


def test_status_tree_and_stats(client: TestClient, services: Services) -> None:
    lb = create(client, name="lb")
    converge(services)
    tree = client.get(f"{URL}/{lb['id']}/status", headers=P1).json()["statuses"]
    assert tree["loadbalancer"]["name"] == "lb"
    assert tree["loadbalancer"]["listeners"] == []
    assert client.get(f"{URL}/{lb['id']}/statuses", headers=P1).status_code == 200
    stats = client.get(f"{URL}/{lb['id']}/stats", headers=P1).json()["stats"]
    assert stats == {
        "active_connections": 0,
        "bytes_in": 0,
        "bytes_out": 0,
        "request_errors": 0,
        "total_connections": 0,
    }


def test_stats_count_live_connections_only_from_amphorae_in_service(
    client: TestClient, services: Services
) -> None:
    lb = create(client, name="lb")
    converge(services)
    with transaction(services.sessions) as session:
        listener = Listener(
            loadbalancer_id=lb["id"], project_id="p1", protocol="HTTP", protocol_port=80,
            provisioning_status="ACTIVE", operating_status="ONLINE",
        )  # fmt: skip
        live = Amphora(loadbalancer_id=lb["id"], status="ALLOCATED")
        gone = Amphora(loadbalancer_id=lb["id"], status="DELETED")
        session.add_all([listener, live, gone])
        session.flush()
        for amphora_id, n in ((live.id, 1), (gone.id, 10)):
            session.add(
                ListenerStatistics(
                    listener_id=listener.id, amphora_id=amphora_id, bytes_in=n, bytes_out=n,
                    active_connections=n, total_connections=n, request_errors=n,
                )
            )  # fmt: skip
    stats = client.get(f"{URL}/{lb['id']}/stats", headers=P1).json()["stats"]
    assert stats == {
        "active_connections": 1,
        "bytes_in": 11,
        "bytes_out": 11,
        "request_errors": 11,
        "total_connections": 11,
    }


def test_quota_of_one(client: TestClient, services: Services) -> None:
    response = client.put("/v2/lbaas/quotas/p1", json={"quota": {"loadbalancer": 1}}, headers=ADMIN)
    assert response.status_code == 202, response.text
    create(client)
    response = client.post(
        URL, headers=P1, json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}}
    )
    assert response.status_code == 403
    assert response.json()["faultstring"] == "Quota has been met for resources: Load Balancer"
    assert count_rows(services) == 1


def test_versions_and_misc_routes(client: TestClient) -> None:
    versions = client.get("/").json()["versions"]
    assert versions[-1]["id"] == "v2.30"
    assert versions[-1]["status"] == "CURRENT"
    assert versions[0]["links"][0]["href"] == "http://testserver/v2"
    assert client.get("/v2", headers=P1).text == "v2"
    missing = client.get("/v2/lbaas/nothing", headers=P1)
    assert missing.status_code == 404
    assert missing.json() == {"code": 404, "title": "Not Found", "description": ""}
    assert client.get(f"{URL}", headers=P1).headers["x-openstack-request-id"].startswith("req-")
