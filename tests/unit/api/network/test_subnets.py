from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.unit.api.network.conftest import (
    ADMIN,
    ALICE,
    BASE,
    BOB,
    make_network,
    make_subnet,
    neutron_error,
)


def post_subnet(client: TestClient, body: dict[str, Any], headers: dict[str, str] = ADMIN) -> Any:
    return client.post(f"{BASE}/subnets", json={"subnet": body}, headers=headers)


def test_defaults_gateway_first_host_and_pool_the_rest(client: TestClient) -> None:
    network = make_network(client)
    subnet = make_subnet(client, network["id"], "10.1.1.0/24", name="sub1")
    assert subnet["name"] == "sub1"
    assert subnet["network_id"] == network["id"]
    assert subnet["ip_version"] == 4
    assert subnet["cidr"] == "10.1.1.0/24"
    assert subnet["gateway_ip"] == "10.1.1.1"
    assert subnet["allocation_pools"] == [{"start": "10.1.1.2", "end": "10.1.1.254"}]
    assert subnet["enable_dhcp"] is True
    assert subnet["project_id"] == subnet["tenant_id"] == "admin-project"


def test_explicit_gateway_pools_dns_and_routes(client: TestClient) -> None:
    network = make_network(client)
    subnet = make_subnet(
        client,
        network["id"],
        "10.2.0.0/24",
        gateway_ip="10.2.0.254",
        allocation_pools=[{"start": "10.2.0.10", "end": "10.2.0.20"}],
        dns_nameservers=["8.8.8.8"],
        enable_dhcp=False,
        host_routes=[{"destination": "0.0.0.0/0", "nexthop": "10.2.0.254"}],
    )
    assert subnet["gateway_ip"] == "10.2.0.254"
    assert subnet["allocation_pools"] == [{"start": "10.2.0.10", "end": "10.2.0.20"}]
    assert subnet["dns_nameservers"] == ["8.8.8.8"]
    assert subnet["host_routes"] == [{"destination": "0.0.0.0/0", "nexthop": "10.2.0.254"}]
    assert subnet["enable_dhcp"] is False


def test_null_gateway_leaves_the_whole_range_to_the_pool(client: TestClient) -> None:
    network = make_network(client)
    subnet = make_subnet(client, network["id"], "10.3.0.0/29", gateway_ip=None)
    assert subnet["gateway_ip"] is None
    assert subnet["allocation_pools"] == [{"start": "10.3.0.1", "end": "10.3.0.6"}]


def test_ipv6_subnet(client: TestClient) -> None:
    network = make_network(client)
    subnet = make_subnet(client, network["id"], "2001:db8:1::/64")
    assert subnet["ip_version"] == 6
    assert subnet["gateway_ip"] == "2001:db8:1::1"
    assert subnet["allocation_pools"] == [
        {"start": "2001:db8:1::2", "end": "2001:db8:1:0:ffff:ffff:ffff:ffff"}
    ]


