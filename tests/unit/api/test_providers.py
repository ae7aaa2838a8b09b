"""`/v2/lbaas/providers` and the capability lists (spec §4.10, §5)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pier.api.services import Services
from pier.settings import PolicyRoles, Settings
from tests.support.app import api_client, as_project, make_services

URL = "/v2/lbaas/providers"
MEMBER, READER = as_project("p1"), as_project("p1", "reader")
ADMIN = as_project("admin-project", "admin")
LEGACY_ADMIN = as_project("p1", "load-balancer_admin")
FORBIDDEN = "Policy does not allow this request to be performed."
FLAVOR_KEYS = [
    "loadbalancer_topology",
    "compute_flavor",
    "amp_image_tag",
    "sriov_vip",
    "allow_member_sriov",
]
ZONE_KEYS = ["compute_zone", "volume_zone", "management_network", "valid_vip_networks"]


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path)


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with api_client(services) as client:
        yield client


def expect_error(response: Any, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"faultcode": "Client", "faultstring": message, "debuginfo": None}


@pytest.mark.parametrize("headers", [MEMBER, READER, ADMIN])
def test_list_providers(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get(URL, headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "providers": [
            {"name": "amphora", "description": "The Octavia Amphora driver."},
            {"name": "octavia", "description": "Deprecated alias of the Octavia Amphora driver."},
        ]
    }


def test_list_providers_needs_a_role_in_the_project(client: TestClient) -> None:
    expect_error(client.get(URL, headers=as_project("p1", "nothing")), 403, FORBIDDEN)


def test_list_providers_fields(client: TestClient) -> None:
    response = client.get(f"{URL}?fields=name", headers=MEMBER)
    assert response.json() == {"providers": [{"name": "amphora"}, {"name": "octavia"}]}


@pytest.mark.parametrize("provider", ["amphora", "octavia"])
def test_flavor_capabilities(client: TestClient, provider: str) -> None:
    response = client.get(f"{URL}/{provider}/flavor_capabilities", headers=ADMIN)
    assert response.status_code == 200
    capabilities = response.json()["flavor_capabilities"]
    assert [item["name"] for item in capabilities] == FLAVOR_KEYS
    assert capabilities[0] == {
        "name": "loadbalancer_topology",
        "description": "The load balancer topology. One of: SINGLE - One amphora per load "
        "balancer. ACTIVE_STANDBY - Two amphora per load balancer.",
    }
    assert {
        "name": "compute_flavor",
        "description": "The compute driver flavor ID.",
    } in capabilities


@pytest.mark.parametrize("provider", ["amphora", "octavia"])
def test_availability_zone_capabilities(client: TestClient, provider: str) -> None:
    response = client.get(f"{URL}/{provider}/availability_zone_capabilities", headers=ADMIN)
    assert response.status_code == 200
    capabilities = response.json()["availability_zone_capabilities"]
    assert [item["name"] for item in capabilities] == ZONE_KEYS
    assert {"name": "compute_zone", "description": "The compute availability zone."} in capabilities


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("flavor_capabilities", "flavor_capabilities"),
        ("availability_zone_capabilities", "availability_zone_capabilities"),
    ],
)
def test_capability_filters_and_fields(client: TestClient, kind: str, key: str) -> None:
    url = f"{URL}/amphora/{kind}"
    everything = client.get(url, headers=ADMIN).json()[key]
    second = everything[1]
    by_name = client.get(url, params={"name": second["name"]}, headers=ADMIN).json()[key]
    assert by_name == [second]
    by_description = client.get(
        url, params={"description": second["description"]}, headers=ADMIN
    ).json()[key]
    assert by_description == [second]
    both = client.get(
        url, params={"name": second["name"], "description": "other"}, headers=ADMIN
    ).json()[key]
    assert both == []
    assert client.get(url, params={"name": "nope"}, headers=ADMIN).json()[key] == []
    names = client.get(f"{url}?fields=name", headers=ADMIN).json()[key]
    assert names == [{"name": item["name"]} for item in everything]


@pytest.mark.parametrize("kind", ["flavor_capabilities", "availability_zone_capabilities"])
def test_unknown_provider_is_400(client: TestClient, kind: str) -> None:
    expect_error(
        client.get(f"{URL}/bogus/{kind}", headers=ADMIN), 400, "Provider 'bogus' is not enabled."
    )


@pytest.mark.parametrize("kind", ["flavor_capabilities", "availability_zone_capabilities"])
@pytest.mark.parametrize("headers", [MEMBER, READER])
def test_capabilities_are_admin_only(
    client: TestClient, kind: str, headers: dict[str, str]
) -> None:
    expect_error(client.get(f"{URL}/amphora/{kind}", headers=headers), 403, FORBIDDEN)
    # Authorization comes before the provider lookup.
    expect_error(client.get(f"{URL}/bogus/{kind}", headers=headers), 403, FORBIDDEN)


def test_legacy_admin_role_sees_capabilities(client: TestClient) -> None:
    response = client.get(f"{URL}/amphora/flavor_capabilities", headers=LEGACY_ADMIN)
    assert response.status_code == 200


def test_v2_0_prefix(client: TestClient) -> None:
    assert client.get("/v2.0/lbaas/providers", headers=MEMBER).status_code == 200


def test_advanced_policy_refuses_a_member_without_a_load_balancer_role(tmp_path: Path) -> None:
    services = make_services(tmp_path, Settings(policy_roles=PolicyRoles.ADVANCED))
    with api_client(services) as client:
        expect_error(client.get(URL, headers=MEMBER), 403, FORBIDDEN)
        lb_member = as_project("p1", "load-balancer_member", "member")
        assert client.get(URL, headers=lb_member).status_code == 200
