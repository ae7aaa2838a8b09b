from typing import Any

from starlette.testclient import TestClient

from tests.unit.api.network.conftest import (
    ADMIN,
    ALICE,
    BASE,
    BOB,
    create,
    make_network,
    make_subnet,
    neutron_error,
)


def external_subnet(client: TestClient, cidr: str = "203.0.113.0/24") -> dict[str, Any]:
    network = make_network(client, name="ext", **{"router:external": True})
    return make_subnet(client, network["id"], cidr)


def project_port(client: TestClient, headers: dict[str, str] = ALICE) -> dict[str, Any]:
    network = make_network(client, shared=True)
    make_subnet(client, network["id"], "10.0.0.0/24")
    return create(client, "ports", {"network_id": network["id"]}, headers)


def post_fip(client: TestClient, body: dict[str, Any], headers: dict[str, str] = ALICE) -> Any:
    return client.post(f"{BASE}/floatingips", json={"floatingip": body}, headers=headers)


def test_create_allocates_from_the_external_subnet(client: TestClient) -> None:
    subnet = external_subnet(client)
    response = post_fip(client, {"floating_network_id": subnet["network_id"]})
    assert response.status_code == 201
    fip = response.json()["floatingip"]
    assert fip["floating_ip_address"] == "203.0.113.2"
    assert fip["floating_network_id"] == subnet["network_id"]
    assert fip["project_id"] == fip["tenant_id"] == "project-a"
    assert (fip["port_id"], fip["fixed_ip_address"], fip["status"]) == (None, None, "DOWN")
    second = post_fip(client, {"floating_network_id": subnet["network_id"]}).json()["floatingip"]
    assert second["floating_ip_address"] == "203.0.113.3"
    chosen = post_fip(
        client, {"floating_network_id": subnet["network_id"], "floating_ip_address": "203.0.113.99"}
    )
    assert chosen.json()["floatingip"]["floating_ip_address"] == "203.0.113.99"


def test_the_holding_port_is_hidden_and_cannot_be_deleted_directly(client: TestClient) -> None:
    subnet = external_subnet(client)
    fip = post_fip(client, {"floating_network_id": subnet["network_id"]}).json()["floatingip"]
    assert client.get(f"{BASE}/ports", headers=ALICE).json()["ports"] == []
    ports = client.get(f"{BASE}/ports", params={"device_id": fip["id"]}, headers=ADMIN)
    [port] = ports.json()["ports"]
    assert port["device_owner"] == "network:floatingip"
    response = client.delete(f"{BASE}/ports/{port['id']}", headers=ADMIN)
    assert response.status_code == 409
    assert neutron_error(response)["type"] == "ServicePortInUse"


def test_only_external_networks_give_floating_ips(client: TestClient) -> None:
    network = make_network(client, shared=True)
    make_subnet(client, network["id"])
    response = post_fip(client, {"floating_network_id": network["id"]})
    assert response.status_code == 400
    assert neutron_error(response)["message"] == (
        f"Bad floatingip request: Network {network['id']} is not a valid external network."
    )
    assert post_fip(client, {"floating_network_id": "nope"}).status_code == 404


def test_exhausted_external_network(client: TestClient) -> None:
    subnet = external_subnet(client, "203.0.113.0/30")
    assert post_fip(client, {"floating_network_id": subnet["network_id"]}).status_code == 201
    response = post_fip(client, {"floating_network_id": subnet["network_id"]})
    assert response.status_code == 400
    assert neutron_error(response) == {
        "type": "ExternalIpAddressExhausted",
        "detail": "",
        "message": f"Unable to find any IP address on external network {subnet['network_id']}.",
    }


