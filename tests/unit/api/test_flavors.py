"""`/v2/lbaas/flavors` and `/v2/lbaas/flavorprofiles` (spec §4.11, §5, §1.6)."""

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
from pier.db.tables import Flavor, FlavorProfile, LoadBalancer
from pier.settings import Settings
from tests.support.app import api_client, as_project, converge, make_services

PROFILES, FLAVORS = "/v2/lbaas/flavorprofiles", "/v2/lbaas/flavors"
MEMBER, READER = as_project("p1"), as_project("p1", "reader")
ADMIN = as_project("admin-project", "admin")
FORBIDDEN = "Policy does not allow this request to be performed."
NIL = "00000000-0000-0000-0000-000000000000"
SINGLE = json.dumps({"loadbalancer_topology": "SINGLE"})


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
    client: TestClient, name: str = "fp", provider: str = "amphora", data: str = SINGLE
) -> dict[str, Any]:
    body = {"flavorprofile": {"name": name, "provider_name": provider, "flavor_data": data}}
    response = client.post(PROFILES, json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["flavorprofile"]
    return result


def make_flavor(
    client: TestClient, profile_id: str, name: str = "small", **fields: Any
) -> dict[str, Any]:
    body = {"flavor": {"name": name, "flavor_profile_id": profile_id, **fields}}
    response = client.post(FLAVORS, json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["flavor"]
    return result


def count(services: Services, table: Any) -> int:
    with transaction(services.sessions, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


# --- flavor profiles --------------------------------------------------------------------------


def test_profile_create_shape_keeps_data_verbatim(client: TestClient) -> None:
    data = '{"loadbalancer_topology": "ACTIVE_STANDBY",   "compute_flavor": "m1"}'
    profile = make_profile(client, data=data)
    uuid.UUID(profile["id"])
    assert profile == {
        "id": profile["id"],
        "name": "fp",
        "provider_name": "amphora",
        "flavor_data": data,
    }
    shown = client.get(f"{PROFILES}/{profile['id']}", headers=ADMIN)
    assert shown.status_code == 200
    assert shown.json() == {"flavorprofile": profile}


def test_profile_accepts_every_amphora_key_and_the_octavia_alias(client: TestClient) -> None:
    data = json.dumps(
        {
            "loadbalancer_topology": "SINGLE",
            "compute_flavor": "c",
            "amp_image_tag": "t",
            "sriov_vip": True,
            "allow_member_sriov": False,
        }
    )
    assert make_profile(client, provider="octavia", data=data)["provider_name"] == "octavia"
    assert make_profile(client, data="{}")["flavor_data"] == "{}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{bad", "{bad is not a valid option for flavor_data"),
        (
            "[1, 2]",
            "Provider 'amphora' does not support a requested option: "
            "[1, 2] is not of type 'object'",
        ),
        (
            '"text"',
            "Provider 'amphora' does not support a requested option: "
            "'text' is not of type 'object'",
        ),
        (
            '{"bogus": 1}',
            "Provider 'amphora' does not support a requested option: "
            "Additional properties are not allowed ('bogus' was unexpected)",
        ),
        (
            '{"a": 1, "b": 2}',
            "Provider 'amphora' does not support a requested option: "
            "Additional properties are not allowed ('a', 'b' were unexpected)",
        ),
        (
            '{"loadbalancer_topology": "TRIPLE"}',
            "Provider 'amphora' does not support a requested option: loadbalancer_topology "
            "'TRIPLE' is not one of ['ACTIVE_STANDBY', 'SINGLE']",
        ),
        (
            '{"compute_flavor": 5}',
            "Provider 'amphora' does not support a requested option: "
            "compute_flavor 5 is not of type 'string'",
        ),
        (
            '{"sriov_vip": "yes"}',
            "Provider 'amphora' does not support a requested option: "
            "sriov_vip 'yes' is not of type 'boolean'",
        ),
        (
            '{"allow_member_sriov": 1}',
            "Provider 'amphora' does not support a requested option: "
            "allow_member_sriov 1 is not of type 'boolean'",
        ),
    ],
)
def test_profile_data_validation(
    client: TestClient, services: Services, data: str, message: str
) -> None:
    body = {"flavorprofile": {"name": "fp", "provider_name": "amphora", "flavor_data": data}}
    expect_error(client.post(PROFILES, json=body, headers=ADMIN), 400, message)
    assert count(services, FlavorProfile) == 0


