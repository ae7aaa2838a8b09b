from starlette.testclient import TestClient

from pier.api.network.bootstrap import ensure_public_network
from pier.api.network.vip import allocate_vip
from pier.api.services import Services
from pier.db.engine import transaction
from tests.unit.api.network.conftest import ADMIN, ALICE, BASE, BOB


def test_creates_an_external_network_every_project_sees(
    client: TestClient, services: Services
) -> None:
    ensure_public_network(services.sessions, services.settings)
    for headers in (ALICE, BOB):
        [network] = client.get(
            f"{BASE}/networks", params={"name": "public"}, headers=headers
        ).json()["networks"]
        assert network["router:external"] is True
        assert network["shared"] is False
        [subnet] = client.get(
            "/v2.0/subnets", params={"name": "public-subnet"}, headers=headers
        ).json()["subnets"]
        assert subnet["network_id"] == network["id"]
        assert subnet["cidr"] == "198.51.100.0/24"
        assert subnet["gateway_ip"] == "198.51.100.1"
        assert subnet["allocation_pools"] == [{"start": "198.51.100.2", "end": "198.51.100.254"}]
        assert network["subnets"] == [subnet["id"]]


def test_is_idempotent(client: TestClient, services: Services) -> None:
    ensure_public_network(services.sessions, services.settings)
    ensure_public_network(services.sessions, services.settings)
    assert len(client.get(f"{BASE}/networks", headers=ADMIN).json()["networks"]) == 1
    assert len(client.get(f"{BASE}/subnets", headers=ADMIN).json()["subnets"]) == 1


def test_restores_a_deleted_subnet_and_records_the_owner(
    client: TestClient, services: Services
) -> None:
    ensure_public_network(services.sessions, services.settings, project_id="admin-project")
    [subnet] = client.get(f"{BASE}/subnets", headers=ADMIN).json()["subnets"]
    assert subnet["project_id"] == "admin-project"
    assert client.delete(f"{BASE}/subnets/{subnet['id']}", headers=ADMIN).status_code == 204
    ensure_public_network(services.sessions, services.settings)
    assert len(client.get(f"{BASE}/subnets", headers=ADMIN).json()["subnets"]) == 1


def test_a_member_can_put_a_vip_on_public_subnet(client: TestClient, services: Services) -> None:
    ensure_public_network(services.sessions, services.settings)
    [subnet] = client.get(
        f"{BASE}/subnets", params={"name": "public-subnet"}, headers=ALICE
    ).json()["subnets"]
    with transaction(services.sessions) as session:
        vip = allocate_vip(
            session,
            project_id="project-a",
            subnet_id=subnet["id"],
            network_id=None,
            port_id=None,
            address=None,
            loadbalancer_id="lb-1",
            accept_any_subnet=False,
        )
    assert vip.address == "198.51.100.2"
    [port] = client.get(f"{BASE}/ports", headers=ALICE).json()["ports"]
    assert port["id"] == vip.port_id
