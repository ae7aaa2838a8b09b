import pytest
from starlette.testclient import TestClient

from tests.unit.api.network.conftest import ALICE, BASE, make_network, make_subnet, neutron_error

COLLECTIONS = [
    "networks",
    "subnets",
    "ports",
    "floatingips",
    "security-groups",
    "security-group-rules",
    "qos/policies",
    "subnetpools",
]


def test_version_document_is_unauthenticated(client: TestClient) -> None:
    response = client.get("/network/")
    assert response.status_code == 200
    assert response.json() == {
        "versions": [
            {
                "id": "v2.0",
                "status": "CURRENT",
                "links": [{"href": "http://127.0.0.1:9876/network/v2.0/", "rel": "self"}],
            }
        ]
    }


def test_resources_and_extensions(client: TestClient) -> None:
    for path in (f"{BASE}", f"{BASE}/"):
        resources = client.get(path, headers=ALICE).json()["resources"]
        assert {r["collection"] for r in resources} >= {"networks", "subnets", "ports"}
    aliases = {
        e["alias"] for e in client.get(f"{BASE}/extensions", headers=ALICE).json()["extensions"]
    }
    assert {"external-net", "security-group", "project-id"} <= aliases
    assert "qos" not in aliases
    shown = client.get(f"{BASE}/extensions/external-net", headers=ALICE)
    assert shown.json()["extension"]["alias"] == "external-net"
    missing = client.get(f"{BASE}/extensions/qos", headers=ALICE)
    assert missing.status_code == 404
    assert neutron_error(missing)["type"] == "ExtensionNotFound"


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_collection_is_served_under_network_and_at_the_root(
    client: TestClient,
    collection: str,
) -> None:
    for prefix in ("/network/v2.0", "/v2.0", "/v2"):
        response = client.get(f"{prefix}/{collection}", headers=ALICE)
        assert response.status_code == 200, (prefix, response.text)
        assert list(response.json()) == [collection.split("/")[-1].replace("-", "_")]


def test_extensions_are_also_listed_at_the_root(client: TestClient) -> None:
    response = client.get("/v2.0/extensions", headers=ALICE)
    assert "external-net" in {e["alias"] for e in response.json()["extensions"]}


def test_the_mount_serves_only_v2_0(client: TestClient) -> None:
    assert client.get("/network/v2/networks", headers=ALICE).status_code == 404


def test_authentication_is_required(client: TestClient) -> None:
    assert client.get(f"{BASE}/networks").status_code == 401
    assert client.get("/v2.0/subnets").status_code == 401
    assert client.post(f"{BASE}/networks", content=b"{not json").status_code == 401


def test_qos_policies_and_subnetpools_are_always_empty(client: TestClient) -> None:
    response = client.get("/v2.0/qos/policies", params={"name": "gold"}, headers=ALICE)
    assert response.json() == {"policies": []}
    missing = client.get("/v2.0/qos/policies/gold", headers=ALICE)
    assert missing.status_code == 404
    assert neutron_error(missing) == {
        "type": "QosPolicyNotFound",
        "detail": "",
        "message": "QoS policy gold could not be found.",
    }
    pools = client.get(
        f"{BASE}/subnetpools", params={"name": "shared-default-subnetpool-v6"}, headers=ALICE
    )
    assert pools.json() == {"subnetpools": []}
    assert client.get(f"{BASE}/subnetpools/x", headers=ALICE).status_code == 404


def test_root_paths_share_data_and_neutron_error_shape(client: TestClient) -> None:
    network = make_network(client, **{"router:external": True})
    subnet = make_subnet(client, network["id"], name="sub1")
    by_name = client.get("/v2.0/subnets", params={"name": "sub1"}, headers=ALICE)
    assert [s["id"] for s in by_name.json()["subnets"]] == [subnet["id"]]
    missing = client.get("/v2.0/subnets/sub1", headers=ALICE)
    assert missing.status_code == 404
    assert neutron_error(missing)["type"] == "SubnetNotFound"


def test_unsupported_methods(client: TestClient) -> None:
    assert (
        client.post(f"{BASE}/qos/policies", json={"policy": {}}, headers=ALICE).status_code == 405
    )
    assert client.put(f"{BASE}/security-group-rules/x", json={}, headers=ALICE).status_code == 405