def test_associate_and_disassociate(client: TestClient) -> None:
    subnet = external_subnet(client)
    port = project_port(client)
    fip = post_fip(client, {"floating_network_id": subnet["network_id"]}).json()["floatingip"]
    url = f"{BASE}/floatingips/{fip['id']}"
    response = client.put(url, json={"floatingip": {"port_id": port["id"]}}, headers=ALICE)
    assert response.status_code == 200, response.text
    associated = response.json()["floatingip"]
    assert associated["port_id"] == port["id"]
    assert associated["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert associated["status"] == "ACTIVE"
    found = client.get(
        f"{BASE}/floatingips",
        headers=ALICE,
        params={"fixed_ip_address": associated["fixed_ip_address"], "port_id": port["id"]},
    )
    assert [f["id"] for f in found.json()["floatingips"]] == [fip["id"]]
    response = client.put(url, json={"floatingip": {"port_id": None}}, headers=ALICE)
    cleared = response.json()["floatingip"]
    assert (cleared["port_id"], cleared["fixed_ip_address"], cleared["status"]) == (
        None,
        None,
        "DOWN",
    )


def test_ansible_lookup_with_no_floating_ips_is_an_empty_list(client: TestClient) -> None:
    response = client.get(
        "/network/v2.0/floatingips",
        headers=ALICE,
        params={"fixed_ip_address": "10.0.0.5", "port_id": "some-port"},
    )
    assert response.status_code == 200
    assert response.json() == {"floatingips": []}
    at_root = client.get(
        "/v2.0/floatingips",
        headers=ALICE,
        params={"fixed_ip_address": "10.0.0.5", "port_id": "some-port"},
    )
    assert at_root.json() == {"floatingips": []}


def test_create_associated_and_association_errors(client: TestClient) -> None:
    subnet = external_subnet(client)
    port = project_port(client)
    address = port["fixed_ips"][0]["ip_address"]
    first = post_fip(client, {"floating_network_id": subnet["network_id"], "port_id": port["id"]})
    assert first.json()["floatingip"]["fixed_ip_address"] == address
    second = post_fip(client, {"floating_network_id": subnet["network_id"], "port_id": port["id"]})
    assert second.status_code == 409
    assert neutron_error(second)["type"] == "FloatingIPPortAlreadyAssociated"
    wrong_ip = post_fip(
        client,
        {
            "floating_network_id": subnet["network_id"],
            "port_id": port["id"],
            "fixed_ip_address": "10.0.0.200",
        },
    )
    assert wrong_ip.status_code == 400
    assert neutron_error(wrong_ip)["message"] == (
        f"Bad floatingip request: Port {port['id']} does not have fixed ip 10.0.0.200"
    )
    bobs = post_fip(
        client, {"floating_network_id": subnet["network_id"], "port_id": port["id"]}, BOB
    )
    assert bobs.status_code == 404
    assert neutron_error(bobs)["type"] == "PortNotFound"


def test_deleting_the_port_disassociates(client: TestClient) -> None:
    subnet = external_subnet(client)
    port = project_port(client)
    fip = post_fip(
        client, {"floating_network_id": subnet["network_id"], "port_id": port["id"]}
    ).json()["floatingip"]
    assert client.delete(f"{BASE}/ports/{port['id']}", headers=ALICE).status_code == 204
    shown = client.get(f"{BASE}/floatingips/{fip['id']}", headers=ALICE).json()["floatingip"]
    assert (shown["port_id"], shown["fixed_ip_address"]) == (None, None)


def test_floating_ips_are_private_and_delete_frees_the_address(client: TestClient) -> None:
    subnet = external_subnet(client, "203.0.113.0/30")
    fip = post_fip(client, {"floating_network_id": subnet["network_id"]}).json()["floatingip"]
    url = f"{BASE}/floatingips/{fip['id']}"
    assert client.get(url, headers=BOB).status_code == 404
    assert neutron_error(client.get(url, headers=BOB))["type"] == "FloatingIPNotFound"
    assert client.get(f"{BASE}/floatingips", headers=BOB).json() == {"floatingips": []}
    assert client.delete(url, headers=BOB).status_code == 404
    assert client.delete(url, headers=ALICE).status_code == 204
    assert client.get(url, headers=ALICE).status_code == 404
    again = post_fip(client, {"floating_network_id": subnet["network_id"]}, BOB)
    assert again.json()["floatingip"]["floating_ip_address"] == "203.0.113.2"