def test_profile_provider_must_be_enabled(client: TestClient, services: Services) -> None:
    body = {"flavorprofile": {"name": "fp", "provider_name": "bogus", "flavor_data": "{}"}}
    expect_error(
        client.post(PROFILES, json=body, headers=ADMIN), 400, "Provider 'bogus' is not enabled."
    )
    body["flavorprofile"]["flavor_data"] = "nope"  # JSON is checked first, as in Octavia
    expect_error(
        client.post(PROFILES, json=body, headers=ADMIN),
        400,
        "nope is not a valid option for flavor_data",
    )
    assert count(services, FlavorProfile) == 0


@pytest.mark.parametrize("missing", ["name", "provider_name", "flavor_data"])
def test_profile_required_fields(client: TestClient, missing: str) -> None:
    body = {"name": "fp", "provider_name": "amphora", "flavor_data": "{}"}
    del body[missing]
    expect_error(
        client.post(PROFILES, json={"flavorprofile": body}, headers=ADMIN),
        400,
        f"Invalid input for field/attribute {missing}. Value: 'Unset'. Mandatory field missing.",
    )


def test_profile_unknown_attribute_and_lengths(client: TestClient) -> None:
    body = {"name": "fp", "provider_name": "amphora", "flavor_data": "{}", "tags": ["x"]}
    expect_error(
        client.post(PROFILES, json={"flavorprofile": body}, headers=ADMIN),
        400,
        "Unknown attribute for argument flavorprofile_.flavorprofile: tags",
    )
    body = {"name": "x" * 256, "provider_name": "amphora", "flavor_data": "{}"}
    response = client.post(PROFILES, json={"flavorprofile": body}, headers=ADMIN)
    assert response.status_code == 400
    assert "Value should have a maximum character requirement of 255" in response.text


@pytest.mark.parametrize("headers", [MEMBER, READER])
def test_profiles_are_admin_only(
    client: TestClient, services: Services, headers: dict[str, str]
) -> None:
    profile = make_profile(client)
    url = f"{PROFILES}/{profile['id']}"
    body = {"flavorprofile": {"name": "fp2", "provider_name": "amphora", "flavor_data": "{}"}}
    expect_error(client.post(PROFILES, json=body, headers=headers), 403, FORBIDDEN)
    expect_error(client.get(PROFILES, headers=headers), 403, FORBIDDEN)
    expect_error(client.get(url, headers=headers), 403, FORBIDDEN)
    expect_error(
        client.put(url, json={"flavorprofile": {"name": "x"}}, headers=headers), 403, FORBIDDEN
    )
    expect_error(client.delete(url, headers=headers), 403, FORBIDDEN)
    assert client.get(url, headers=ADMIN).json()["flavorprofile"]["name"] == "fp"
    assert count(services, FlavorProfile) == 1


def test_profile_not_found_and_nil_uuid(client: TestClient) -> None:
    missing = str(uuid.uuid4())
    expect_error(
        client.get(f"{PROFILES}/{missing}", headers=ADMIN),
        404,
        f"Flavor Profile {missing} not found.",
    )
    expect_error(
        client.delete(f"{PROFILES}/{missing}", headers=ADMIN),
        404,
        f"Flavor Profile {missing} not found.",
    )
    expect_error(
        client.put(f"{PROFILES}/{missing}", json={"flavorprofile": {"name": "n"}}, headers=ADMIN),
        404,
        f"Flavor Profile {missing} not found.",
    )
    for response in (
        client.get(f"{PROFILES}/{NIL}", headers=ADMIN),
        client.delete(f"{PROFILES}/{NIL}", headers=ADMIN),
    ):
        expect_error(response, 404, f"Flavor profile {NIL} not found.")