@pytest.mark.parametrize(
    ("fields", "status", "kind", "message"),
    [
        (
            {"cidr": "10.0.0.0/33"},
            400,
            "HTTPBadRequest",
            "Invalid input for cidr. Reason: '10.0.0.0/33' is not a valid IP subnet.",
        ),
        (
            {"cidr": "10.0.0.9/24"},
            400,
            "HTTPBadRequest",
            "Invalid input for cidr. Reason: '10.0.0.9/24' isn't a recognized IP subnet cidr, "
            "'10.0.0.0/24' is recommended.",
        ),
        (
            {"cidr": None},
            400,
            "HTTPBadRequest",
            "Failed to parse request. Required attribute 'cidr' not specified",
        ),
        (
            {"ip_version": 6},
            400,
            "InvalidInput",
            "Invalid input for operation: Cidr 10.0.0.0/24 does not match ip_version 6.",
        ),
        (
            {"ip_version": 5},
            400,
            "HTTPBadRequest",
            "Invalid input for ip_version. Reason: '5' is not in [4, 6].",
        ),
        (
            {"gateway_ip": "10.9.9.9"},
            400,
            "InvalidInput",
            "Invalid input for operation: Gateway is not valid on subnet.",
        ),
        (
            {"allocation_pools": [{"start": "10.0.0.5", "end": "10.0.1.5"}]},
            400,
            "OutOfBoundsAllocationPool",
            "The allocation pool 10.0.0.5-10.0.1.5 spans beyond the subnet cidr 10.0.0.0/24.",
        ),
        (
            {
                "gateway_ip": "10.0.0.7",
                "allocation_pools": [{"start": "10.0.0.5", "end": "10.0.0.9"}],
            },
            409,
            "GatewayConflictWithAllocationPools",
            "Gateway ip 10.0.0.7 conflicts with allocation pool 10.0.0.5-10.0.0.9.",
        ),
        (
            {"dns_nameservers": ["not-an-ip"]},
            400,
            "HTTPBadRequest",
            "Invalid input for dns_nameservers. Reason: 'not-an-ip' is not a valid IP address.",
        ),
    ],
)
def test_validation_errors_in_neutron_shape(
    client: TestClient, fields: dict[str, Any], status: int, kind: str, message: str
) -> None:
    network = make_network(client)
    body = {"network_id": network["id"], "cidr": "10.0.0.0/24", "ip_version": 4, **fields}
    response = post_subnet(client, body)
    assert response.status_code == status
    assert neutron_error(response) == {"type": kind, "message": message, "detail": ""}


def test_unknown_network_and_overlap(client: TestClient) -> None:
    response = post_subnet(client, {"network_id": "nope", "cidr": "10.0.0.0/24"})
    assert response.status_code == 404
    assert neutron_error(response)["type"] == "NetworkNotFound"
    network = make_network(client)
    make_subnet(client, network["id"], "10.0.0.0/24")
    response = post_subnet(client, {"network_id": network["id"], "cidr": "10.0.0.128/25"})
    assert response.status_code == 400
    assert neutron_error(response)["message"] == (
        f"Invalid input for operation: Requested subnet with cidr: 10.0.0.128/25 for network: "
        f"{network['id']} overlaps with another subnet."
    )


def test_only_admins_write_subnets(client: TestClient) -> None:
    network = make_network(client, project_id="project-a")
    response = post_subnet(client, {"network_id": network["id"], "cidr": "10.0.0.0/24"}, ALICE)
    assert response.status_code == 403
    assert neutron_error(response)["message"] == "rule:create_subnet is disallowed by policy"
    subnet = make_subnet(client, network["id"])
    url = f"{BASE}/subnets/{subnet['id']}"
    assert client.put(url, json={"subnet": {"name": "x"}}, headers=ALICE).status_code == 403
    assert client.delete(url, headers=ALICE).status_code == 403


def test_visibility_follows_the_network(client: TestClient) -> None:
    private = make_network(client, project_id="project-b")
    external = make_network(client, **{"router:external": True})
    hidden = make_subnet(client, private["id"], "10.0.0.0/24", name="hidden")
    public = make_subnet(client, external["id"], "10.5.0.0/24", name="public-sub")
    listed = client.get(f"{BASE}/subnets", headers=ALICE).json()["subnets"]
    assert [s["name"] for s in listed] == ["public-sub"]
    assert client.get(f"{BASE}/subnets/{hidden['id']}", headers=ALICE).status_code == 404
    assert client.get(f"{BASE}/subnets/{public['id']}", headers=ALICE).status_code == 200
    assert {s["name"] for s in client.get(f"{BASE}/subnets", headers=BOB).json()["subnets"]} == {
        "hidden",
        "public-sub",
    }


