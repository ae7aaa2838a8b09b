import re
from typing import Any

from starlette.testclient import TestClient

from tests.unit.api.network.conftest import (
    ADMIN,
    ALICE,
    ALICE_READER,
    BASE,
    BOB,
    create,
    make_network,
    make_subnet,
    neutron_error,
)


def post_port(client: TestClient, body: dict[str, Any], headers: dict[str, str] = ALICE) -> Any:
    return client.post(f"{BASE}/ports", json={"port": body}, headers=headers)


def shared_subnet(client: TestClient, cidr: str = "10.0.0.0/24") -> dict[str, Any]:
    network = make_network(client, shared=True)
    return make_subnet(client, network["id"], cidr)


def test_member_creates_a_port_with_the_first_free_address(client: TestClient) -> None:
    subnet = shared_subnet(client)
    response = post_port(
        client,
        {
            "network_id": subnet["network_id"],
            "name": "p1",
            "device_id": "vm-1",
            "device_owner": "compute:nova",
        },
    )
    assert response.status_code == 201
    port = response.json()["port"]
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.0.0.2"}]
    assert port["project_id"] == port["tenant_id"] == "project-a"
    assert (port["name"], port["device_id"], port["device_owner"]) == ("p1", "vm-1", "compute:nova")
    assert re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", port["mac_address"])
    second = post_port(client, {"network_id": subnet["network_id"]}).json()["port"]
    assert second["fixed_ips"][0]["ip_address"] == "10.0.0.3"


def test_requested_addresses_and_their_errors(client: TestClient) -> None:
    subnet = shared_subnet(client)
    network_id = subnet["network_id"]
    by_address = post_port(
        client, {"network_id": network_id, "fixed_ips": [{"ip_address": "10.0.0.50"}]}
    )
    assert by_address.json()["port"]["fixed_ips"] == [
        {"subnet_id": subnet["id"], "ip_address": "10.0.0.50"}
    ]
    taken = post_port(
        client,
        {
            "network_id": network_id,
            "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.0.0.50"}],
        },
    )
    assert taken.status_code == 409
    assert neutron_error(taken) == {
        "type": "IpAddressInUse",
        "detail": "",
        "message": f"Unable to complete operation for network {network_id}. "
        "The IP address 10.0.0.50 is in use.",
    }
    gateway = post_port(
        client, {"network_id": network_id, "fixed_ips": [{"ip_address": "10.0.0.1"}]}
    )
    assert gateway.status_code == 409
    outside = post_port(
        client,
        {
            "network_id": network_id,
            "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.0.1.5"}],
        },
    )
    assert outside.status_code == 400
    assert neutron_error(outside)["message"] == (
        "IP address 10.0.1.5 is not a valid IP for the specified subnet."
    )
    nowhere = post_port(
        client, {"network_id": network_id, "fixed_ips": [{"ip_address": "192.168.0.1"}]}
    )
    assert nowhere.status_code == 400
    assert neutron_error(nowhere)["type"] == "InvalidIpForNetwork"
    wrong_subnet = post_port(
        client, {"network_id": network_id, "fixed_ips": [{"subnet_id": "nope"}]}
    )
    assert wrong_subnet.status_code == 400
    assert "invalid subnet nope" in neutron_error(wrong_subnet)["message"]


def test_a_slash_30_runs_out_with_a_clear_409(client: TestClient) -> None:
    subnet = shared_subnet(client, "10.0.0.0/30")
    assert subnet["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.2"}]
    assert post_port(client, {"network_id": subnet["network_id"]}).status_code == 201
    response = post_port(client, {"network_id": subnet["network_id"]})
    assert response.status_code == 409
    assert neutron_error(response) == {
        "type": "IpAddressGenerationFailure",
        "detail": "",
        "message": f"No more IP addresses available on network {subnet['network_id']}.",
    }


def test_freed_addresses_are_reused(client: TestClient) -> None:
    subnet = shared_subnet(client, "10.0.0.0/30")
    port = post_port(client, {"network_id": subnet["network_id"]}).json()["port"]
    assert client.delete(f"{BASE}/ports/{port['id']}", headers=ALICE).status_code == 204
    again = post_port(client, {"network_id": subnet["network_id"]})
    assert again.json()["port"]["fixed_ips"][0]["ip_address"] == "10.0.0.2"


def test_dual_stack_network_gives_one_address_per_version(client: TestClient) -> None:
    subnet4 = shared_subnet(client)
    subnet6 = make_subnet(client, subnet4["network_id"], "2001:db8::/64")
    port = post_port(client, {"network_id": subnet4["network_id"]}).json()["port"]
    assert port["fixed_ips"] == [
        {"subnet_id": subnet4["id"], "ip_address": "10.0.0.2"},
        {"subnet_id": subnet6["id"], "ip_address": "2001:db8::2"},
    ]


def test_network_without_subnets_gives_a_port_without_addresses(client: TestClient) -> None:
    network = make_network(client, shared=True)
    assert post_port(client, {"network_id": network["id"]}).json()["port"]["fixed_ips"] == []