def test_profile_update(client: TestClient) -> None:
    profile = make_profile(client)
    data = json.dumps({"loadbalancer_topology": "ACTIVE_STANDBY"})
    body = {"flavorprofile": {"name": "renamed", "provider_name": "octavia", "flavor_data": data}}
    response = client.put(f"{PROFILES}/{profile['id']}", json=body, headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {
        "flavorprofile": {
            "id": profile["id"],
            "name": "renamed",
            "provider_name": "octavia",
            "flavor_data": data,
        }
    }
    shown = client.get(f"{PROFILES}/{profile['id']}", headers=ADMIN).json()["flavorprofile"]
    assert shown["name"] == "renamed" and shown["flavor_data"] == data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": None}, "None is not a valid option for name"),
        ({"provider_name": None}, "None is not a valid option for provider_name"),
        ({"flavor_data": None}, "None is not a valid option for flavor_data"),
        ({"flavor_data": "{oops"}, "{oops is not a valid option for flavor_data"),
        (
            {"flavor_data": '{"x": 1}'},
            "Provider 'amphora' does not support a requested option: "
            "Additional properties are not allowed ('x' was unexpected)",
        ),
        ({"provider_name": "bogus"}, "Provider 'bogus' is not enabled."),
        (
            {"id": str(uuid.uuid4())},
            "Unknown attribute for argument flavorprofile_.flavorprofile: id",
        ),
    ],
)
def test_profile_update_rejections_change_nothing(
    client: TestClient, change: dict[str, Any], message: str
) -> None:
    profile = make_profile(client)
    response = client.put(
        f"{PROFILES}/{profile['id']}", json={"flavorprofile": change}, headers=ADMIN
    )
    expect_error(response, 400, message)
    assert client.get(f"{PROFILES}/{profile['id']}", headers=ADMIN).json() == {
        "flavorprofile": profile
    }


def test_profile_in_use_freezes_provider_and_data(client: TestClient) -> None:
    profile = make_profile(client)
    make_flavor(client, profile["id"])
    url = f"{PROFILES}/{profile['id']}"
    message = f"Flavor profile {profile['id']} is in use and cannot be modified."
    for change in ({"flavor_data": "{}"}, {"provider_name": "octavia"}):
        expect_error(client.put(url, json={"flavorprofile": change}, headers=ADMIN), 409, message)
    expect_error(client.delete(url, headers=ADMIN), 409, message)
    renamed = client.put(url, json={"flavorprofile": {"name": "still-ok"}}, headers=ADMIN)
    assert renamed.status_code == 200
    assert renamed.json()["flavorprofile"] == {**profile, "name": "still-ok"}


def test_profile_delete(client: TestClient, services: Services) -> None:
    profile = make_profile(client)
    response = client.delete(f"{PROFILES}/{profile['id']}", headers=ADMIN)
    assert response.status_code == 204 and response.content == b""
    assert client.get(f"{PROFILES}/{profile['id']}", headers=ADMIN).status_code == 404
    assert count(services, FlavorProfile) == 0


