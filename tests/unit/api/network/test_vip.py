import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from pier.api.network.vip import (
    NOOP_VIP_ADDRESS,
    VipAllocation,
    allocate_vip,
    find_subnet,
    release_vip,
)
from pier.api.services import Services
from pier.db.engine import transaction
from pier.db.tables.network import Port
from pier.domain.errors import Conflict, InvalidInput
from tests.unit.api.network.conftest import (
    ADMIN,
    ALICE,
    BASE,
    create,
    make_network,
    make_subnet,
)

LB = "5f7c4c1e-3c43-4a4e-9d55-7d1d7a7e0001"


def allocate(services: Services, **overrides: Any) -> VipAllocation:
    arguments: dict[str, Any] = {
        "project_id": "project-a",
        "subnet_id": None,
        "network_id": None,
        "port_id": None,
        "address": None,
        "loadbalancer_id": LB,
        "accept_any_subnet": False,
        **overrides,
    }
    with transaction(services.sessions) as session:
        return allocate_vip(session, **arguments)


def rejected(services: Services, error: type[Exception], **overrides: Any) -> str:
    with pytest.raises(error) as caught:
        allocate(services, **overrides)
    assert type(caught.value) is error
    return str(caught.value)


def get_port(client: TestClient, port_id: str) -> dict[str, Any]:
    response = client.get(f"{BASE}/ports/{port_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    port: dict[str, Any] = response.json()["port"]
    return port


@pytest.fixture
def shared_subnet(client: TestClient) -> dict[str, Any]:
    network = make_network(client, shared=True)
    return make_subnet(client, network["id"], "10.0.0.0/24")


def test_subnet_only_creates_an_octavia_port(
    client: TestClient, services: Services, shared_subnet: dict[str, Any]
) -> None:
    vip = allocate(services, subnet_id=shared_subnet["id"])
    assert vip == VipAllocation(
        "10.0.0.2",
        shared_subnet["id"],
        shared_subnet["network_id"],
        vip.port_id,
        created_by_pier=True,
    )
    port = get_port(client, vip.port_id)
    assert port["name"] == f"octavia-lb-{LB}"
    assert (port["device_owner"], port["device_id"]) == ("Octavia", LB)
    assert port["project_id"] == "project-a"
    assert port["admin_state_up"] is False
    assert port["fixed_ips"] == [{"subnet_id": shared_subnet["id"], "ip_address": "10.0.0.2"}]


def test_requested_address(services: Services, shared_subnet: dict[str, Any]) -> None:
    vip = allocate(services, subnet_id=shared_subnet["id"], address="10.0.0.50")
    assert vip.address == "10.0.0.50"
    message = rejected(services, Conflict, subnet_id=shared_subnet["id"], address="10.0.0.50")
    assert message == (
        "The VIP IP address is already in use: IP address 10.0.0.50 already "
        f"allocated in subnet {shared_subnet['id']}"
    )
    message = rejected(services, InvalidInput, subnet_id=shared_subnet["id"], address="10.9.0.1")
    assert message == "IP address 10.9.0.1 is not a valid IP for the specified subnet."


def test_unknown_objects_are_400s_with_octavias_text(services: Services) -> None:
    missing = str(uuid.uuid4())
    assert rejected(services, InvalidInput, subnet_id=missing) == f"Subnet {missing} not found."
    assert rejected(services, InvalidInput, network_id=missing) == f"Network {missing} not found."
    assert rejected(services, InvalidInput, port_id=missing) == f"Port {missing} not found."
    assert rejected(services, InvalidInput) == (
        "Validation failure: VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id."
    )


def test_subnet_exhaustion(client: TestClient, services: Services) -> None:
    network = make_network(client, shared=True)
    subnet = make_subnet(client, network["id"], "10.0.0.0/30")
    assert allocate(services, subnet_id=subnet["id"]).address == "10.0.0.2"
    message = rejected(services, Conflict, subnet_id=subnet["id"])
    assert message == f"No more IP addresses available on network {network['id']}."


def test_network_picks_an_ipv4_subnet_with_room(client: TestClient, services: Services) -> None:
    network = make_network(client, shared=True)
    make_subnet(client, network["id"], "2001:db8::/64")
    full = make_subnet(client, network["id"], "10.0.0.0/30")
    roomy = make_subnet(client, network["id"], "10.0.1.0/24")
    allocate(services, subnet_id=full["id"])
    vip = allocate(services, network_id=network["id"])
    assert (vip.subnet_id, vip.network_id, vip.address) == (roomy["id"], network["id"], "10.0.1.2")


def test_network_with_address_or_subnet(client: TestClient, services: Services) -> None:
    network = make_network(client, shared=True)
    first = make_subnet(client, network["id"], "10.0.0.0/24")
    second = make_subnet(client, network["id"], "10.0.1.0/24")
    vip = allocate(services, network_id=network["id"], address="10.0.1.9")
    assert (vip.subnet_id, vip.address) == (second["id"], "10.0.1.9")
    vip = allocate(services, network_id=network["id"], subnet_id=first["id"])
    assert vip.subnet_id == first["id"]
    other = make_subnet(client, make_network(client, shared=True)["id"], "10.7.0.0/24")
    assert rejected(services, InvalidInput, network_id=network["id"], subnet_id=other["id"]) == (
        f"Subnet {other['id']} not found."
    )
    assert rejected(services, InvalidInput, network_id=network["id"], address="10.5.0.1") == (
        "Validation failure: Supplied network does not contain a subnet for VIP address specified."
    )


def test_network_without_usable_subnets(client: TestClient, services: Services) -> None:
    empty = make_network(client, shared=True)
    assert rejected(services, InvalidInput, network_id=empty["id"]) == (
        "Validation failure: Supplied network does not contain a subnet."
    )
    full_network = make_network(client, shared=True)
    full = make_subnet(client, full_network["id"], "10.0.0.0/30")
    allocate(services, subnet_id=full["id"])
    assert rejected(services, InvalidInput, network_id=full_network["id"]) == (
        "Validation failure: Subnet(s) in the supplied network do not contain enough available IPs."
    )


def test_existing_port_is_used_and_claimed(
    client: TestClient, services: Services, shared_subnet: dict[str, Any]
) -> None:
    port = create(client, "ports", {"network_id": shared_subnet["network_id"]}, ALICE)
    vip = allocate(services, port_id=port["id"])
    assert vip == VipAllocation(
        "10.0.0.2",
        shared_subnet["id"],
        shared_subnet["network_id"],
        port["id"],
        created_by_pier=False,
    )
    assert get_port(client, port["id"])["device_id"] == LB
    assert rejected(services, InvalidInput, port_id=port["id"]) == (
        f"Validation failure: Port {port['id']} is already used by device {LB}"
    )


def test_port_with_several_addresses(
    client: TestClient, services: Services, shared_subnet: dict[str, Any]
) -> None:
    second = make_subnet(client, shared_subnet["network_id"], "10.0.1.0/24")
    port = create(
        client,
        "ports",
        {
            "network_id": shared_subnet["network_id"],
            "fixed_ips": [{"subnet_id": shared_subnet["id"]}, {"subnet_id": second["id"]}],
        },
        ALICE,
    )
    assert rejected(services, InvalidInput, port_id=port["id"]) == (
        "Validation failure: VIP port's subnet could not be determined. Please specify either "
        "a VIP subnet or address."
    )
    assert rejected(services, InvalidInput, port_id=port["id"], address="10.0.0.99") == (
        "Validation failure: Specified VIP address not found on the specified VIP port."
    )
    third = make_subnet(client, shared_subnet["network_id"], "10.0.2.0/24")
    assert rejected(services, InvalidInput, port_id=port["id"], subnet_id=third["id"]) == (
        "Validation failure: No VIP address found on the specified VIP port within the "
        "specified subnet."
    )
    vip = allocate(services, port_id=port["id"], address="10.0.1.2")
    assert (vip.subnet_id, vip.address) == (second["id"], "10.0.1.2")
    release_vip_in(services, vip.port_id, created_by_pier=False)
    vip = allocate(services, port_id=port["id"], subnet_id=shared_subnet["id"])
    assert (vip.subnet_id, vip.address) == (shared_subnet["id"], "10.0.0.2")


def test_other_projects_private_subnets_are_invisible_unless_admin(
    client: TestClient,
    services: Services,
) -> None:
    network = make_network(client, project_id="project-b")
    subnet = make_subnet(client, network["id"], "10.0.0.0/24")
    assert rejected(services, InvalidInput, subnet_id=subnet["id"]) == (
        f"Subnet {subnet['id']} not found."
    )
    assert allocate(services, subnet_id=subnet["id"], caller_is_admin=True).address == "10.0.0.2"
    assert allocate(services, subnet_id=subnet["id"], project_id="project-b").address == (
        "10.0.0.3"
    )


def test_accept_any_subnet_behaves_like_the_noop_driver(
    client: TestClient, services: Services
) -> None:
    subnet_id = str(uuid.uuid4())
    first = allocate(services, subnet_id=subnet_id, accept_any_subnet=True)
    second = allocate(services, subnet_id=subnet_id, accept_any_subnet=True)
    assert first.address == second.address == NOOP_VIP_ADDRESS
    assert first.subnet_id == subnet_id
    assert first.network_id == second.network_id != subnet_id
    uuid.UUID(first.network_id)
    assert first.port_id != second.port_id
    chosen = allocate(services, subnet_id=subnet_id, address="198.18.0.5", accept_any_subnet=True)
    assert chosen.address == "198.18.0.5"
    network_id = str(uuid.uuid4())
    by_network = allocate(services, network_id=network_id, accept_any_subnet=True)
    assert by_network.network_id == network_id
    port_id = str(uuid.uuid4())
    assert allocate(services, port_id=port_id, accept_any_subnet=True).port_id == port_id
    assert client.get(f"{BASE}/ports", headers=ADMIN).json() == {"ports": []}


def test_accept_any_subnet_still_allocates_on_real_subnets(
    services: Services,
    shared_subnet: dict[str, Any],
) -> None:
    vip = allocate(services, subnet_id=shared_subnet["id"], accept_any_subnet=True)
    assert (vip.address, vip.created_by_pier) == ("10.0.0.2", True)


def release_vip_in(services: Services, port_id: str | None, created_by_pier: bool) -> None:
    with transaction(services.sessions) as session:
        release_vip(session, port_id, created_by_pier)


def test_release_deletes_pier_ports_and_frees_the_address(
    client: TestClient,
    services: Services,
    shared_subnet: dict[str, Any],
) -> None:
    vip = allocate(services, subnet_id=shared_subnet["id"])
    release_vip_in(services, vip.port_id, created_by_pier=True)
    assert client.get(f"{BASE}/ports/{vip.port_id}", headers=ADMIN).status_code == 404
    assert allocate(services, subnet_id=shared_subnet["id"]).address == vip.address
    release_vip_in(services, vip.port_id, created_by_pier=True)
    release_vip_in(services, None, created_by_pier=True)


def test_release_only_detaches_user_ports(
    client: TestClient, services: Services, shared_subnet: dict[str, Any]
) -> None:
    port = create(client, "ports", {"network_id": shared_subnet["network_id"]}, ALICE)
    allocate(services, port_id=port["id"])
    release_vip_in(services, port["id"], created_by_pier=False)
    assert get_port(client, port["id"])["device_id"] == ""
    allocate(services, port_id=port["id"])
    release_vip_in(services, port["id"], created_by_pier=True)
    assert get_port(client, port["id"])["device_id"] == ""


def test_find_subnet(services: Services, shared_subnet: dict[str, Any]) -> None:
    with transaction(services.sessions) as session:
        found = find_subnet(session, shared_subnet["id"])
        assert found is not None and found.cidr == "10.0.0.0/24"
        assert find_subnet(session, str(uuid.uuid4())) is None


def test_vip_and_load_balancer_row_share_one_transaction(
    services: Services, shared_subnet: dict[str, Any]
) -> None:
    with pytest.raises(RuntimeError), transaction(services.sessions) as session:
        allocate_vip(
            session,
            project_id="project-a",
            subnet_id=shared_subnet["id"],
            network_id=None,
            port_id=None,
            address=None,
            loadbalancer_id=LB,
            accept_any_subnet=False,
        )
        raise RuntimeError("load balancer create failed later")
    with transaction(services.sessions) as session:
        assert session.query(Port).count() == 0
