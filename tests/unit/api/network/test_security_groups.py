from starlette.testclient import TestClient

from tests.unit.api.network.conftest import (
    ADMIN,
    ALICE,
    BASE,
    BOB,
    create,
    make_network,
    neutron_error,
)


def test_member_creates_a_group_with_default_egress_rules(client: TestClient) -> None:
    group = create(client, "security-groups", {"name": "web", "description": "d"}, ALICE)
    assert (group["name"], group["description"], group["tenant_id"]) == ("web", "d", "project-a")
    rules = group["security_group_rules"]
    assert {(r["direction"], r["ethertype"]) for r in rules} == {
        ("egress", "IPv4"),
        ("egress", "IPv6"),
    }
    listed = client.get(f"{BASE}/security-groups", params={"name": "web"}, headers=ALICE)
    assert [g["id"] for g in listed.json()["security_groups"]] == [group["id"]]


def test_groups_are_private_to_their_project(client: TestClient) -> None:
    group = create(client, "security-groups", {"name": "web"}, ALICE)
    url = f"{BASE}/security-groups/{group['id']}"
    assert client.get(f"{BASE}/security-groups", headers=BOB).json() == {"security_groups": []}
    response = client.get(url, headers=BOB)
    assert response.status_code == 404
    assert neutron_error(response) == {
        "type": "SecurityGroupNotFound",
        "detail": "",
        "message": f"Security group {group['id']} does not exist",
    }
    assert client.get(url, headers=ADMIN).status_code == 200


def test_update_and_delete_group(client: TestClient) -> None:
    group = create(client, "security-groups", {"name": "web"}, ALICE)
    url = f"{BASE}/security-groups/{group['id']}"
    updated = client.put(url, json={"security_group": {"name": "app"}}, headers=ALICE)
    assert updated.json()["security_group"]["name"] == "app"
    assert client.delete(url, headers=ALICE).status_code == 204
    assert client.get(url, headers=ALICE).status_code == 404
    rules = client.get(f"{BASE}/security-group-rules", headers=ADMIN).json()
    assert rules == {"security_group_rules": []}


def test_a_group_in_use_cannot_be_deleted(client: TestClient) -> None:
    network = make_network(client, shared=True)
    group = create(client, "security-groups", {"name": "web"}, ALICE)
    create(client, "ports", {"network_id": network["id"], "security_groups": [group["id"]]}, ALICE)
    response = client.delete(f"{BASE}/security-groups/{group['id']}", headers=ALICE)
    assert response.status_code == 409
    assert neutron_error(response) == {
        "type": "SecurityGroupInUse",
        "detail": "",
        "message": f"Security Group {group['id']} in use.",
    }


def test_rules_create_list_show_delete(client: TestClient) -> None:
    group = create(client, "security-groups", {"name": "web"}, ALICE)
    rule = create(
        client,
        "security-group-rules",
        {
            "security_group_id": group["id"],
            "direction": "ingress",
            "protocol": "TCP",
            "port_range_min": 80,
            "port_range_max": 443,
            "remote_ip_prefix": "10.0.0.1/8",
        },
        ALICE,
    )
    assert rule["protocol"] == "tcp"
    assert rule["remote_ip_prefix"] == "10.0.0.0/8"
    assert (rule["port_range_min"], rule["port_range_max"]) == (80, 443)
    url = f"{BASE}/security-group-rules/{rule['id']}"
    assert client.get(url, headers=ALICE).json()["security_group_rule"]["id"] == rule["id"]
    assert client.get(url, headers=BOB).status_code == 404
    listed = client.get(
        f"{BASE}/security-group-rules",
        params={"security_group_id": group["id"], "direction": "ingress"},
        headers=ALICE,
    )
    assert [r["id"] for r in listed.json()["security_group_rules"]] == [rule["id"]]
    shown = client.get(f"{BASE}/security-groups/{group['id']}", headers=ALICE).json()
    assert len(shown["security_group"]["security_group_rules"]) == 3
    assert client.delete(url, headers=ALICE).status_code == 204
    assert client.get(url, headers=ALICE).status_code == 404


def test_rule_validation(client: TestClient) -> None:
    group = create(client, "security-groups", {"name": "web"}, ALICE)

    def post(**fields: object) -> dict[str, str]:
        response = client.post(
            f"{BASE}/security-group-rules",
            headers=ALICE,
            json={
                "security_group_rule": {
                    "security_group_id": group["id"],
                    "direction": "ingress",
                    **fields,
                }
            },
        )
        assert response.status_code in (400, 404, 409), response.text
        return neutron_error(response)

    assert post(direction="sideways")["message"] == (
        "Invalid input for direction. Reason: 'sideways' is not in ['ingress', 'egress']."
    )
    assert post(protocol="bogus")["type"] == "SecurityGroupRuleInvalidProtocol"
    assert post(port_range_min=80)["type"] == "SecurityGroupProtocolRequiredWithPorts"
    assert post(protocol="tcp", port_range_min=90, port_range_max=80)["type"] == (
        "SecurityGroupInvalidPortRange"
    )
    assert post(remote_ip_prefix="2001:db8::/64")["type"] == ("SecurityGroupRuleParameterConflict")
    assert post(remote_group_id="nope")["type"] == "SecurityGroupNotFound"
    assert post(direction="egress")["type"] == "SecurityGroupRuleExists"
    assert post(security_group_id="nope")["type"] == "SecurityGroupNotFound"


def test_bob_cannot_add_rules_to_alices_group(client: TestClient) -> None:
    group = create(client, "security-groups", {"name": "web"}, ALICE)
    response = client.post(
        f"{BASE}/security-group-rules",
        headers=BOB,
        json={"security_group_rule": {"security_group_id": group["id"], "direction": "ingress"}},
    )
    assert response.status_code == 404