def test_profile_list_sort_filter_fields_pagination(client: TestClient) -> None:
    made = [make_profile(client, name=name) for name in ("fp-b", "fp-a", "fp-c")]
    made.append(make_profile(client, name="fp-d", provider="octavia"))
    by_id = sorted(made, key=lambda profile: profile["id"])
    listed = client.get(PROFILES, headers=ADMIN).json()
    assert listed == {"flavorprofiles": by_id, "flavorprofile_links": []}
    names = [
        p["name"]
        for p in client.get(f"{PROFILES}?sort=name:desc", headers=ADMIN).json()["flavorprofiles"]
    ]
    assert names == ["fp-d", "fp-c", "fp-b", "fp-a"]
    one = client.get(f"{PROFILES}?name=fp-a", headers=ADMIN).json()["flavorprofiles"]
    assert one == [made[1]]
    by_provider = client.get(f"{PROFILES}?provider_name=octavia&fields=name", headers=ADMIN).json()[
        "flavorprofiles"
    ]
    assert by_provider == [{"name": "fp-d"}]
    assert client.get(f"{PROFILES}?id={made[2]['id']}", headers=ADMIN).json()["flavorprofiles"] == [
        made[2]
    ]
    page = client.get(f"{PROFILES}?limit=2", headers=ADMIN).json()
    assert page["flavorprofiles"] == by_id[:2]
    assert page["flavorprofile_links"][0]["rel"] == "next"
    assert f"marker={by_id[1]['id']}" in page["flavorprofile_links"][0]["href"]
    shown = client.get(f"{PROFILES}/{made[0]['id']}?fields=name&fields=id", headers=ADMIN)
    assert shown.json() == {"flavorprofile": {"name": "fp-b", "id": made[0]["id"]}}
    expect_error(
        client.get(f"{PROFILES}?sort=flavor_data", headers=ADMIN),
        400,
        "Supplied sort key 'flavor_data' is not valid.",
    )


# --- flavors ----------------------------------------------------------------------------------


def test_flavor_create_shape_and_defaults(client: TestClient) -> None:
    profile = make_profile(client)
    flavor = make_flavor(client, profile["id"])
    uuid.UUID(flavor["id"])
    assert flavor == {
        "id": flavor["id"],
        "name": "small",
        "description": "",
        "enabled": True,
        "flavor_profile_id": profile["id"],
    }
    other = make_flavor(client, profile["id"], name="big", description="d", enabled="false")
    assert (other["description"], other["enabled"]) == ("d", False)
    nulls = make_flavor(client, profile["id"], name="n", description=None, enabled=None)
    assert (nulls["description"], nulls["enabled"]) == ("", True)


@pytest.mark.parametrize("headers", [MEMBER, READER, ADMIN])
def test_flavors_are_readable_by_project_readers(
    client: TestClient, headers: dict[str, str]
) -> None:
    flavor = make_flavor(client, make_profile(client)["id"])
    assert client.get(FLAVORS, headers=headers).json()["flavors"] == [flavor]
    assert client.get(f"{FLAVORS}/{flavor['id']}", headers=headers).json() == {"flavor": flavor}


def test_flavors_need_a_role_to_read(client: TestClient) -> None:
    nobody = as_project("p1", "nothing")
    expect_error(client.get(FLAVORS, headers=nobody), 403, FORBIDDEN)


@pytest.mark.parametrize("headers", [MEMBER, READER])
def test_flavor_writes_are_admin_only(
    client: TestClient, services: Services, headers: dict[str, str]
) -> None:
    profile = make_profile(client)
    flavor = make_flavor(client, profile["id"])
    url = f"{FLAVORS}/{flavor['id']}"
    body = {"flavor": {"name": "x", "flavor_profile_id": profile["id"]}}
    expect_error(client.post(FLAVORS, json=body, headers=headers), 403, FORBIDDEN)
    expect_error(client.put(url, json={"flavor": {"name": "y"}}, headers=headers), 403, FORBIDDEN)
    expect_error(client.delete(url, headers=headers), 403, FORBIDDEN)
    assert client.get(url, headers=ADMIN).json() == {"flavor": flavor}
    assert count(services, Flavor) == 1


def test_flavor_name_is_unique(client: TestClient, services: Services) -> None:
    profile = make_profile(client)
    make_flavor(client, profile["id"], name="same")
    other = make_flavor(client, profile["id"], name="other")
    body = {"flavor": {"name": "same", "flavor_profile_id": profile["id"]}}
    expect_error(
        client.post(FLAVORS, json=body, headers=ADMIN), 409, "A flavor of same already exists."
    )
    expect_error(
        client.put(f"{FLAVORS}/{other['id']}", json={"flavor": {"name": "same"}}, headers=ADMIN),
        409,
        "A flavor of same already exists.",
    )
    assert count(services, Flavor) == 2
    keep = client.put(f"{FLAVORS}/{other['id']}", json={"flavor": {"name": "other"}}, headers=ADMIN)
    assert keep.status_code == 200


