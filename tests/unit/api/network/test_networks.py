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


def test_admin_creates_a_network_with_neutron_fields(client: TestClient) -> None:
    network = make_network(client, name="n1", shared=True, mtu=9000, description="d")
    assert network["name"] == "n1"
    assert network["project_id"] == network["tenant_id"] == "admin-project"
    assert network["shared"] is True
    assert network["router:external"] is False
    assert network["mtu"] == 9000
    assert network["status"] == "ACTIVE"
    assert network["subnets"] == []
    assert network["created_at"].endswith("Z")


def test_admin_may_create_for_another_project(client: TestClient) -> None:
    network = make_network(client, project_id="project-a")
    assert network["tenant_id"] == "project-a"
    assert client.get(f"{BASE}/networks/{network['id']}", headers=ALICE).status_code == 200


def test_members_may_not_create_update_or_delete_networks(client: TestClient) -> None:
    response = client.post(f"{BASE}/networks", json={"network": {"name": "x"}}, headers=ALICE)
    assert response.status_code == 403
    error = neutron_error(response)
    assert error["type"] == "PolicyNotAuthorized"
    assert error["message"] == "rule:create_network is disallowed by policy"
    network = make_network(client, project_id="project-a")
    url = f"{BASE}/networks/{network['id']}"
    assert client.put(url, json={"network": {"name": "y"}}, headers=ALICE).status_code == 403
    assert client.delete(url, headers=ALICE).status_code == 403


def test_show_lists_subnet_ids_and_unknown_ids_are_neutron_404s(client: TestClient) -> None:
    network = make_network(client)
    subnet = make_subnet(client, network["id"])
    shown = client.get(f"{BASE}/networks/{network['id']}", headers=ADMIN).json()["network"]
    assert shown["subnets"] == [subnet["id"]]
    response = client.get(f"{BASE}/networks/nope", headers=ADMIN)
    assert response.status_code == 404
    assert neutron_error(response) == {
        "type": "NetworkNotFound",
        "message": "Network nope could not be found.",
        "detail": "",
    }


def test_projects_see_their_own_shared_and_external_networks_only(client: TestClient) -> None:
    own = make_network(client, name="own", project_id="project-a")
    other = make_network(client, name="other", project_id="project-b")
    shared = make_network(client, name="shared", shared=True)
    external = make_network(client, name="ext", **{"router:external": True})
    private = make_network(client, name="private")

    def names(headers: dict[str, str]) -> set[str]:
        return {
            n["name"] for n in client.get(f"{BASE}/networks", headers=headers).json()["networks"]
        }

    assert names(ALICE) == {"own", "shared", "ext"}
    assert names(BOB) == {"other", "shared", "ext"}
    assert names(ADMIN) == {"own", "other", "shared", "ext", "private"}
    assert client.get(f"{BASE}/networks/{other['id']}", headers=ALICE).status_code == 404
    assert client.get(f"{BASE}/networks/{private['id']}", headers=ALICE).status_code == 404
    for visible in (own, shared, external):
        assert client.get(f"{BASE}/networks/{visible['id']}", headers=ALICE).status_code == 200


def test_list_filters_and_fields(client: TestClient) -> None:
    first = make_network(client, name="one")
    make_network(client, name="two", **{"router:external": True})
    make_network(client, name="three")
    url = f"{BASE}/networks"
    by_name = client.get(url, params={"name": "one"}, headers=ADMIN).json()["networks"]
    assert [n["id"] for n in by_name] == [first["id"]]
    by_id = client.get(url, params={"id": first["id"]}, headers=ADMIN).json()["networks"]
    assert [n["name"] for n in by_id] == ["one"]
    either = client.get(url, params=[("name", "one"), ("name", "two")], headers=ADMIN)
    assert {n["name"] for n in either.json()["networks"]} == {"one", "two"}
    external = client.get(url, params={"router:external": "true"}, headers=ADMIN)
    assert [n["name"] for n in external.json()["networks"]] == ["two"]
    fields = client.get(
        url, params=[("name", "one"), ("fields", "id"), ("fields", "name")], headers=ADMIN
    )
    assert fields.json() == {"networks": [{"id": first["id"], "name": "one"}]}
    ignored = client.get(url, params={"bogus": "x"}, headers=ADMIN)
    assert len(ignored.json()["networks"]) == 3
    shown = client.get(f"{url}/{first['id']}", params={"fields": "name"}, headers=ADMIN)
    assert shown.json() == {"network": {"name": "one"}}


def test_update_network(client: TestClient) -> None:
    network = make_network(client)
    url = f"{BASE}/networks/{network['id']}"
    response = client.put(
        url,
        json={"network": {"name": "renamed", "shared": True, "router:external": True}},
        headers=ADMIN,
    )
    assert response.status_code == 200
    updated = response.json()["network"]
    assert (updated["name"], updated["shared"], updated["router:external"]) == (
        "renamed",
        True,
        True,
    )
    assert updated["revision_number"] == network["revision_number"] + 1
    response = client.put(url, json={"network": {"id": "x"}}, headers=ADMIN)
    assert response.status_code == 400
    assert neutron_error(response)["message"] == "Cannot update read-only attribute id"


def test_bad_input_is_a_neutron_400(client: TestClient) -> None:
    response = client.post(
        f"{BASE}/networks", json={"network": {"admin_state_up": "maybe"}}, headers=ADMIN
    )
    assert response.status_code == 400
    assert neutron_error(response)["message"] == (
        "Invalid input for admin_state_up. Reason: 'maybe' cannot be converted to boolean."
    )
    response = client.post(f"{BASE}/networks", json={"net": {}}, headers=ADMIN)
    assert response.status_code == 400
    assert neutron_error(response)["message"] == "Unable to find 'network' in request body"
    response = client.post(f"{BASE}/networks", json={"network": {"mtu": 10}}, headers=ADMIN)
    assert response.status_code == 400


def test_delete_network_takes_its_subnets_but_refuses_while_ports_exist(
    client: TestClient,
) -> None:
    network = make_network(client, shared=True)
    subnet = make_subnet(client, network["id"])
    port = client.post(
        f"{BASE}/ports", json={"port": {"network_id": network["id"]}}, headers=ALICE
    ).json()["port"]
    url = f"{BASE}/networks/{network['id']}"
    response = client.delete(url, headers=ADMIN)
    assert response.status_code == 409
    assert neutron_error(response) == {
        "type": "NetworkInUse",
        "detail": "",
        "message": f"Unable to complete operation on network {network['id']}. "
        "There are one or more ports still in use on the network.",
    }
    assert client.delete(f"{BASE}/ports/{port['id']}", headers=ALICE).status_code == 204
    assert client.delete(url, headers=ADMIN).status_code == 204
    assert client.get(url, headers=ADMIN).status_code == 404
    assert client.get(f"{BASE}/subnets/{subnet['id']}", headers=ADMIN).status_code == 404