def test_lookup_by_name_then_id_like_osc_and_ansible(client: TestClient) -> None:
    network = make_network(client, **{"router:external": True})
    subnet = make_subnet(client, network["id"], name="sub1")
    make_subnet(client, network["id"], "10.9.0.0/24", name="sub2")
    missing = client.get(f"{BASE}/subnets/sub1", headers=ALICE)
    assert missing.status_code == 404
    assert neutron_error(missing) == {
        "type": "SubnetNotFound",
        "detail": "",
        "message": "Subnet sub1 could not be found.",
    }
    by_name = client.get(f"{BASE}/subnets", params={"name": "sub1"}, headers=ALICE)
    assert [s["id"] for s in by_name.json()["subnets"]] == [subnet["id"]]
    by_id = client.get(f"{BASE}/subnets", params={"id": subnet["id"]}, headers=ALICE)
    assert [s["name"] for s in by_id.json()["subnets"]] == ["sub1"]
    by_network = client.get(f"{BASE}/subnets", params={"network_id": network["id"]}, headers=ALICE)
    assert len(by_network.json()["subnets"]) == 2


def test_update_subnet_pools_gateway_and_read_only_fields(client: TestClient) -> None:
    network = make_network(client)
    subnet = make_subnet(client, network["id"], "10.0.0.0/24")
    url = f"{BASE}/subnets/{subnet['id']}"
    response = client.put(
        url,
        json={
            "subnet": {
                "name": "renamed",
                "gateway_ip": "10.0.0.254",
                "dns_nameservers": ["1.1.1.1"],
                "allocation_pools": [{"start": "10.0.0.100", "end": "10.0.0.200"}],
            }
        },
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    updated = response.json()["subnet"]
    assert updated["name"] == "renamed"
    assert updated["gateway_ip"] == "10.0.0.254"
    assert updated["allocation_pools"] == [{"start": "10.0.0.100", "end": "10.0.0.200"}]
    assert updated["dns_nameservers"] == ["1.1.1.1"]
    conflict = client.put(url, json={"subnet": {"gateway_ip": "10.0.0.150"}}, headers=ADMIN)
    assert conflict.status_code == 409
    read_only = client.put(url, json={"subnet": {"cidr": "10.1.0.0/24"}}, headers=ADMIN)
    assert read_only.status_code == 400
    assert neutron_error(read_only)["message"] == "Cannot update read-only attribute cidr"
    cleared = client.put(url, json={"subnet": {"dns_nameservers": []}}, headers=ADMIN)
    assert cleared.json()["subnet"]["dns_nameservers"] == []


def test_gateway_cannot_move_onto_an_allocated_address(client: TestClient) -> None:
    network = make_network(client)
    subnet = make_subnet(client, network["id"], "10.0.0.0/24")
    port = client.post(
        f"{BASE}/ports", json={"port": {"network_id": network["id"]}}, headers=ADMIN
    ).json()["port"]
    address = port["fixed_ips"][0]["ip_address"]
    response = client.put(
        f"{BASE}/subnets/{subnet['id']}",
        json={
            "subnet": {
                "gateway_ip": address,
                "allocation_pools": [{"start": "10.0.0.100", "end": "10.0.0.200"}],
            }
        },
        headers=ADMIN,
    )
    assert response.status_code == 409
    assert neutron_error(response)["message"] == (
        f"Current gateway ip {address} already in use by port {port['id']}. Unable to update."
    )


def test_delete_refuses_while_ports_hold_addresses(client: TestClient) -> None:
    network = make_network(client)
    subnet = make_subnet(client, network["id"])
    port = client.post(
        f"{BASE}/ports", json={"port": {"network_id": network["id"]}}, headers=ADMIN
    ).json()["port"]
    url = f"{BASE}/subnets/{subnet['id']}"
    response = client.delete(url, headers=ADMIN)
    assert response.status_code == 409
    assert neutron_error(response) == {
        "type": "SubnetInUse",
        "detail": "",
        "message": f"Unable to complete operation on subnet {subnet['id']}: "
        "One or more ports have an IP allocation from this subnet.",
    }
    assert client.delete(f"{BASE}/ports/{port['id']}", headers=ADMIN).status_code == 204
    assert client.delete(url, headers=ADMIN).status_code == 204
    assert client.get(url, headers=ADMIN).status_code == 404
    network_now = client.get(f"{BASE}/networks/{network['id']}", headers=ADMIN).json()
    assert network_now["network"]["subnets"] == []