def test_flavor_profile_must_exist(client: TestClient, services: Services) -> None:
    missing = str(uuid.uuid4())
    body = {"flavor": {"name": "f", "flavor_profile_id": missing}}
    expect_error(
        client.post(FLAVORS, json=body, headers=ADMIN), 400, f"Flavor Profile {missing} not found."
    )
    body = {"flavor": {"name": "f", "flavor_profile_id": "abc"}}
    expect_error(
        client.post(FLAVORS, json=body, headers=ADMIN),
        400,
        "Invalid input for field/attribute flavor_profile_id. Value: 'abc'. "
        "Value should be UUID format",
    )
    expect_error(
        client.post(FLAVORS, json={"flavor": {"name": "f"}}, headers=ADMIN),
        400,
        "Invalid input for field/attribute flavor_profile_id. Value: 'Unset'. "
        "Mandatory field missing.",
    )
    assert count(services, Flavor) == 0


def test_flavor_update(client: TestClient) -> None:
    profile = make_profile(client)
    flavor = make_flavor(client, profile["id"], description="before")
    url = f"{FLAVORS}/{flavor['id']}"
    body = {"flavor": {"name": "renamed", "description": None, "enabled": False}}
    response = client.put(url, json=body, headers=ADMIN)
    assert response.status_code == 200
    expected = {**flavor, "name": "renamed", "description": "", "enabled": False}
    assert response.json() == {"flavor": expected}
    assert client.get(url, headers=MEMBER).json() == {"flavor": expected}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"flavor_profile_id": str(uuid.uuid4())},
            "Unknown attribute for argument flavor_.flavor: flavor_profile_id",
        ),
        (
            {"name": None},
            "Invalid input for field/attribute name. Value: 'None'. Value may not be null",
        ),
        (
            {"enabled": None},
            "Invalid input for field/attribute enabled. Value: 'None'. Value may not be null",
        ),
        (
            {"enabled": "maybe"},
            "Invalid input for field/attribute enabled. Value: 'maybe'. "
            "Wrong type. Expected '<class 'bool'>', got '<class 'str'>'",
        ),
    ],
)
def test_flavor_update_rejections(client: TestClient, change: dict[str, Any], message: str) -> None:
    flavor = make_flavor(client, make_profile(client)["id"])
    url = f"{FLAVORS}/{flavor['id']}"
    expect_error(client.put(url, json={"flavor": change}, headers=ADMIN), 400, message)
    assert client.get(url, headers=ADMIN).json() == {"flavor": flavor}


def test_flavor_not_found(client: TestClient) -> None:
    for ident in (str(uuid.uuid4()), NIL):
        message = f"Flavor {ident} not found."
        expect_error(client.get(f"{FLAVORS}/{ident}", headers=MEMBER), 404, message)
        expect_error(
            client.put(f"{FLAVORS}/{ident}", json={"flavor": {}}, headers=ADMIN), 404, message
        )
        expect_error(client.delete(f"{FLAVORS}/{ident}", headers=ADMIN), 404, message)


