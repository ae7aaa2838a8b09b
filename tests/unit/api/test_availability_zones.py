"""`/v2/lbaas/availabilityzones` and `/v2/lbaas/availabilityzoneprofiles` (spec §4.12, §5)."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from pier.api.services import Services
from pier.db.engine import transaction
from pier.db.tables import AvailabilityZone, AvailabilityZoneProfile
from pier.settings import Settings
from tests.support.app import api_client, as_project, converge, make_services

PROFILES, ZONES = "/v2/lbaas/availabilityzoneprofiles", "/v2/lbaas/availabilityzones"
MEMBER, READER = as_project("p1"), as_project("p1", "reader")
ADMIN = as_project("admin-project", "admin")
FORBIDDEN = "Policy does not allow this request to be performed."
NIL = "00000000-0000-0000-0000-000000000000"
DATA = json.dumps({"compute_zone": "nova"})
UNSUPPORTED = "Provider 'amphora' does not support a requested option: "


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path, settings=Settings(accept_any_subnet=True))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with api_client(services) as client:
        yield client


def expect_error(response: Any, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"faultcode": "Client", "faultstring": message, "debuginfo": None}


def make_profile(
    client: TestClient, name: str = "azp", provider: str = "amphora", data: str = DATA
) -> dict[str, Any]:
    body = {
        "availability_zone_profile": {
            "name": name,
            "provider_name": provider,
            "availability_zone_data": data,
        }
    }
    response = client.post(PROFILES, json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["availability_zone_profile"]
    return result


def make_zone(
    client: TestClient, profile_id: str, name: str = "az1", **fields: Any
) -> dict[str, Any]:
    body = {
        "availability_zone": {"name": name, "availability_zone_profile_id": profile_id, **fields}
    }
    response = client.post(ZONES, json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["availability_zone"]
    return result


def count(services: Services, table: Any) -> int:
    with transaction(services.sessions, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


# --- profiles ---------------------------------------------------------------------------------


def test_profile_create_and_show(client: TestClient) -> None:
    data = json.dumps(
        {
            "compute_zone": "a",
            "volume_zone": "b",
            "management_network": "n",
            "valid_vip_networks": ["x", "y"],
        }
    )
    profile = make_profile(client, data=data)
    uuid.UUID(profile["id"])
    assert profile == {
        "id": profile["id"],
        "name": "azp",
        "provider_name": "amphora",
        "availability_zone_data": data,
    }
    shown = client.get(f"{PROFILES}/{profile['id']}", headers=ADMIN)
    assert shown.json() == {"availability_zone_profile": profile}
    assert make_profile(client, provider="octavia", data="{}")["provider_name"] == "octavia"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("zone", "zone is not a valid option for availability_zone_data"),
        ("[]", UNSUPPORTED + "[] is not of type 'object'"),
        (
            '{"compute_flavor": "x"}',
            UNSUPPORTED + "Additional properties are not allowed ('compute_flavor' was unexpected)",
        ),
        (
            '{"valid_vip_networks": "net"}',
            UNSUPPORTED + "valid_vip_networks 'net' is not of type 'array'",
        ),
        ('{"compute_zone": 3}', UNSUPPORTED + "compute_zone 3 is not of type 'string'"),
    ],
)
def test_profile_data_validation(
    client: TestClient, services: Services, data: str, message: str
) -> None:
    body = {
        "availability_zone_profile": {
            "name": "p",
            "provider_name": "amphora",
            "availability_zone_data": data,
        }
    }
    expect_error(client.post(PROFILES, json=body, headers=ADMIN), 400, message)
    assert count(services, AvailabilityZoneProfile) == 0


def test_profile_provider_and_required_fields(client: TestClient, services: Services) -> None:
    body: dict[str, Any] = {"name": "p", "provider_name": "bogus", "availability_zone_data": "{}"}
    expect_error(
        client.post(PROFILES, json={"availability_zone_profile": body}, headers=ADMIN),
        400,
        "Provider 'bogus' is not enabled.",
    )
    del body["provider_name"]
    expect_error(
        client.post(PROFILES, json={"availability_zone_profile": body}, headers=ADMIN),
        400,
        "Invalid input for field/attribute provider_name. Value: 'Unset'. Mandatory field missing.",
    )
    expect_error(
        client.post(PROFILES, json={"profile": body}, headers=ADMIN),
        400,
        "Unknown attributes for argument availability_zone_profile_: profile",
    )
    assert count(services, AvailabilityZoneProfile) == 0


@pytest.mark.parametrize("headers", [MEMBER, READER])
def test_profiles_are_admin_only(
    client: TestClient, services: Services, headers: dict[str, str]
) -> None:
    profile = make_profile(client)
    url = f"{PROFILES}/{profile['id']}"
    body = {
        "availability_zone_profile": {
            "name": "x",
            "provider_name": "amphora",
            "availability_zone_data": "{}",
        }
    }
    expect_error(client.post(PROFILES, json=body, headers=headers), 403, FORBIDDEN)
    expect_error(client.get(PROFILES, headers=headers), 403, FORBIDDEN)
    expect_error(client.get(url, headers=headers), 403, FORBIDDEN)
    expect_error(
        client.put(url, json={"availability_zone_profile": {"name": "y"}}, headers=headers),
        403,
        FORBIDDEN,
    )
    expect_error(client.delete(url, headers=headers), 403, FORBIDDEN)
    assert count(services, AvailabilityZoneProfile) == 1


def test_profile_not_found(client: TestClient) -> None:
    for ident in (str(uuid.uuid4()), NIL):
        message = f"Availability Zone Profile {ident} not found."
        expect_error(client.get(f"{PROFILES}/{ident}", headers=ADMIN), 404, message)
        expect_error(
            client.put(
                f"{PROFILES}/{ident}",
                json={"availability_zone_profile": {"name": "n"}},
                headers=ADMIN,
            ),
            404,
            message,
        )
        expect_error(client.delete(f"{PROFILES}/{ident}", headers=ADMIN), 404, message)


def test_profile_update_and_rejections(client: TestClient) -> None:
    profile = make_profile(client)
    url = f"{PROFILES}/{profile['id']}"
    for change, message in (
        ({"name": None}, "None is not a valid option for name"),
        ({"availability_zone_data": None}, "None is not a valid option for availability_zone_data"),
        (
            {"availability_zone_data": '{"x": 1}'},
            UNSUPPORTED + "Additional properties are not allowed ('x' was unexpected)",
        ),
        ({"provider_name": "bogus"}, "Provider 'bogus' is not enabled."),
    ):
        response = client.put(url, json={"availability_zone_profile": change}, headers=ADMIN)
        expect_error(response, 400, message)
    assert client.get(url, headers=ADMIN).json()["availability_zone_profile"] == profile
    change = {"name": "new", "availability_zone_data": "{}", "provider_name": "octavia"}
    response = client.put(url, json={"availability_zone_profile": change}, headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {"availability_zone_profile": {"id": profile["id"], **change}}


def test_profile_in_use(client: TestClient, services: Services) -> None:
    profile = make_profile(client)
    make_zone(client, profile["id"])
    url = f"{PROFILES}/{profile['id']}"
    message = f"Availability Zone Profile {profile['id']} is in use and cannot be modified."
    for change in ({"availability_zone_data": "{}"}, {"provider_name": "octavia"}):
        expect_error(
            client.put(url, json={"availability_zone_profile": change}, headers=ADMIN), 409, message
        )
    expect_error(client.delete(url, headers=ADMIN), 409, message)
    assert count(services, AvailabilityZoneProfile) == 1
    renamed = client.put(url, json={"availability_zone_profile": {"name": "r"}}, headers=ADMIN)
    assert renamed.json()["availability_zone_profile"]["name"] == "r"


def test_profile_delete_and_list(client: TestClient) -> None:
    made = [make_profile(client, name=name) for name in ("b", "a", "c")]
    by_id = sorted(made, key=lambda profile: profile["id"])
    listed = client.get(PROFILES, headers=ADMIN).json()
    assert listed == {"availability_zone_profiles": by_id, "availability_zone_profile_links": []}
    names = client.get(f"{PROFILES}?sort=name:desc&fields=name", headers=ADMIN).json()
    assert names["availability_zone_profiles"] == [{"name": "c"}, {"name": "b"}, {"name": "a"}]
    assert client.get(f"{PROFILES}?name=a", headers=ADMIN).json()["availability_zone_profiles"] == [
        made[1]
    ]
    page = client.get(f"{PROFILES}?limit=1", headers=ADMIN).json()
    assert page["availability_zone_profile_links"][0]["rel"] == "next"
    response = client.delete(f"{PROFILES}/{made[0]['id']}", headers=ADMIN)
    assert response.status_code == 204 and response.content == b""
    assert len(client.get(PROFILES, headers=ADMIN).json()["availability_zone_profiles"]) == 2


# --- zones ------------------------------------------------------------------------------------


def test_zone_create_shape_and_show_by_name(client: TestClient) -> None:
    profile = make_profile(client)
    zone = make_zone(client, profile["id"])
    assert zone == {
        "name": "az1",
        "description": "",
        "enabled": True,
        "availability_zone_profile_id": profile["id"],
    }
    shown = client.get(f"{ZONES}/az1", headers=MEMBER)
    assert shown.status_code == 200 and shown.json() == {"availability_zone": zone}
    fields = client.get(f"{ZONES}/az1?fields=enabled", headers=READER).json()
    assert fields == {"availability_zone": {"enabled": True}}
    other = make_zone(client, profile["id"], name="az2", description="d", enabled=False)
    assert (other["description"], other["enabled"]) == ("d", False)


def test_zone_name_is_unique_and_profile_must_exist(client: TestClient, services: Services) -> None:
    profile = make_profile(client)
    make_zone(client, profile["id"])
    body = {"availability_zone": {"name": "az1", "availability_zone_profile_id": profile["id"]}}
    expect_error(
        client.post(ZONES, json=body, headers=ADMIN),
        409,
        "A availability zone of az1 already exists.",
    )
    missing = str(uuid.uuid4())
    body = {"availability_zone": {"name": "az9", "availability_zone_profile_id": missing}}
    expect_error(
        client.post(ZONES, json=body, headers=ADMIN),
        400,
        f"Availability Zone Profile {missing} not found.",
    )
    expect_error(
        client.post(ZONES, json={"availability_zone": {"name": "az9"}}, headers=ADMIN),
        400,
        "Invalid input for field/attribute availability_zone_profile_id. "
        "Value: 'Unset'. Mandatory field missing.",
    )
    assert count(services, AvailabilityZone) == 1


@pytest.mark.parametrize("headers", [MEMBER, READER])
def test_zone_writes_are_admin_only_reads_are_not(
    client: TestClient, services: Services, headers: dict[str, str]
) -> None:
    profile = make_profile(client)
    zone = make_zone(client, profile["id"])
    body = {"availability_zone": {"name": "az2", "availability_zone_profile_id": profile["id"]}}
    expect_error(client.post(ZONES, json=body, headers=headers), 403, FORBIDDEN)
    expect_error(
        client.put(f"{ZONES}/az1", json={"availability_zone": {"enabled": False}}, headers=headers),
        403,
        FORBIDDEN,
    )
    expect_error(client.delete(f"{ZONES}/az1", headers=headers), 403, FORBIDDEN)
    assert client.get(ZONES, headers=headers).json()["availability_zones"] == [zone]
    assert count(services, AvailabilityZone) == 1


def test_zone_update(client: TestClient) -> None:
    profile = make_profile(client)
    make_zone(client, profile["id"], description="before")
    response = client.put(
        f"{ZONES}/az1",
        json={"availability_zone": {"description": "after", "enabled": "false"}},
        headers=ADMIN,
    )
    assert response.status_code == 200
    expected = {
        "name": "az1",
        "description": "after",
        "enabled": False,
        "availability_zone_profile_id": profile["id"],
    }
    assert response.json() == {"availability_zone": expected}
    for change, message in (
        (
            {"name": "az2"},
            "Unknown attribute for argument availability_zone_.availability_zone: name",
        ),
        (
            {"availability_zone_profile_id": profile["id"]},
            "Unknown attribute for argument availability_zone_.availability_zone: "
            "availability_zone_profile_id",
        ),
        (
            {"enabled": None},
            "Invalid input for field/attribute enabled. Value: 'None'. Value may not be null",
        ),
    ):
        expect_error(
            client.put(f"{ZONES}/az1", json={"availability_zone": change}, headers=ADMIN),
            400,
            message,
        )
    assert client.get(f"{ZONES}/az1", headers=ADMIN).json() == {"availability_zone": expected}


def test_zone_not_found(client: TestClient) -> None:
    for name in ("nowhere", NIL):
        message = f"Availability Zone {name} not found."
        expect_error(client.get(f"{ZONES}/{name}", headers=MEMBER), 404, message)
        expect_error(
            client.put(f"{ZONES}/{name}", json={"availability_zone": {}}, headers=ADMIN),
            404,
            message,
        )
        expect_error(client.delete(f"{ZONES}/{name}", headers=ADMIN), 404, message)


def test_zone_list_filters_sort_fields_pagination(client: TestClient) -> None:
    first, second = make_profile(client, "one")["id"], make_profile(client, "two")["id"]
    make_zone(client, first, name="zb")
    make_zone(client, second, name="za", enabled=False)
    make_zone(client, first, name="zc", description="c")

    def names(query: str) -> list[str]:
        response = client.get(f"{ZONES}{query}", headers=MEMBER)
        assert response.status_code == 200, response.text
        return [zone["name"] for zone in response.json()["availability_zones"]]

    assert names("") == ["za", "zb", "zc"]  # keyed (and so ordered) by name
    assert names("?sort=name:desc") == ["zc", "zb", "za"]
    assert names("?enabled=true&fields=name&sort=name:desc") == ["zc", "zb"]
    assert names(f"?availability_zone_profile_id={second}") == ["za"]
    assert names("?name=zb") == ["zb"]
    assert names("?description=c") == ["zc"]
    page = client.get(f"{ZONES}?limit=2", headers=MEMBER).json()
    assert [zone["name"] for zone in page["availability_zones"]] == ["za", "zb"]
    assert page["availability_zones_links"] == [
        {"href": "http://testserver/v2/lbaas/availabilityzones?limit=2&marker=zb", "rel": "next"}
    ]
    rest = client.get(page["availability_zones_links"][0]["href"], headers=MEMBER).json()
    assert [zone["name"] for zone in rest["availability_zones"]] == ["zc"]
    fields = client.get(f"{ZONES}?fields=name&fields=enabled", headers=MEMBER).json()
    assert fields["availability_zones"][0] == {"name": "za", "enabled": False}
    expect_error(
        client.get(f"{ZONES}?id=za", headers=MEMBER),
        400,
        "One or more arguments are either duplicate or invalid",
    )


# --- zones and load balancers -----------------------------------------------------------------


def create_loadbalancer(client: TestClient, **fields: Any) -> Any:
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()), **fields}}
    return client.post("/v2/lbaas/loadbalancers", json=body, headers=MEMBER)


def test_zone_in_use_by_a_loadbalancer(client: TestClient, services: Services) -> None:
    make_zone(client, make_profile(client)["id"])
    response = create_loadbalancer(client, availability_zone="az1")
    assert response.status_code == 201, response.text
    loadbalancer = response.json()["loadbalancer"]
    assert loadbalancer["availability_zone"] == "az1"
    converge(services)
    expect_error(
        client.delete(f"{ZONES}/az1", headers=ADMIN),
        409,
        "Availability Zone az1 is in use and cannot be modified.",
    )
    assert count(services, AvailabilityZone) == 1
    url = f"/v2/lbaas/loadbalancers/{loadbalancer['id']}"
    assert client.delete(url, headers=MEMBER).status_code == 204
    converge(services)
    assert client.delete(f"{ZONES}/az1", headers=ADMIN).status_code == 204
    assert count(services, AvailabilityZone) == 0


def test_disabled_zone_cannot_be_used(client: TestClient) -> None:
    make_zone(client, make_profile(client)["id"], enabled=False)
    expect_error(
        create_loadbalancer(client, availability_zone="az1"),
        400,
        "The selected availability_zone is not allowed in this deployment: az1",
    )
