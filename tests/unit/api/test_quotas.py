"""`/v2/lbaas/quotas` against the in-process app (spec §4.9, §6, §5, §1.5)."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from pier.api.context import RequestContext
from pier.api.quota import check_quota
from pier.api.services import Services
from pier.db.engine import transaction
from pier.db.tables import Listener, LoadBalancer, Quota
from pier.domain.errors import QuotaExceeded
from pier.settings import QuotaDefaults, Settings
from tests.support.app import api_client, as_project, converge, make_services

URL = "/v2/lbaas/quotas"
P1, P2 = as_project("p1"), as_project("p2")
READER = as_project("p1", "reader")
ADMIN = as_project("admin-project", "admin")
GLOBAL_OBSERVER = as_project("observer", "load-balancer_global_observer")
QUOTA_ADMIN = as_project("qa", "load-balancer_quota_admin")
RESOURCES = ("loadbalancer", "listener", "pool", "healthmonitor", "member", "l7policy", "l7rule")


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path, settings=Settings(accept_any_subnet=True))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with api_client(services) as client:
        yield client


def put_quota(
    client: TestClient, project: str, headers: dict[str, str] = ADMIN, **limits: Any
) -> dict[str, Any]:
    response = client.put(f"{URL}/{project}", json={"quota": limits}, headers=headers)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()["quota"]
    return body


def stored(services: Services, project: str) -> dict[str, int | None] | None:
    with transaction(services.sessions, write=False) as session:
        row = session.get(Quota, project)
        return None if row is None else {name: getattr(row, name) for name in RESOURCES}


def expect_error(response: Any, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"faultcode": "Client", "faultstring": message, "debuginfo": None}


# --- show -------------------------------------------------------------------------------------


def test_show_without_record_gives_defaults_in_both_spellings(client: TestClient) -> None:
    response = client.get(f"{URL}/p1", headers=P1)
    assert response.status_code == 200
    assert response.json() == {
        "quota": {
            "loadbalancer": -1,
            "load_balancer": -1,
            "listener": -1,
            "pool": -1,
            "member": -1,
            "healthmonitor": -1,
            "health_monitor": -1,
            "l7policy": -1,
            "l7rule": -1,
            "project_id": "p1",
            "tenant_id": "p1",
        }
    }


def test_show_fills_nulls_from_configured_defaults(tmp_path: Path) -> None:
    defaults = QuotaDefaults(
        loadbalancer=5, listener=7, pool=0, healthmonitor=3, member=9, l7policy=11, l7rule=13
    )
    services = make_services(tmp_path, settings=Settings(quota_defaults=defaults))
    with api_client(services) as client:
        put_quota(client, "p1", pool=2)
        quota = client.get(f"{URL}/p1", headers=P1).json()["quota"]
        assert quota["pool"] == 2
        assert quota["loadbalancer"] == quota["load_balancer"] == 5
        assert quota["healthmonitor"] == quota["health_monitor"] == 3
        assert (quota["listener"], quota["member"], quota["l7policy"], quota["l7rule"]) == (
            7,
            9,
            11,
            13,
        )
        default = client.get(f"{URL}/p1/default", headers=P1).json()["quota"]
        assert default["pool"] == 0
        assert client.get(f"{URL}/defaults", headers=P1).json()["quota"]["member"] == 9


@pytest.mark.parametrize("headers", [P1, READER, ADMIN, GLOBAL_OBSERVER, QUOTA_ADMIN])
def test_show_allowed_roles(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get(f"{URL}/p1", headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["p1", "p1/default"])
def test_show_other_project_is_forbidden(client: TestClient, path: str) -> None:
    expect_error(
        client.get(f"{URL}/{path}", headers=P2),
        403,
        "Policy does not allow this request to be performed.",
    )


def test_project_default_route(client: TestClient) -> None:
    put_quota(client, "p1", loadbalancer=3)
    response = client.get(f"{URL}/p1/default", headers=P1)
    assert response.status_code == 200
    quota = response.json()["quota"]
    assert quota["loadbalancer"] == quota["load_balancer"] == -1
    assert quota["project_id"] == quota["tenant_id"] == "p1"


def test_defaults_route_serves_real_defaults(client: TestClient) -> None:
    response = client.get(f"{URL}/defaults", headers=P1)
    assert response.status_code == 200
    quota = response.json()["quota"]
    assert quota["project_id"] == "defaults"
    assert all(quota[name] == -1 for name in (*RESOURCES, "load_balancer", "health_monitor"))


# --- update / reset ---------------------------------------------------------------------------


def test_put_returns_202_with_effective_quota_and_stores_it(
    client: TestClient, services: Services
) -> None:
    quota = put_quota(client, "p1", loadbalancer=5, member=0)
    assert quota["loadbalancer"] == quota["load_balancer"] == 5
    assert quota["member"] == 0
    assert quota["pool"] == -1
    assert quota["project_id"] == quota["tenant_id"] == "p1"
    assert stored(services, "p1") == {**dict.fromkeys(RESOURCES), "loadbalancer": 5, "member": 0}


def test_put_accepts_deprecated_spellings(client: TestClient, services: Services) -> None:
    quota = put_quota(client, "p1", load_balancer=4, health_monitor=6)
    assert quota["loadbalancer"] == 4 and quota["healthmonitor"] == quota["health_monitor"] == 6
    assert stored(services, "p1") == {
        **dict.fromkeys(RESOURCES),
        "loadbalancer": 4,
        "healthmonitor": 6,
    }


def test_put_canonical_spelling_wins_over_deprecated(client: TestClient) -> None:
    quota = put_quota(client, "p1", loadbalancer=2, load_balancer=9)
    assert quota["loadbalancer"] == 2
    quota = put_quota(client, "p1", health_monitor=9, healthmonitor=3)
    assert quota["healthmonitor"] == 3


def test_put_null_returns_limit_to_default(client: TestClient, services: Services) -> None:
    put_quota(client, "p1", pool=3, listener=4)
    quota = put_quota(client, "p1", pool=None)
    assert quota["pool"] == -1 and quota["listener"] == 4
    assert stored(services, "p1") == {**dict.fromkeys(RESOURCES), "listener": 4}


def test_put_coerces_strings_and_accepts_bounds(client: TestClient) -> None:
    quota = put_quota(client, "p1", loadbalancer="7", listener=-1, pool=2000000000)
    assert (quota["loadbalancer"], quota["listener"], quota["pool"]) == (7, -1, 2000000000)


def test_put_empty_body_creates_record(client: TestClient, services: Services) -> None:
    put_quota(client, "p9")
    assert stored(services, "p9") == dict.fromkeys(RESOURCES)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (
            {"loadbalancer": -2},
            "Invalid input for field/attribute loadbalancer. Value: '-2'. "
            "Value should be greater or equal to -1",
        ),
        (
            {"member": 2000000001},
            "Invalid input for field/attribute member. Value: '2000000001'. "
            "Value should be lower or equal to 2000000000",
        ),
        (
            {"l7rule": "many"},
            "Invalid input for field/attribute l7rule. Value: 'many'. "
            "Wrong type. Expected '<class 'int'>', got '<class 'str'>'",
        ),
        ({"bogus": 1}, "Unknown attribute for argument quota_.quota: bogus"),
    ],
)
def test_put_validation(
    client: TestClient, services: Services, limits: dict[str, Any], message: str
) -> None:
    response = client.put(f"{URL}/p1", json={"quota": limits}, headers=ADMIN)
    expect_error(response, 400, message)
    assert stored(services, "p1") is None


def test_put_without_wrapper(client: TestClient) -> None:
    response = client.put(f"{URL}/p1", json={"loadbalancer": 1}, headers=ADMIN)
    expect_error(response, 400, "Unknown attributes for argument quota_: loadbalancer")


@pytest.mark.parametrize("headers", [P1, READER, GLOBAL_OBSERVER])
def test_put_and_delete_need_quota_admin(
    client: TestClient, services: Services, headers: dict[str, str]
) -> None:
    forbidden = "Policy does not allow this request to be performed."
    response = client.put(f"{URL}/p1", json={"quota": {"pool": 1}}, headers=headers)
    expect_error(response, 403, forbidden)
    assert stored(services, "p1") is None
    put_quota(client, "p1", pool=1)
    expect_error(client.delete(f"{URL}/p1", headers=headers), 403, forbidden)
    assert stored(services, "p1") == {**dict.fromkeys(RESOURCES), "pool": 1}


def test_quota_admin_role_may_write(client: TestClient) -> None:
    assert put_quota(client, "p1", QUOTA_ADMIN, pool=1)["pool"] == 1
    assert client.delete(f"{URL}/p1", headers=QUOTA_ADMIN).status_code == 202


def test_delete_resets_to_defaults_and_keeps_record(client: TestClient, services: Services) -> None:
    put_quota(client, "p1", loadbalancer=1, l7rule=2)
    response = client.delete(f"{URL}/p1", headers=ADMIN)
    assert response.status_code == 202
    assert response.content == b""
    assert stored(services, "p1") == dict.fromkeys(RESOURCES)
    assert client.get(f"{URL}/p1", headers=P1).json()["quota"]["loadbalancer"] == -1
    listed = client.get(URL, headers=ADMIN).json()["quotas"]
    assert [quota["project_id"] for quota in listed] == ["p1"]


def test_delete_without_record_is_404(client: TestClient) -> None:
    expect_error(client.delete(f"{URL}/nobody", headers=ADMIN), 404, "Quotas nobody not found.")


# --- list -------------------------------------------------------------------------------------


def test_list_shows_stored_values_with_nulls(client: TestClient) -> None:
    put_quota(client, "p1", loadbalancer=3)
    response = client.get(URL, headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {
        "quotas": [
            {
                "loadbalancer": 3,
                "load_balancer": 3,
                "listener": None,
                "pool": None,
                "member": None,
                "healthmonitor": None,
                "health_monitor": None,
                "l7policy": None,
                "l7rule": None,
                "project_id": "p1",
                "tenant_id": "p1",
            }
        ],
        "quotas_links": [],
    }


def test_list_includes_projects_that_created_objects(client: TestClient) -> None:
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}}
    assert client.post("/v2/lbaas/loadbalancers", json=body, headers=P2).status_code == 201
    listed = client.get(URL, headers=ADMIN).json()["quotas"]
    assert [(quota["project_id"], quota["loadbalancer"]) for quota in listed] == [("p2", None)]


def test_list_scoping(client: TestClient) -> None:
    for project in ("p1", "p2", "p3"):
        put_quota(client, project, pool=1)

    def projects(headers: dict[str, str], query: str = "") -> list[str]:
        response = client.get(f"{URL}{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [quota["project_id"] for quota in response.json()["quotas"]]

    assert projects(ADMIN) == ["p1", "p2", "p3"]
    assert projects(GLOBAL_OBSERVER) == ["p1", "p2", "p3"]
    assert projects(QUOTA_ADMIN) == ["p1", "p2", "p3"]
    assert projects(ADMIN, "?project_id=p2") == ["p2"]
    assert projects(P1) == ["p1"]
    assert projects(READER, "?project_id=p1") == ["p1"]
    expect_error(
        client.get(f"{URL}?project_id=p2", headers=P1),
        403,
        "Policy does not allow this request to be performed.",
    )


def test_list_filters_sort_pagination_and_fields(client: TestClient) -> None:
    put_quota(client, "a", pool=3)
    put_quota(client, "b", pool=1)
    put_quota(client, "c", pool=2)
    listed = client.get(f"{URL}?sort=pool:desc", headers=ADMIN).json()["quotas"]
    assert [quota["project_id"] for quota in listed] == ["a", "c", "b"]
    listed = client.get(f"{URL}?pool=2", headers=ADMIN).json()["quotas"]
    assert [quota["project_id"] for quota in listed] == ["c"]
    page = client.get(f"{URL}?limit=2", headers=ADMIN).json()
    assert [quota["project_id"] for quota in page["quotas"]] == ["a", "b"]
    assert page["quotas_links"] == [
        {"href": "http://testserver/v2/lbaas/quotas?limit=2&marker=b", "rel": "next"}
    ]
    rest = client.get(f"{URL}?limit=2&marker=b", headers=ADMIN).json()
    assert [quota["project_id"] for quota in rest["quotas"]] == ["c"]
    fields = client.get(f"{URL}?fields=project_id&fields=load_balancer", headers=ADMIN).json()
    assert fields["quotas"][0] == {"project_id": "a", "load_balancer": None}
    expect_error(
        client.get(f"{URL}?bogus=1", headers=ADMIN),
        400,
        "One or more arguments are either duplicate or invalid",
    )


def test_v2_0_prefix_serves_the_same_tree(client: TestClient) -> None:
    assert client.get("/v2.0/lbaas/quotas/p1", headers=P1).json()["quota"]["pool"] == -1


# --- enforcement ------------------------------------------------------------------------------


def count_loadbalancers(services: Services, project: str) -> int:
    with transaction(services.sessions, write=False) as session:
        statement = (
            select(func.count()).select_from(LoadBalancer).where(LoadBalancer.project_id == project)
        )
        return int(session.scalar(statement) or 0)


def test_loadbalancer_quota_is_enforced(client: TestClient, services: Services) -> None:
    put_quota(client, "p1", loadbalancer=1)
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}}
    assert client.post("/v2/lbaas/loadbalancers", json=body, headers=P1).status_code == 201
    response = client.post("/v2/lbaas/loadbalancers", json=body, headers=P1)
    expect_error(response, 403, "Quota has been met for resources: Load Balancer")
    assert count_loadbalancers(services, "p1") == 1
    assert stored(services, "p1") == {**dict.fromkeys(RESOURCES), "loadbalancer": 1}
    # Another project is not limited by p1's quota.
    assert client.post("/v2/lbaas/loadbalancers", json=body, headers=P2).status_code == 201


def test_zero_quota_forbids_everything_and_minus_one_is_unlimited(
    client: TestClient, services: Services
) -> None:
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}}
    put_quota(client, "p1", load_balancer=0)
    expect_error(
        client.post("/v2/lbaas/loadbalancers", json=body, headers=P1),
        403,
        "Quota has been met for resources: Load Balancer",
    )
    put_quota(client, "p1", load_balancer=-1)
    for _ in range(3):
        assert client.post("/v2/lbaas/loadbalancers", json=body, headers=P1).status_code == 201
    assert count_loadbalancers(services, "p1") == 3


def test_listener_quota_set_through_the_api_is_enforced(
    client: TestClient, services: Services
) -> None:
    put_quota(client, "p1", listener=1)
    ctx = RequestContext(project_id="p1", roles=frozenset({"member"}))
    defaults = services.settings.quota_defaults
    with transaction(services.sessions) as session:
        check_quota(session, ctx, defaults, "p1", {"listener": 1})
    exceeded = pytest.raises(QuotaExceeded, match="^Quota has been met for resources: Listener$")
    with exceeded, transaction(services.sessions) as session:
        check_quota(session, ctx, defaults, "p1", {"listener": 2})
    put_quota(client, "p1", listener=None)
    with transaction(services.sessions) as session:
        check_quota(session, ctx, defaults, "p1", {"listener": 1000})


def test_listener_quota_is_enforced_through_the_api(client: TestClient, services: Services) -> None:
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}}
    response = client.post("/v2/lbaas/loadbalancers", json=body, headers=P1)
    loadbalancer_id = response.json()["loadbalancer"]["id"]
    converge(services)
    put_quota(client, "p1", listener=1)

    def create_listener(port: int) -> Any:
        listener = {"loadbalancer_id": loadbalancer_id, "protocol": "TCP", "protocol_port": port}
        return client.post("/v2/lbaas/listeners", json={"listener": listener}, headers=P1)

    assert create_listener(80).status_code == 201
    converge(services)
    expect_error(create_listener(81), 403, "Quota has been met for resources: Listener")
    with transaction(services.sessions, write=False) as session:
        assert session.scalar(select(func.count()).select_from(Listener)) == 1
        loadbalancer = session.get(LoadBalancer, loadbalancer_id)
        assert loadbalancer is not None and loadbalancer.provisioning_status == "ACTIVE"