def test_flavor_list_filters_sort_fields(client: TestClient) -> None:
    first, second = make_profile(client, "one")["id"], make_profile(client, "two")["id"]
    small = make_flavor(client, first, name="small")
    large = make_flavor(client, second, name="large", enabled=False)
    medium = make_flavor(client, first, name="medium", description="m")

    def names(query: str) -> list[str]:
        response = client.get(f"{FLAVORS}{query}", headers=MEMBER)
        assert response.status_code == 200, response.text
        return [flavor["name"] for flavor in response.json()["flavors"]]

    by_id = sorted([small, large, medium], key=lambda flavor: flavor["id"])
    assert names("") == [flavor["name"] for flavor in by_id]
    assert names("?sort=name:asc") == ["large", "medium", "small"]
    assert names("?sort_key=name&sort_dir=desc") == ["small", "medium", "large"]
    assert names("?enabled=false") == ["large"]
    assert names("?enabled=true&sort=name") == ["medium", "small"]
    assert names(f"?flavor_profile_id={first}&sort=name") == ["medium", "small"]
    assert names("?name=medium") == ["medium"]
    assert names(f"?id={small['id']}") == ["small"]
    assert names("?description=m") == ["medium"]
    listed = client.get(f"{FLAVORS}?fields=id&fields=enabled&sort=name", headers=MEMBER).json()
    assert listed["flavors"][0] == {"id": large["id"], "enabled": False}
    assert listed["flavors_links"] == []
    page = client.get(f"{FLAVORS}?limit=1&sort=name", headers=MEMBER).json()
    assert [flavor["name"] for flavor in page["flavors"]] == ["large"]
    nxt = client.get(page["flavors_links"][0]["href"], headers=MEMBER).json()
    assert [flavor["name"] for flavor in nxt["flavors"]] == ["medium"]
    expect_error(
        client.get(f"{FLAVORS}?bogus=1", headers=MEMBER),
        400,
        "One or more arguments are either duplicate or invalid",
    )


# --- flavors and load balancers ---------------------------------------------------------------


def create_loadbalancer(client: TestClient, **fields: Any) -> Any:
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()), **fields}}
    return client.post("/v2/lbaas/loadbalancers", json=body, headers=MEMBER)


def topology_of(services: Services, loadbalancer_id: str) -> str:
    with transaction(services.sessions, write=False) as session:
        row = session.get(LoadBalancer, loadbalancer_id)
        assert row is not None
        return row.topology


def test_loadbalancer_takes_topology_from_flavor(client: TestClient, services: Services) -> None:
    data = json.dumps({"loadbalancer_topology": "ACTIVE_STANDBY", "compute_flavor": "m1"})
    flavor = make_flavor(client, make_profile(client, data=data)["id"])
    response = create_loadbalancer(client, flavor_id=flavor["id"])
    assert response.status_code == 201, response.text
    loadbalancer = response.json()["loadbalancer"]
    assert loadbalancer["flavor_id"] == flavor["id"]
    assert topology_of(services, loadbalancer["id"]) == "ACTIVE_STANDBY"
    plain = make_flavor(client, make_profile(client, name="p2", data="{}")["id"], name="plain")
    response = create_loadbalancer(client, flavor_id=plain["id"])
    assert topology_of(services, response.json()["loadbalancer"]["id"]) == "SINGLE"


def test_disabled_flavor_cannot_be_used(client: TestClient) -> None:
    flavor = make_flavor(client, make_profile(client)["id"], enabled=False)
    expect_error(
        create_loadbalancer(client, flavor_id=flavor["id"]),
        400,
        f"The selected flavor is not allowed in this deployment: {flavor['id']}",
    )


def test_flavor_in_use_by_a_loadbalancer_cannot_be_deleted(
    client: TestClient, services: Services
) -> None:
    flavor = make_flavor(client, make_profile(client)["id"])
    loadbalancer = create_loadbalancer(client, flavor_id=flavor["id"]).json()["loadbalancer"]
    converge(services)
    url = f"{FLAVORS}/{flavor['id']}"
    expect_error(
        client.delete(url, headers=ADMIN),
        409,
        f"Flavor {flavor['id']} is in use and cannot be modified.",
    )
    assert count(services, Flavor) == 1
    deleted = client.delete(f"/v2/lbaas/loadbalancers/{loadbalancer['id']}", headers=MEMBER)
    assert deleted.status_code == 204
    converge(services)
    assert client.delete(url, headers=ADMIN).status_code == 204
    assert count(services, Flavor) == 0
