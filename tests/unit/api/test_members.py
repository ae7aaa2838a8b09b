"""`/v2/lbaas/pools/{pool_id}/members` against the in-process app (spec §4.4, §3.3, §5)."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from pier.api.services import Services
from pier.db.engine import transaction
from pier.db.tables import (
    Flavor,
    FlavorProfile,
    Listener,
    LoadBalancer,
    Member,
    Pool,
    Quota,
)
from pier.db.tables.network import Network, Subnet
from pier.settings import Settings
from tests.support.app import api_client, as_project, converge, make_services

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


def create_listener(
    client: TestClient, services: Services, loadbalancer_id: str, port: int, **fields: Any
) -> str:
    body = {"loadbalancer_id": loadbalancer_id, "protocol": "HTTP", "protocol_port": port}
    response = client.post("/v2/lbaas/listeners", json={"listener": {**body, **fields}}, headers=P1)
    assert response.status_code == 201, response.text
    converge(services)
    return str(response.json()["listener"]["id"])


@pytest.fixture
def pool_id(client: TestClient, services: Services) -> str:
    return create_pool(client, services, create_loadbalancer(client, services))


def url(pool_id: str, member_id: str | None = None) -> str:
    base = f"/v2/lbaas/pools/{pool_id}/members"
    return base if member_id is None else f"{base}/{member_id}"


def create(
    client: TestClient, pool_id: str, headers: dict[str, str] = P1, **fields: Any
) -> dict[str, Any]:
    body = {"address": "10.0.0.5", "protocol_port": 80, **fields}
    response = client.post(url(pool_id), json={"member": body}, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["member"]
    return result


def statuses(services: Services, table: Any) -> list[str]:
    with transaction(services.sessions, write=False) as session:
        return [row.provisioning_status for row in session.scalars(select(table))]


def member_rows(services: Services) -> list[Member]:
    with transaction(services.sessions, write=False) as session:
        return list(session.scalars(select(Member).order_by(Member.created_at)))


def fault(response: Any) -> str:
    return str(response.json()["faultstring"])


# --- create ------------------------------------------------------------------------------


def test_create_returns_octavias_shape_and_defaults(client: TestClient, pool_id: str) -> None:
    member = create(client, pool_id)
    assert set(member) == {
        "id",
        "name",
        "operating_status",
        "provisioning_status",
        "admin_state_up",
        "address",
        "protocol_port",
        "weight",
        "backup",
        "subnet_id",
        "project_id",
        "tenant_id",
        "created_at",
        "updated_at",
        "monitor_address",
        "monitor_port",
        "tags",
        "vnic_type",
    }
    assert member["provisioning_status"] == "PENDING_CREATE"
    assert member["operating_status"] == "NO_MONITOR"
    assert member["name"] == ""
    assert member["weight"] == 1
    assert member["backup"] is False
    assert member["admin_state_up"] is True
    assert member["project_id"] == member["tenant_id"] == "p1"
    assert member["monitor_address"] is None and member["monitor_port"] is None
    assert member["subnet_id"] is None
    assert member["updated_at"] is None
    assert member["tags"] == []
    assert member["vnic_type"] == "normal"


def test_create_stores_every_field_and_ignores_body_project(
    client: TestClient, pool_id: str
) -> None:
    member = create(
        client,
        pool_id,
        name="web1",
        weight="7",
        backup="true",
        admin_state_up=False,
        monitor_address="10.0.0.9",
        monitor_port=8080,
        subnet_id=str(uuid.uuid4()),
        tags=["a", "b"],
        project_id="someone-else",
    )
    assert member["name"] == "web1"
    assert member["weight"] == 7
    assert member["backup"] is True
    assert member["admin_state_up"] is False
    assert member["monitor_address"] == "10.0.0.9"
    assert member["monitor_port"] == 8080
    assert member["tags"] == ["a", "b"]
    assert member["project_id"] == "p1"


def test_create_with_a_health_monitor_starts_offline(
    client: TestClient, services: Services, pool_id: str
) -> None:
    body = {"pool_id": pool_id, "type": "TCP", "delay": 5, "timeout": 3, "max_retries": 2}
    response = client.post("/v2/lbaas/healthmonitors", json={"healthmonitor": body}, headers=P1)
    assert response.status_code == 201, response.text
    converge(services)
    assert create(client, pool_id)["operating_status"] == "OFFLINE"


def test_create_marks_pool_listener_and_loadbalancer_then_worker_settles(
    client: TestClient, services: Services
) -> None:
    loadbalancer_id = create_loadbalancer(client, services)
    pool_id = create_pool(client, services, loadbalancer_id)
    create_listener(client, services, loadbalancer_id, 80, default_pool_id=pool_id)
    other_listener = create_listener(client, services, loadbalancer_id, 81)
    create(client, pool_id)
    assert statuses(services, Pool) == ["PENDING_UPDATE"]
    assert statuses(services, LoadBalancer) == ["PENDING_UPDATE"]
    with transaction(services.sessions, write=False) as session:
        listeners = {row.id: row.provisioning_status for row in session.scalars(select(Listener))}
    assert listeners.pop(other_listener) == "ACTIVE"
    assert list(listeners.values()) == ["PENDING_UPDATE"]
    converge(services)
    assert statuses(services, Member) == ["ACTIVE"]
    assert set(statuses(services, Listener)) == {"ACTIVE"}


def test_l7_redirect_listener_is_marked_only_with_enabled_rules(
    client: TestClient, services: Services
) -> None:
    loadbalancer_id = create_loadbalancer(client, services)
    pool_id = create_pool(client, services, loadbalancer_id)
    listener_id = create_listener(client, services, loadbalancer_id, 80)
    policy = {"listener_id": listener_id, "action": "REDIRECT_TO_POOL", "redirect_pool_id": pool_id}
    response = client.post("/v2/lbaas/l7policies", json={"l7policy": policy}, headers=P1)
    assert response.status_code == 201, response.text
    policy_id = response.json()["l7policy"]["id"]
    converge(services)
    create(client, pool_id)
    assert statuses(services, Listener) == ["ACTIVE"]  # a policy without rules does not count
    converge(services)
    rule = {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/"}
    response = client.post(
        f"/v2/lbaas/l7policies/{policy_id}/rules", json={"rule": rule}, headers=P1
    )
    assert response.status_code == 201, response.text
    converge(services)
    create(client, pool_id, protocol_port=81)
    assert statuses(services, Listener) == ["PENDING_UPDATE"]


def test_create_accepts_the_v2_0_prefix(client: TestClient, pool_id: str) -> None:
    response = client.post(
        f"/v2.0/lbaas/pools/{pool_id}/members",
        json={"member": {"address": "10.0.0.5", "protocol_port": 80}},
        headers=P1,
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (
            {"protocol_port": 80},
            "Invalid input for field/attribute address. Value: 'Unset'. Mandatory field missing.",
        ),
        ({"address": "10.0.0.5"}, "protocol_port. Value: 'Unset'. Mandatory field missing."),
        ({"address": "nope", "protocol_port": 80}, "Value should be IPv4 or IPv6 format"),
        ({"address": "10.0.0.5", "protocol_port": 0}, "Value should be greater or equal to 1"),
        (
            {"address": "10.0.0.5", "protocol_port": 65536},
            "Value should be lower or equal to 65535",
        ),
        (
            {"address": "10.0.0.5", "protocol_port": 80, "weight": 257},
            "Invalid input for field/attribute weight. Value: '257'. "
            "Value should be lower or equal to 256",
        ),
        (
            {"address": "10.0.0.5", "protocol_port": 80, "weight": -1},
            "Value should be greater or equal to 0",
        ),
        (
            {"address": "10.0.0.5", "protocol_port": 80, "monitor_port": 0},
            "Invalid input for field/attribute monitor_port",
        ),
        (
            {"address": "10.0.0.5", "protocol_port": 80, "monitor_address": "x"},
            "Value should be IPv4 or IPv6 format",
        ),
        (
            {"address": "10.0.0.5", "protocol_port": 80, "subnet_id": "x"},
            "Value should be UUID format",
        ),
        (
            {"address": "10.0.0.5", "protocol_port": 80, "bogus": 1},
            "Unknown attribute for argument member_.member: bogus",
        ),
        (
            {"address": "169.254.169.254", "protocol_port": 80},
            "169.254.169.254 is not a valid option for member address",
        ),
        (
            {"address": "10.0.0.5", "protocol_port": 80, "request_sriov": True},
            "The load balancer flavor does not allow SR-IOV member ports.",
        ),
    ],
)
def test_create_rejects_invalid_input(
    client: TestClient, services: Services, pool_id: str, body: dict[str, Any], text: str
) -> None:
    response = client.post(url(pool_id), json={"member": body}, headers=P1)
    assert response.status_code == 400
    assert text in fault(response)
    assert member_rows(services) == []
    assert statuses(services, Pool) == ["ACTIVE"]


def test_create_without_wrapper_is_rejected(client: TestClient, pool_id: str) -> None:
    response = client.post(url(pool_id), json={"address": "10.0.0.5"}, headers=P1)
    assert response.status_code == 400
    assert fault(response) == "Unknown attributes for argument member_: address"


def test_create_weight_zero_is_allowed(client: TestClient, pool_id: str) -> None:
    assert create(client, pool_id, weight=0)["weight"] == 0


def test_sriov_member_needs_a_flavor_that_allows_it(
    client: TestClient, services: Services, pool_id: str
) -> None:
    with transaction(services.sessions) as session:
        profile = FlavorProfile(
            name="fp", provider_name="amphora", flavor_data='{"allow_member_sriov": true}'
        )
        session.add(profile)
        session.flush()
        flavor = Flavor(name="sriov", flavor_profile_id=profile.id)
        session.add(flavor)
        session.flush()
        pool = session.get(Pool, pool_id)
        assert pool is not None
        session.get(LoadBalancer, pool.loadbalancer_id).flavor_id = flavor.id  # type: ignore[union-attr]
    member = create(client, pool_id, request_sriov=True)
    assert member["vnic_type"] == "direct"
    assert "request_sriov" not in member


def test_duplicate_address_and_port_is_a_conflict(
    client: TestClient, services: Services, pool_id: str
) -> None:
    create(client, pool_id)
    converge(services)
    response = client.post(
        url(pool_id), json={"member": {"address": "10.0.0.5", "protocol_port": 80}}, headers=P1
    )
    assert response.status_code == 409
    assert fault(response) == (
        "Another member on this pool is already using ip 10.0.0.5 on protocol_port 80"
    )
    assert len(member_rows(services)) == 1
    assert statuses(services, LoadBalancer) == ["ACTIVE"]
    assert create(client, pool_id, protocol_port=81)["protocol_port"] == 81


def test_write_while_pool_pending_is_a_conflict(client: TestClient, pool_id: str) -> None:
    create(client, pool_id)
    response = client.post(
        url(pool_id), json={"member": {"address": "10.0.0.6", "protocol_port": 80}}, headers=P1
    )
    assert response.status_code == 409
    assert fault(response) == f"Pool {pool_id} is immutable and cannot be updated."


def test_write_while_loadbalancer_pending_is_a_conflict(
    client: TestClient, services: Services, pool_id: str
) -> None:
    with transaction(services.sessions) as session:
        loadbalancer = session.scalars(select(LoadBalancer)).one()
        loadbalancer.provisioning_status = "PENDING_UPDATE"
        loadbalancer_id = loadbalancer.id
    response = client.post(
        url(pool_id), json={"member": {"address": "10.0.0.6", "protocol_port": 80}}, headers=P1
    )
    assert response.status_code == 409
    assert fault(response) == f"Load Balancer {loadbalancer_id} is immutable and cannot be updated."
    assert member_rows(services) == []


def test_member_quota(client: TestClient, services: Services, pool_id: str) -> None:
    with transaction(services.sessions) as session:
        session.merge(Quota(project_id="p1", member=1))
    create(client, pool_id)
    converge(services)
    response = client.post(
        url(pool_id), json={"member": {"address": "10.0.0.6", "protocol_port": 80}}, headers=P1
    )
    assert response.status_code == 403
    assert fault(response) == "Quota has been met for resources: Member"


# --- subnets -----------------------------------------------------------------------------


@pytest.fixture
def strict_services(tmp_path: Path) -> Services:
    return make_services(tmp_path, settings=Settings(accept_any_subnet=False))


def test_subnet_must_exist_unless_any_subnet_is_accepted(strict_services: Services) -> None:
    services = strict_services
    with transaction(services.sessions) as session:
        loadbalancer = LoadBalancer(project_id="p1", provisioning_status="ACTIVE")
        network = Network(name="n")
        session.add_all([loadbalancer, network])
        session.flush()
        subnet = Subnet(network_id=network.id, cidr="10.0.0.0/24", ip_version=4)
        session.add(subnet)
        session.flush()
        loadbalancer_id, subnet_id = loadbalancer.id, subnet.id
    missing = str(uuid.uuid4())
    with api_client(services) as client:
        pool_id = create_pool(client, services, loadbalancer_id)
        response = client.post(
            url(pool_id),
            json={"member": {"address": "10.0.0.5", "protocol_port": 80, "subnet_id": missing}},
            headers=P1,
        )
        assert response.status_code == 400
        assert fault(response) == f"Subnet {missing} not found."
        assert create(client, pool_id, subnet_id=subnet_id)["subnet_id"] == subnet_id


# --- show, 404s, RBAC --------------------------------------------------------------------


def test_show_ignores_unknown_query_parameters_and_selects_fields(
    client: TestClient, pool_id: str
) -> None:
    member = create(client, pool_id, name="web1")
    response = client.get(url(pool_id, member["id"]), params={"pool_id": pool_id}, headers=P1)
    assert response.status_code == 200
    assert response.json()["member"]["name"] == "web1"
    response = client.get(url(pool_id, member["id"]) + "?fields=id&fields=address", headers=P1)
    assert response.json() == {"member": {"id": member["id"], "address": "10.0.0.5"}}


def test_unknown_pool_in_path_is_404(client: TestClient) -> None:
    missing = str(uuid.uuid4())
    for response in (
        client.get(url(missing), headers=P1),
        client.post(
            url(missing), json={"member": {"address": "10.0.0.5", "protocol_port": 80}}, headers=P1
        ),
        client.put(url(missing), json={"members": []}, headers=P1),
        client.get(url(missing, str(uuid.uuid4())), headers=P1),
        client.delete(url(missing, str(uuid.uuid4())), headers=P1),
    ):
        assert response.status_code == 404
        assert fault(response) == f"Pool {missing} not found."


def test_member_of_another_pool_is_404(
    client: TestClient, services: Services, pool_id: str
) -> None:
    member = create(client, pool_id)
    converge(services)
    with transaction(services.sessions, write=False) as session:
        loadbalancer_id = session.get(Pool, pool_id).loadbalancer_id  # type: ignore[union-attr]
    other_pool = create_pool(client, services, loadbalancer_id)
    for response in (
        client.get(url(other_pool, member["id"]), headers=P1),
        client.put(url(other_pool, member["id"]), json={"member": {"name": "x"}}, headers=P1),
        client.delete(url(other_pool, member["id"]), headers=P1),
    ):
        assert response.status_code == 404
        assert fault(response) == f"Member {member['id']} not found."
    assert statuses(services, Member) == ["ACTIVE"]


def test_other_projects_get_403(client: TestClient, services: Services, pool_id: str) -> None:
    member = create(client, pool_id)
    converge(services)
    body = {"member": {"address": "10.0.0.6", "protocol_port": 80}}
    for response in (
        client.get(url(pool_id), headers=P2),
        client.get(url(pool_id, member["id"]), headers=P2),
        client.post(url(pool_id), json=body, headers=P2),
        client.put(url(pool_id, member["id"]), json={"member": {"name": "x"}}, headers=P2),
        client.put(url(pool_id), json={"members": []}, headers=P2),
        client.delete(url(pool_id, member["id"]), headers=P2),
    ):
        assert response.status_code == 403
        assert fault(response) == "Policy does not allow this request to be performed."
    assert len(member_rows(services)) == 1
    assert statuses(services, Member) == ["ACTIVE"]


def test_readers_read_but_do_not_write(
    client: TestClient, services: Services, pool_id: str
) -> None:
    member = create(client, pool_id)
    converge(services)
    assert client.get(url(pool_id), headers=READER).status_code == 200
    assert client.get(url(pool_id, member["id"]), headers=READER).status_code == 200
    observer = as_project("p1", "load-balancer_observer")
    assert client.get(url(pool_id, member["id"]), headers=observer).status_code == 200
    body = {"member": {"address": "10.0.0.6", "protocol_port": 80}}
    assert client.post(url(pool_id), json=body, headers=READER).status_code == 403
    assert (
        client.put(
            url(pool_id, member["id"]), json={"member": {"name": "x"}}, headers=READER
        ).status_code
        == 403
    )
    assert client.delete(url(pool_id, member["id"]), headers=READER).status_code == 403
    assert client.put(url(pool_id), json={"members": []}, headers=READER).status_code == 403


def test_service_role_and_global_readers_list_any_pool(client: TestClient, pool_id: str) -> None:
    create(client, pool_id)
    service = as_project("services", "service")
    assert len(client.get(url(pool_id), headers=service).json()["members"]) == 1
    observer = as_project("elsewhere", "load-balancer_global_observer")
    assert len(client.get(url(pool_id), headers=observer).json()["members"]) == 1
    assert len(client.get(url(pool_id), headers=ADMIN).json()["members"]) == 1
    assert (
        client.post(
            url(pool_id),
            json={"member": {"address": "10.0.0.6", "protocol_port": 80}},
            headers=ADMIN,
        ).status_code
        == 409
    )  # admin may write; pool is busy


# --- update and delete -------------------------------------------------------------------


def test_update_changes_fields_and_marks_the_tree(
    client: TestClient, services: Services, pool_id: str
) -> None:
    member = create(client, pool_id, tags=["a"])
    converge(services)
    body = {
        "member": {
            "name": "web",
            "weight": 5,
            "backup": True,
            "admin_state_up": False,
            "monitor_address": "10.0.0.7",
            "monitor_port": 9000,
            "tags": ["b"],
        }
    }
    response = client.put(url(pool_id, member["id"]), json=body, headers=P1)
    assert response.status_code == 200
    updated = response.json()["member"]
    assert updated["provisioning_status"] == "PENDING_UPDATE"
    assert (updated["name"], updated["weight"], updated["backup"]) == ("web", 5, True)
    assert updated["admin_state_up"] is False
    assert (updated["monitor_address"], updated["monitor_port"]) == ("10.0.0.7", 9000)
    assert updated["tags"] == ["b"]
    assert updated["updated_at"] is not None
    assert statuses(services, Pool) == ["PENDING_UPDATE"]
    assert statuses(services, LoadBalancer) == ["PENDING_UPDATE"]
    converge(services)
    assert statuses(services, Member) == ["ACTIVE"]


def test_update_nulls_reset_to_defaults(
    client: TestClient, services: Services, pool_id: str
) -> None:
    member = create(
        client, pool_id, name="web", weight=9, backup=True, monitor_port=9000, tags=["keep"]
    )
    converge(services)
    body = {
        "member": {
            "name": None,
            "weight": None,
            "backup": None,
            "admin_state_up": None,
            "monitor_port": None,
            "tags": None,
        }
    }
    updated = client.put(url(pool_id, member["id"]), json=body, headers=P1).json()["member"]
    assert updated["name"] == ""
    assert updated["weight"] == 1
    assert updated["backup"] is False
    assert updated["admin_state_up"] is False
    assert updated["monitor_port"] is None
    assert updated["tags"] == ["keep"]


@pytest.mark.parametrize("field", ["address", "protocol_port", "subnet_id", "request_sriov"])
def test_update_rejects_immutable_fields(
    client: TestClient, services: Services, pool_id: str, field: str
) -> None:
    member = create(client, pool_id)
    converge(services)
    response = client.put(
        url(pool_id, member["id"]), json={"member": {field: "10.0.0.9"}}, headers=P1
    )
    assert response.status_code == 400
    assert fault(response) == f"Unknown attribute for argument member_.member: {field}"
    assert statuses(services, Member) == ["ACTIVE"]


def test_update_validates_values(client: TestClient, services: Services, pool_id: str) -> None:
    member = create(client, pool_id)
    converge(services)
    response = client.put(url(pool_id, member["id"]), json={"member": {"weight": 300}}, headers=P1)
    assert response.status_code == 400
    assert "Value should be lower or equal to 256" in fault(response)
    assert member_rows(services)[0].weight == 1


def test_update_while_pending_is_a_conflict(client: TestClient, pool_id: str) -> None:
    member = create(client, pool_id)
    response = client.put(url(pool_id, member["id"]), json={"member": {"name": "x"}}, headers=P1)
    assert response.status_code == 409
    assert fault(response) == f"Pool {pool_id} is immutable and cannot be updated."


def test_delete_marks_then_worker_removes(
    client: TestClient, services: Services, pool_id: str
) -> None:
    member = create(client, pool_id)
    converge(services)
    response = client.delete(url(pool_id, member["id"]), headers=P1)
    assert response.status_code == 204
    assert response.content == b""
    assert statuses(services, Member) == ["PENDING_DELETE"]
    assert statuses(services, Pool) == ["PENDING_UPDATE"]
    shown = client.get(url(pool_id, member["id"]), headers=P1).json()["member"]
    assert shown["provisioning_status"] == "PENDING_DELETE"
    converge(services)
    response = client.get(url(pool_id, member["id"]), headers=P1)
    assert response.status_code == 404
    assert fault(response) == f"Member {member['id']} not found."


def test_delete_while_pending_is_a_conflict(
    client: TestClient, services: Services, pool_id: str
) -> None:
    member = create(client, pool_id)
    response = client.delete(url(pool_id, member["id"]), headers=P1)
    assert response.status_code == 409
    assert statuses(services, Member) == ["PENDING_CREATE"]


# --- list --------------------------------------------------------------------------------


@pytest.fixture
def three_members(client: TestClient, services: Services, pool_id: str) -> list[dict[str, Any]]:
    members = []
    for index, tags in enumerate((["x"], ["x", "y"], [])):
        members.append(
            create(
                client,
                pool_id,
                name=f"m{index}",
                address=f"10.0.0.{index + 1}",
                protocol_port=80 + index,
                tags=tags,
            )
        )
        converge(services)
    return members


def names(response: Any) -> list[str]:
    return [item["name"] for item in response.json()["members"]]


def test_list_returns_the_pools_members(
    client: TestClient, services: Services, pool_id: str, three_members: list[dict[str, Any]]
) -> None:
    with transaction(services.sessions, write=False) as session:
        loadbalancer_id = session.get(Pool, pool_id).loadbalancer_id  # type: ignore[union-attr]
    other_pool = create_pool(client, services, loadbalancer_id)
    create(client, other_pool, name="elsewhere")
    response = client.get(url(pool_id), headers=P1)
    assert response.status_code == 200
    assert names(response) == ["m0", "m1", "m2"]
    assert response.json()["members_links"] == []
    assert "pool_id" not in response.json()["members"][0]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name=m1", ["m1"]),
        ("address=10.0.0.3", ["m2"]),
        ("protocol_port=80", ["m0"]),
        ("admin_state_up=true", ["m0", "m1", "m2"]),
        ("weight=1&provisioning_status=ACTIVE", ["m0", "m1", "m2"]),
        ("tags=x", ["m0", "m1"]),
        ("tags=x,y", ["m1"]),
        ("tags-any=y", ["m1"]),
        ("not-tags=x", ["m2"]),
        ("not-tags-any=y", ["m0", "m2"]),
        ("sort=name:desc", ["m2", "m1", "m0"]),
        ("sort_key=protocol_port&sort_dir=desc", ["m2", "m1", "m0"]),
    ],
)
def test_list_filters_and_sorts(
    client: TestClient,
    pool_id: str,
    three_members: list[dict[str, Any]],
    query: str,
    expected: list[str],
) -> None:
    response = client.get(f"{url(pool_id)}?{query}", headers=P1)
    assert response.status_code == 200, response.text
    assert names(response) == expected


def test_list_by_id_and_ignored_pool_id(
    client: TestClient, pool_id: str, three_members: list[dict[str, Any]]
) -> None:
    member_id = three_members[1]["id"]
    response = client.get(url(pool_id), params={"id": member_id, "pool_id": pool_id}, headers=P1)
    assert names(response) == ["m1"]


def test_list_rejects_unknown_filters_and_sort_keys(client: TestClient, pool_id: str) -> None:
    response = client.get(f"{url(pool_id)}?bogus=1", headers=P1)
    assert response.status_code == 400
    assert fault(response) == "One or more arguments are either duplicate or invalid"
    response = client.get(f"{url(pool_id)}?sort=bogus", headers=P1)
    assert fault(response) == "Supplied sort key 'bogus' is not valid."


def test_list_pages_with_links(
    client: TestClient, pool_id: str, three_members: list[dict[str, Any]]
) -> None:
    first = client.get(f"{url(pool_id)}?limit=2", headers=P1).json()
    assert [item["name"] for item in first["members"]] == ["m0", "m1"]
    (link,) = first["members_links"]
    assert link["rel"] == "next"
    assert f"marker={three_members[1]['id']}" in link["href"]
    second = client.get(
        f"{url(pool_id)}?limit=2&marker={three_members[1]['id']}", headers=P1
    ).json()
    assert [item["name"] for item in second["members"]] == ["m2"]
    assert [link["rel"] for link in second["members_links"]] == ["previous"]


def test_list_selects_fields(
    client: TestClient, pool_id: str, three_members: list[dict[str, Any]]
) -> None:
    response = client.get(f"{url(pool_id)}?fields=name&fields=protocol_port&limit=1", headers=P1)
    assert response.json()["members"] == [{"name": "m0", "protocol_port": 80}]


# --- batch update ------------------------------------------------------------------------


def batch(
    client: TestClient,
    pool_id: str,
    members: list[dict[str, Any]],
    query: str = "",
    headers: dict[str, str] = P1,
) -> Any:
    return client.put(url(pool_id) + query, json={"members": members}, headers=headers)


def by_address(services: Services) -> dict[tuple[str, int], Member]:
    return {(row.address, row.protocol_port): row for row in member_rows(services)}


def test_batch_creates_updates_and_deletes(
    client: TestClient, services: Services, pool_id: str
) -> None:
    create(client, pool_id, address="10.0.0.1", weight=5, monitor_port=9000)
    converge(services)
    create(client, pool_id, address="10.0.0.2")
    converge(services)
    response = batch(
        client,
        pool_id,
        [
            {"address": "10.0.0.1", "protocol_port": 80, "name": "kept"},
            {"address": "10.0.0.3", "protocol_port": 80, "name": "new", "tags": ["t"]},
        ],
    )
    assert response.status_code == 202
    assert response.content == b""
    rows = by_address(services)
    kept, gone, new = (rows[("10.0.0.1", 80)], rows[("10.0.0.2", 80)], rows[("10.0.0.3", 80)])
    assert (kept.provisioning_status, kept.name, kept.weight) == ("PENDING_UPDATE", "kept", 1)
    assert kept.monitor_port is None
    assert gone.provisioning_status == "PENDING_DELETE"
    assert (new.provisioning_status, new.operating_status) == ("PENDING_CREATE", "NO_MONITOR")
    assert new.project_id == "p1"
    assert statuses(services, Pool) == ["PENDING_UPDATE"]
    assert statuses(services, LoadBalancer) == ["PENDING_UPDATE"]
    converge(services)
    assert sorted(by_address(services)) == [("10.0.0.1", 80), ("10.0.0.3", 80)]
    listed = client.get(url(pool_id), params={"name": "new"}, headers=P1).json()["members"]
    assert listed[0]["tags"] == ["t"]


def test_batch_additive_only_keeps_unlisted_members(
    client: TestClient, services: Services, pool_id: str
) -> None:
    create(client, pool_id, address="10.0.0.1")
    converge(services)
    response = batch(
        client, pool_id, [{"address": "10.0.0.2", "protocol_port": 80}], query="?additive_only=true"
    )
    assert response.status_code == 202
    rows = by_address(services)
    assert rows[("10.0.0.1", 80)].provisioning_status == "ACTIVE"
    assert rows[("10.0.0.2", 80)].provisioning_status == "PENDING_CREATE"


def test_batch_additive_only_needs_no_delete_right_but_write(
    client: TestClient, pool_id: str
) -> None:
    response = batch(
        client,
        pool_id,
        [{"address": "10.0.0.2", "protocol_port": 80}],
        query="?additive_only=true",
        headers=READER,
    )
    assert response.status_code == 403


def test_batch_rejects_a_member_listed_twice(
    client: TestClient, services: Services, pool_id: str
) -> None:
    create(client, pool_id, address="10.0.0.1")
    converge(services)
    twice = {"address": "10.0.0.1", "protocol_port": 80}
    response = batch(client, pool_id, [twice, dict(twice, weight=3)])
    assert response.status_code == 400
    assert fault(response) == (
        "Validation failure: Member must be updated only once in the same request."
    )
    assert statuses(services, Member) == ["ACTIVE"]
    assert statuses(services, Pool) == ["ACTIVE"]


def test_batch_noop_changes_nothing_but_needs_active_tree(
    client: TestClient, services: Services, pool_id: str
) -> None:
    response = batch(client, pool_id, [])
    assert response.status_code == 202
    assert statuses(services, Pool) == ["ACTIVE"]
    assert statuses(services, LoadBalancer) == ["ACTIVE"]
    with transaction(services.sessions) as session:
        session.get(Pool, pool_id).provisioning_status = "PENDING_UPDATE"  # type: ignore[union-attr]
    response = batch(client, pool_id, [])
    assert response.status_code == 409
    assert fault(response) == f"Pool {pool_id} is immutable and cannot be updated."


@pytest.mark.parametrize(
    ("members", "text"),
    [
        (
            [{"address": "169.254.169.254", "protocol_port": 80}],
            "169.254.169.254 is not a valid option for member address",
        ),
        ([{"address": "10.0.0.1"}], "protocol_port. Value: 'Unset'. Mandatory field missing."),
        (
            [{"address": "10.0.0.1", "protocol_port": 80, "weight": 999}],
            "Value should be lower or equal to 256",
        ),
        (
            [{"address": "10.0.0.1", "protocol_port": 80, "bogus": True}],
            "Unknown attribute for argument members: bogus",
        ),
    ],
)
def test_batch_validates_members(
    client: TestClient, services: Services, pool_id: str, members: list[dict[str, Any]], text: str
) -> None:
    response = batch(client, pool_id, members)
    assert response.status_code == 400
    assert text in fault(response)
    assert member_rows(services) == []


def test_batch_body_must_hold_members(client: TestClient, pool_id: str) -> None:
    response = client.put(url(pool_id), json={"member": []}, headers=P1)
    assert response.status_code == 400
    assert "Unknown attribute for argument members_: member" in fault(response)
    response = client.put(url(pool_id), json={"members": {"address": "x"}}, headers=P1)
    assert response.status_code == 400


def test_batch_quota_counts_the_net_increase(
    client: TestClient, services: Services, pool_id: str
) -> None:
    with transaction(services.sessions) as session:
        session.merge(Quota(project_id="p1", member=2))
    create(client, pool_id, address="10.0.0.1")
    converge(services)
    create(client, pool_id, address="10.0.0.2")
    converge(services)
    swap = [
        {"address": "10.0.0.3", "protocol_port": 80},
        {"address": "10.0.0.4", "protocol_port": 80},
    ]
    response = batch(client, pool_id, swap, query="?additive_only=true")
    assert response.status_code == 403
    assert fault(response) == "Quota has been met for resources: Member"
    assert batch(client, pool_id, swap).status_code == 202


def test_addresses_are_kept_as_written(client: TestClient, pool_id: str) -> None:
    """Octavia validates IPs but stores the caller's spelling (tempest compares it back)."""
    member = create(
        client, pool_id, address="2001:db8:0:0:0:0:0:1", monitor_address="2001:db8:0:0::2"
    )
    assert (member["address"], member["monitor_address"]) == (
        "2001:db8:0:0:0:0:0:1", "2001:db8:0:0::2",
    )  # fmt: skip
    shown = client.get(url(pool_id, member["id"]), headers=P1).json()["member"]
    assert shown["address"] == "2001:db8:0:0:0:0:0:1"