def test_ports_are_private_to_their_project(client: TestClient) -> None:
    subnet = shared_subnet(client)
    mine = post_port(client, {"network_id": subnet["network_id"], "name": "mine"}).json()["port"]
    post_port(client, {"network_id": subnet["network_id"], "name": "theirs"}, BOB)
    assert [p["name"] for p in client.get(f"{BASE}/ports", headers=ALICE).json()["ports"]] == [
        "mine"
    ]
    assert len(client.get(f"{BASE}/ports", headers=ADMIN).json()["ports"]) == 2
    url = f"{BASE}/ports/{mine['id']}"
    assert client.get(url, headers=BOB).status_code == 404
    assert client.put(url, json={"port": {"name": "x"}}, headers=BOB).status_code == 404
    assert client.delete(url, headers=BOB).status_code == 404
    error = neutron_error(client.get(url, headers=BOB))
    assert error == {
        "type": "PortNotFound",
        "detail": "",
        "message": f"Port {mine['id']} could not be found.",
    }


def test_members_cannot_use_private_networks_of_other_projects(client: TestClient) -> None:
    network = make_network(client, project_id="project-b")
    response = post_port(client, {"network_id": network["id"]})
    assert response.status_code == 404
    assert neutron_error(response)["type"] == "NetworkNotFound"
    assert post_port(client, {"network_id": network["id"]}, BOB).status_code == 201


def test_readers_and_other_projects_cannot_create(client: TestClient) -> None:
    subnet = shared_subnet(client)
    response = post_port(client, {"network_id": subnet["network_id"]}, ALICE_READER)
    assert response.status_code == 403
    assert neutron_error(response)["type"] == "PolicyNotAuthorized"
    other = post_port(client, {"network_id": subnet["network_id"], "project_id": "project-b"})
    assert other.status_code == 403
    missing = post_port(client, {"name": "x"})
    assert missing.status_code == 400
    assert neutron_error(missing)["message"] == (
        "Failed to parse request. Required attribute 'network_id' not specified"
    )


def test_filters_ansible_and_osc_use(client: TestClient) -> None:
    subnet = shared_subnet(client)
    network_id = subnet["network_id"]
    first = post_port(client, {"network_id": network_id, "name": "a", "device_id": "lb-1"}).json()[
        "port"
    ]
    post_port(client, {"network_id": network_id, "name": "b"})

    def names(**params: str) -> list[str]:
        ports = client.get(f"{BASE}/ports", params=params, headers=ALICE).json()["ports"]
        return [port["name"] for port in ports]

    assert names(name="a") == ["a"]
    assert names(id=first["id"]) == ["a"]
    assert names(device_id="lb-1") == ["a"]
    assert names(device_id="") == ["b"]
    assert names(network_id=network_id) == ["a", "b"]
    assert names(fixed_ips="ip_address=10.0.0.3") == ["b"]


def test_update_port_fields_and_addresses(client: TestClient) -> None:
    subnet = shared_subnet(client)
    port = post_port(client, {"network_id": subnet["network_id"]}).json()["port"]
    url = f"{BASE}/ports/{port['id']}"
    response = client.put(
        url,
        json={
            "port": {
                "name": "renamed",
                "device_id": "d",
                "admin_state_up": False,
                "fixed_ips": [{"subnet_id": subnet["id"]}, {"ip_address": "10.0.0.77"}],
            }
        },
        headers=ALICE,
    )
    assert response.status_code == 200, response.text
    updated = response.json()["port"]
    assert (updated["name"], updated["device_id"], updated["admin_state_up"]) == (
        "renamed",
        "d",
        False,
    )
    assert updated["fixed_ips"] == [
        {"subnet_id": subnet["id"], "ip_address": "10.0.0.2"},
        {"subnet_id": subnet["id"], "ip_address": "10.0.0.77"},
    ]
    only_new = client.put(
        url, json={"port": {"fixed_ips": [{"ip_address": "10.0.0.77"}]}}, headers=ALICE
    ).json()["port"]
    assert only_new["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.0.0.77"}]
    reused = post_port(client, {"network_id": subnet["network_id"]}).json()["port"]
    assert reused["fixed_ips"][0]["ip_address"] == "10.0.0.2"
    read_only = client.put(url, json={"port": {"network_id": "x"}}, headers=ALICE)
    assert read_only.status_code == 400


def test_security_groups_on_ports_must_be_visible(client: TestClient) -> None:
    subnet = shared_subnet(client)
    group = create(client, "security-groups", {"name": "web"}, ALICE)
    port = post_port(
        client, {"network_id": subnet["network_id"], "security_groups": [group["id"]]}
    ).json()["port"]
    assert port["security_groups"] == [group["id"]]
    bobs = post_port(
        client, {"network_id": subnet["network_id"], "security_groups": [group["id"]]}, BOB
    )
    assert bobs.status_code == 404
    assert neutron_error(bobs)["type"] == "SecurityGroupNotFound"
    cleared = client.put(
        f"{BASE}/ports/{port['id']}", json={"port": {"security_groups": []}}, headers=ALICE
    )
    assert cleared.json()["port"]["security_groups"] == []
