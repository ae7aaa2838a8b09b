"""`/v2/lbaas/l7policies` against the in-process app (spec §4.6, §3.3, §5)."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from pier.api.mutations.l7policy import validate_l7policy_values
from pier.api.schemas.l7policy import is_redirect_url
from pier.api.services import Services
from pier.db.engine import transaction
from pier.db.tables import L7Policy, L7Rule, Listener, LoadBalancer
from pier.domain.errors import InvalidInput, NotImplementedOption
from pier.settings import QuotaDefaults, Settings
from tests.support.app import api_client, as_project, converge, make_services

URL = "/v2/lbaas/l7policies"
P1, P2 = as_project("p1"), as_project("p2")
READER = as_project("p1", "reader")
ADMIN = as_project("admin-project", "admin")
GLOBAL_OBSERVER = as_project("other", "load-balancer_global_observer")


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path, settings=Settings(accept_any_subnet=True))


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with api_client(services) as client:
        yield client


def fault(response: Any) -> str:
    return str(response.json()["faultstring"])


def created(response: Any, wrapper: str) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()[wrapper]["id"])


def create_loadbalancer(
    client: TestClient, services: Services, headers: dict[str, str] = P1
) -> str:
    body = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}}
    loadbalancer_id = created(
        client.post("/v2/lbaas/loadbalancers", json=body, headers=headers), "loadbalancer"
    )
    converge(services)
    return loadbalancer_id


_ports = iter(range(1000, 60000))


def add_listener(
    client: TestClient,
    services: Services,
    loadbalancer_id: str,
    protocol: str = "HTTP",
    headers: dict[str, str] = P1,
) -> str:
    body = {
        "listener": {
            "loadbalancer_id": loadbalancer_id,
            "protocol": protocol,
            "protocol_port": next(_ports),
        }
    }
    listener_id = created(
        client.post("/v2/lbaas/listeners", json=body, headers=headers), "listener"
    )
    converge(services)
    return listener_id


def add_listener_row(services: Services, loadbalancer_id: str, protocol: str) -> str:
    """A listener straight in the database, for protocols whose API needs certificates."""
    with transaction(services.sessions) as session:
        loadbalancer = session.get(LoadBalancer, loadbalancer_id)
        assert loadbalancer is not None
        listener = Listener(
            loadbalancer_id=loadbalancer_id,
            project_id=loadbalancer.project_id,
            protocol=protocol,
            protocol_port=next(_ports),
            provisioning_status="ACTIVE",
        )
        session.add(listener)
        session.flush()
        return listener.id


def add_pool(
    client: TestClient,
    services: Services,
    loadbalancer_id: str,
    protocol: str = "HTTP",
    headers: dict[str, str] = P1,
) -> str:
    body = {
        "pool": {
            "loadbalancer_id": loadbalancer_id,
            "protocol": protocol,
            "lb_algorithm": "ROUND_ROBIN",
        }
    }
    pool_id = created(client.post("/v2/lbaas/pools", json=body, headers=headers), "pool")
    converge(services)
    return pool_id


@dataclass
class Tree:
    loadbalancer_id: str
    listener_id: str
    pool_id: str


def build_tree(client: TestClient, services: Services, headers: dict[str, str] = P1) -> Tree:
    loadbalancer_id = create_loadbalancer(client, services, headers)
    return Tree(
        loadbalancer_id,
        add_listener(client, services, loadbalancer_id, headers=headers),
        add_pool(client, services, loadbalancer_id, headers=headers),
    )


@pytest.fixture
def tree(client: TestClient, services: Services) -> Tree:
    return build_tree(client, services)


TARGET_ACTIONS = {
    "redirect_pool_id": "REDIRECT_TO_POOL",
    "redirect_url": "REDIRECT_TO_URL",
    "redirect_prefix": "REDIRECT_PREFIX",
}


def post(client: TestClient, listener: str, headers: dict[str, str] = P1, **fields: Any) -> Any:
    """POST a policy; `action` defaults to what the given redirect target implies, else REJECT."""
    action = next((TARGET_ACTIONS[key] for key in TARGET_ACTIONS if key in fields), "REJECT")
    body = {"listener_id": listener, "action": action, **fields}
    return client.post(URL, json={"l7policy": body}, headers=headers)


def create(
    client: TestClient, services: Services, listener_id: str, **fields: Any
) -> dict[str, Any]:
    """Create a policy and let the worker settle it (what `--wait` does)."""
    response = post(client, listener_id, **fields)
    assert response.status_code == 201, response.text
    converge(services)
    result: dict[str, Any] = response.json()["l7policy"]
    return result


def put(client: TestClient, l7policy_id: str, headers: dict[str, str] = P1, **fields: Any) -> Any:
    return client.put(f"{URL}/{l7policy_id}", json={"l7policy": fields}, headers=headers)


def show(client: TestClient, l7policy_id: str) -> dict[str, Any]:
    response = client.get(f"{URL}/{l7policy_id}", headers=P1)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["l7policy"]
    return result


def status_of(services: Services, table: Any, ident: str) -> str | None:
    with transaction(services.sessions, write=False) as session:
        row = session.get(table, ident)
        return None if row is None else str(row.provisioning_status)


def tree_statuses(services: Services, tree: Tree) -> tuple[str | None, str | None]:
    return (
        status_of(services, LoadBalancer, tree.loadbalancer_id),
        status_of(services, Listener, tree.listener_id),
    )


def positions(services: Services, listener_id: str) -> list[tuple[str, int]]:
    with transaction(services.sessions, write=False) as session:
        rows = session.scalars(
            select(L7Policy).where(L7Policy.listener_id == listener_id).order_by(L7Policy.position)
        )
        return [(row.id, row.position) for row in rows]


def policy_count(services: Services) -> int:
    with transaction(services.sessions, write=False) as session:
        return len(list(session.scalars(select(L7Policy))))


# --- create: shape, defaults, statuses ---------------------------------------------------


def test_reject_policy_has_octavias_shape_and_defaults(
    client: TestClient, services: Services, tree: Tree
) -> None:
    response = post(client, tree.listener_id)
    assert response.status_code == 201
    policy = response.json()["l7policy"]
    assert set(policy) == {
        "id",
        "name",
        "description",
        "admin_state_up",
        "project_id",
        "tenant_id",
        "provisioning_status",
        "operating_status",
        "created_at",
        "updated_at",
        "listener_id",
        "action",
        "position",
        "redirect_pool_id",
        "redirect_url",
        "redirect_prefix",
        "redirect_http_code",
        "rules",
        "tags",
    }
    assert policy["action"] == "REJECT"
    assert policy["listener_id"] == tree.listener_id
    assert policy["position"] == 1
    assert policy["redirect_pool_id"] is None
    assert policy["redirect_url"] is None
    assert policy["redirect_prefix"] is None
    assert policy["redirect_http_code"] is None
    assert policy["rules"] == []
    assert policy["tags"] == []
    assert (policy["name"], policy["description"]) == ("", "")
    assert policy["admin_state_up"] is True
    assert policy["project_id"] == policy["tenant_id"] == "p1"
    assert policy["provisioning_status"] == "PENDING_CREATE"
    assert policy["operating_status"] == "OFFLINE"
    assert policy["updated_at"] is None
    assert isinstance(policy["created_at"], str)


def test_create_puts_listener_and_loadbalancer_in_pending_update(
    client: TestClient, services: Services, tree: Tree
) -> None:
    policy_id = created(post(client, tree.listener_id), "l7policy")
    assert tree_statuses(services, tree) == ("PENDING_UPDATE", "PENDING_UPDATE")
    assert services.queue.get(timeout=0) == tree.loadbalancer_id
    services.queue.enqueue(tree.loadbalancer_id)
    converge(services)
    assert show(client, policy_id)["provisioning_status"] == "ACTIVE"
    assert tree_statuses(services, tree) == ("ACTIVE", "ACTIVE")


def test_create_stores_every_field(client: TestClient, services: Services, tree: Tree) -> None:
    policy = create(
        client,
        services,
        tree.listener_id,
        name="p",
        description="d",
        admin_state_up=False,
        tags=["a", "b"],
        action="REDIRECT_TO_URL",
        redirect_url="https://example.com/x?y=1",
        redirect_http_code="301",
        project_id="ignored",
    )
    assert (policy["name"], policy["description"]) == ("p", "d")
    assert policy["admin_state_up"] is False
    assert policy["tags"] == ["a", "b"]
    assert policy["redirect_url"] == "https://example.com/x?y=1"
    assert policy["redirect_http_code"] == 301
    assert policy["project_id"] == "p1"


def test_tenant_id_is_accepted_and_ignored(client: TestClient, tree: Tree) -> None:
    response = post(client, tree.listener_id, tenant_id="someone")
    assert response.status_code == 201
    assert response.json()["l7policy"]["project_id"] == "p1"


def test_null_admin_state_up_is_false(client: TestClient, tree: Tree) -> None:
    response = post(client, tree.listener_id, admin_state_up=None)
    assert response.json()["l7policy"]["admin_state_up"] is False


def test_v2_0_prefix_serves_the_same_tree(client: TestClient, tree: Tree) -> None:
    body = {"l7policy": {"listener_id": tree.listener_id, "action": "REJECT"}}
    response = client.post("/v2.0/lbaas/l7policies", json=body, headers=P1)
    assert response.status_code == 201
    assert (
        client.get(
            f"/v2.0/lbaas/l7policies/{response.json()['l7policy']['id']}", headers=P1
        ).status_code
        == 200
    )


# --- action and redirect interplay -------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"action": "REDIRECT_TO_URL", "redirect_url": "http://a.com"},
            {
                "action": "REDIRECT_TO_URL",
                "redirect_url": "http://a.com",
                "redirect_http_code": 302,
            },
        ),
        (
            {"action": "REDIRECT_PREFIX", "redirect_prefix": "https://b.com"},
            {
                "action": "REDIRECT_PREFIX",
                "redirect_prefix": "https://b.com",
                "redirect_http_code": 302,
            },
        ),
        (
            {
                "action": "REDIRECT_TO_URL",
                "redirect_url": "http://a.com",
                "redirect_http_code": 308,
            },
            {"redirect_http_code": 308},
        ),
        (
            {
                "action": "REDIRECT_PREFIX",
                "redirect_prefix": "http://a.com",
                "redirect_http_code": 303,
            },
            {"redirect_http_code": 303},
        ),
        # A redirect field switches the action; URL wins over prefix, as in Octavia.
        (
            {
                "action": "REDIRECT_PREFIX",
                "redirect_prefix": "http://p.com",
                "redirect_url": "http://u.com",
            },
            {"action": "REDIRECT_TO_URL", "redirect_url": "http://u.com", "redirect_prefix": None},
        ),
        # REJECT clears every redirect field.
        (
            {
                "action": "REJECT",
                "redirect_url": "http://a.com",
                "redirect_prefix": "http://b.com",
                "redirect_http_code": 301,
            },
            {
                "action": "REJECT",
                "redirect_url": None,
                "redirect_prefix": None,
                "redirect_http_code": None,
            },
        ),
    ],
)
def test_create_action_and_redirect_fields(
    client: TestClient, tree: Tree, fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    response = post(client, tree.listener_id, **fields)
    assert response.status_code == 201, response.text
    policy = response.json()["l7policy"]
    assert {key: policy[key] for key in expected} == expected


def test_redirect_to_pool_has_no_http_code(client: TestClient, tree: Tree) -> None:
    response = post(
        client,
        tree.listener_id,
        action="REDIRECT_TO_POOL",
        redirect_pool_id=tree.pool_id,
        redirect_http_code=308,
    )
    policy = response.json()["l7policy"]
    assert policy["action"] == "REDIRECT_TO_POOL"
    assert policy["redirect_pool_id"] == tree.pool_id
    assert policy["redirect_http_code"] is None
    assert policy["redirect_url"] is None and policy["redirect_prefix"] is None


def test_explicit_action_drops_the_other_target(client: TestClient, tree: Tree) -> None:
    response = post(
        client,
        tree.listener_id,
        action="REDIRECT_TO_POOL",
        redirect_pool_id=tree.pool_id,
        redirect_url="http://a.com",
    )
    policy = response.json()["l7policy"]
    assert (policy["action"], policy["redirect_url"]) == ("REDIRECT_TO_POOL", None)


def test_explicit_reject_drops_a_redirect_pool(client: TestClient, tree: Tree) -> None:
    response = post(client, tree.listener_id, action="REJECT", redirect_pool_id=tree.pool_id)
    policy = response.json()["l7policy"]
    assert (policy["action"], policy["redirect_pool_id"]) == ("REJECT", None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": "REDIRECT_TO_URL"}, "redirect_url must not be None"),
        ({"action": "REDIRECT_PREFIX"}, "redirect_prefix must not be None"),
        ({"action": "REDIRECT_TO_POOL"}, "redirect_pool_id or redirect_pool must not be None"),
        (
            {"action": "REDIRECT_TO_URL", "redirect_prefix": "http://a.com"},
            "redirect_url must not be None",
        ),
        (
            {
                "action": "REDIRECT_PREFIX",
                "redirect_prefix": "http://a.com",
                "redirect_pool_id": str(uuid.uuid4()),
            },
            "Cannot specify redirect_pool_id and redirect_url or redirect_prefix at the same time",
        ),
    ],
)
def test_create_rejects_inconsistent_redirects(
    client: TestClient, services: Services, tree: Tree, fields: dict[str, Any], message: str
) -> None:
    response = post(client, tree.listener_id, **fields)
    assert response.status_code == 400
    assert fault(response) == f"Invalid L7 Policy arguments: {message}"
    assert policy_count(services) == 0
    assert tree_statuses(services, tree) == ("ACTIVE", "ACTIVE")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"action": None},
            "Invalid input for field/attribute action. Value: 'Unset'. Mandatory field missing.",
        ),
        (
            {"action": "FORWARD"},
            "Invalid input for field/attribute action. Value: 'FORWARD'. "
            "Value should be one of: REJECT, REDIRECT_TO_URL, REDIRECT_TO_POOL, "
            "REDIRECT_PREFIX",
        ),
        (
            {"listener_id": None},
            "Invalid input for field/attribute listener_id. Value: 'Unset'. "
            "Mandatory field missing.",
        ),
        (
            {"listener_id": "nope"},
            "Invalid input for field/attribute listener_id. Value: 'nope'. "
            "Value should be UUID format",
        ),
        (
            {"redirect_http_code": 1},
            "Invalid input for field/attribute redirect_http_code. "
            "Value: '1'. Value should be one of: 301, 302, 303, 307, 308",
        ),
        ({"redirect_http_code": ""}, "Value should be one of: 301, 302, 303, 307, 308"),
        ({"redirect_http_code": "HTTPCODE"}, "Value should be one of: 301, 302, 303, 307, 308"),
        ({"redirect_http_code": 300}, "Value should be one of: 301, 302, 303, 307, 308"),
        (
            {"redirect_url": "bad url"},
            "Invalid input for field/attribute redirect_url. "
            "Value: 'bad url'. Value must be a valid URL string",
        ),
        ({"redirect_url": "ftp://a.com"}, "Value must be a valid URL string"),
        (
            {"redirect_prefix": "example.com"},
            "Invalid input for field/attribute redirect_prefix. "
            "Value: 'example.com'. Value must be a valid URL string",
        ),
        ({"redirect_pool_id": "nope"}, "Value should be UUID format"),
        (
            {"position": 0},
            "Invalid input for field/attribute position. Value: '0'. "
            "Value should be greater or equal to 1",
        ),
        ({"position": 2147483648}, "Value should be lower or equal to 2147483647"),
        ({"name": "x" * 256}, "Value should have a maximum character requirement of 255"),
        ({"description": "x" * 256}, "Value should have a maximum character requirement of 255"),
        ({"tags": ["x" * 256]}, "Value should have a maximum character requirement of 255"),
        ({"bogus": 1}, "Unknown attribute for argument l7policy_.l7policy: bogus"),
    ],
)
def test_create_rejects_invalid_fields(
    client: TestClient, services: Services, fields: dict[str, Any], message: str
) -> None:
    """Body validation comes first: these fail before the listener is even looked up."""
    response = post(client, str(uuid.uuid4()), **fields)
    assert response.status_code == 400
    assert message in fault(response)
    assert policy_count(services) == 0


def test_body_without_wrapper_is_rejected(client: TestClient, tree: Tree) -> None:
    response = client.post(URL, json={"listener_id": tree.listener_id}, headers=P1)
    assert response.status_code == 400
    assert fault(response) == "Unknown attributes for argument l7policy_: listener_id"


@pytest.mark.parametrize(
    "url",
    [
        "http://a.com",
        "https://www.example.com/path/x.html?q=1&r=[2]#frag",
        "http://1.2.3.4:8080",
        "http://[::1]/",
        "http://user@host",
        "http://h:",
        "http://a.com/%zz",
    ],
)
def test_valid_redirect_urls(url: str) -> None:
    assert is_redirect_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "bad url",
        "example.com",
        "/relative",
        "ftp://a.com",
        "HTTP://a.com",
        "http:/a.com",
        "http://",
        "http://a.com/a b",
        "http://a.com/\n",
        "http://a.com\t",
        "http://999.1.1.1",
        "http://[zz]",
        "http://h:123456",
        "http://a.com/[x]",
        "http://e\u00e9.com",
        "//a.com",
    ],
)
def test_invalid_redirect_urls(url: str) -> None:
    assert not is_redirect_url(url)


# --- listener and redirect pool checks ---------------------------------------------------


def test_unknown_listener_is_404(client: TestClient, tree: Tree) -> None:
    missing = str(uuid.uuid4())
    response = post(client, missing)
    assert response.status_code == 404
    assert fault(response) == f"Listener {missing} not found."


def test_prometheus_listener_takes_no_policies(
    client: TestClient, services: Services, tree: Tree
) -> None:
    listener_id = add_listener(client, services, tree.loadbalancer_id, "PROMETHEUS")
    response = post(client, listener_id)
    assert response.status_code == 400
    assert fault(response) == "Protocol PROMETHEUS listeners cannot have child objects."
    assert policy_count(services) == 0


def test_amphora_provider_supports_l7_only_on_http_listeners(
    client: TestClient, services: Services, tree: Tree
) -> None:
    listener_id = add_listener(client, services, tree.loadbalancer_id, "TCP")
    response = post(client, listener_id)
    assert response.status_code == 501
    assert response.json()["faultcode"] == "Server"
    assert fault(response) == (
        "Provider 'amphora' does not support a requested option: "
        "TCP protocol listeners do not support L7 policies"
    )
    assert policy_count(services) == 0
    assert status_of(services, LoadBalancer, tree.loadbalancer_id) == "ACTIVE"


def test_terminated_https_listener_takes_policies(
    client: TestClient, services: Services, tree: Tree
) -> None:
    listener_id = add_listener_row(services, tree.loadbalancer_id, "TERMINATED_HTTPS")
    assert post(client, listener_id).status_code == 201


def test_unknown_redirect_pool_is_404(client: TestClient, services: Services, tree: Tree) -> None:
    missing = str(uuid.uuid4())
    response = post(client, tree.listener_id, action="REDIRECT_TO_POOL", redirect_pool_id=missing)
    assert response.status_code == 404
    assert fault(response) == f"Pool {missing} not found."
    assert policy_count(services) == 0


def test_redirect_pool_protocol_must_suit_the_listener(
    client: TestClient, services: Services, tree: Tree
) -> None:
    pool_id = add_pool(client, services, tree.loadbalancer_id, "TCP")
    response = post(client, tree.listener_id, action="REDIRECT_TO_POOL", redirect_pool_id=pool_id)
    assert response.status_code == 400
    assert fault(response) == (
        "Validation failure: The pool protocol 'TCP' is invalid while "
        "the listener protocol is 'HTTP'."
    )
    assert policy_count(services) == 0


@pytest.mark.parametrize("protocol", ["PROXY", "PROXYV2"])
def test_proxy_pools_suit_http_listeners(
    client: TestClient, services: Services, tree: Tree, protocol: str
) -> None:
    pool_id = add_pool(client, services, tree.loadbalancer_id, protocol)
    response = post(client, tree.listener_id, redirect_pool_id=pool_id)
    assert response.status_code == 201
    assert response.json()["l7policy"]["action"] == "REDIRECT_TO_POOL"


def test_redirect_pool_must_be_on_the_same_loadbalancer(
    client: TestClient, services: Services, tree: Tree
) -> None:
    other = build_tree(client, services)
    response = post(
        client, tree.listener_id, action="REDIRECT_TO_POOL", redirect_pool_id=other.pool_id
    )
    assert response.status_code == 404
    assert fault(response) == f"Pool {other.pool_id} not found."


# --- positions ---------------------------------------------------------------------------


def test_positions_append_by_default_and_insert_shifts_the_rest(
    client: TestClient, services: Services, tree: Tree
) -> None:
    first = create(client, services, tree.listener_id)
    second = create(client, services, tree.listener_id)
    assert (first["position"], second["position"]) == (1, 2)
    inserted = create(client, services, tree.listener_id, position=1)
    assert inserted["position"] == 1
    far = create(client, services, tree.listener_id, position=99)
    assert far["position"] == 4
    middle = create(client, services, tree.listener_id, position=4)
    assert positions(services, tree.listener_id) == [
        (inserted["id"], 1),
        (first["id"], 2),
        (second["id"], 3),
        (middle["id"], 4),
        (far["id"], 5),
    ]
    assert show(client, first["id"])["position"] == 2


def test_positions_are_per_listener(client: TestClient, services: Services, tree: Tree) -> None:
    other_listener = add_listener(client, services, tree.loadbalancer_id)
    create(client, services, tree.listener_id)
    assert create(client, services, other_listener)["position"] == 1


def test_update_moves_a_policy_and_renumbers(
    client: TestClient, services: Services, tree: Tree
) -> None:
    ids = [create(client, services, tree.listener_id)["id"] for _ in range(4)]
    response = put(client, ids[3], position=2)
    assert response.status_code == 200
    assert response.json()["l7policy"]["position"] == 2
    converge(services)
    assert [ident for ident, _ in positions(services, tree.listener_id)] == [
        ids[0],
        ids[3],
        ids[1],
        ids[2],
    ]
    put(client, ids[0], position=2147483647)
    converge(services)
    assert positions(services, tree.listener_id) == [
        (ids[3], 1),
        (ids[1], 2),
        (ids[2], 3),
        (ids[0], 4),
    ]


def test_delete_renumbers_the_remaining_policies(
    client: TestClient, services: Services, tree: Tree
) -> None:
    ids = [create(client, services, tree.listener_id)["id"] for _ in range(3)]
    assert client.delete(f"{URL}/{ids[0]}", headers=P1).status_code == 204
    assert show(client, ids[1])["position"] == 1
    assert show(client, ids[2])["position"] == 2
    converge(services)
    assert positions(services, tree.listener_id) == [(ids[1], 1), (ids[2], 2)]


# --- update ------------------------------------------------------------------------------


def test_update_returns_200_and_marks_the_tree(
    client: TestClient, services: Services, tree: Tree
) -> None:
    policy = create(client, services, tree.listener_id, tags=["old"])
    response = put(
        client,
        policy["id"],
        action="REDIRECT_TO_URL",
        redirect_url="http://www.example.com",
        name="n",
        tags=["new"],
    )
    assert response.status_code == 200
    updated = response.json()["l7policy"]
    assert updated["action"] == "REDIRECT_TO_URL"
    assert updated["redirect_http_code"] == 302
    assert updated["name"] == "n"
    assert updated["tags"] == ["new"]
    assert updated["provisioning_status"] == "PENDING_UPDATE"
    assert updated["updated_at"] is not None
    assert tree_statuses(services, tree) == ("PENDING_UPDATE", "PENDING_UPDATE")
    converge(services)
    assert show(client, policy["id"])["provisioning_status"] == "ACTIVE"


@pytest.mark.parametrize(
    ("start", "change", "expected"),
    [
        # A target alone switches the action and clears the other fields.
        (
            {"action": "REJECT"},
            {"redirect_pool_id": "POOL"},
            {"action": "REDIRECT_TO_POOL", "redirect_pool_id": "POOL", "redirect_http_code": None},
        ),
        (
            {"action": "REJECT"},
            {"redirect_url": "http://www.example.com/"},
            {
                "action": "REDIRECT_TO_URL",
                "redirect_url": "http://www.example.com/",
                "redirect_http_code": 302,
            },
        ),
        # Switching target without a code resets it to 302, as Octavia's sanitizer does.
        (
            {"redirect_url": "http://a.com", "redirect_http_code": 301},
            {"redirect_prefix": "http://b.com"},
            {
                "action": "REDIRECT_PREFIX",
                "redirect_url": None,
                "redirect_prefix": "http://b.com",
                "redirect_http_code": 302,
            },
        ),
        (
            {"redirect_url": "http://a.com"},
            {"redirect_pool_id": "POOL"},
            {"action": "REDIRECT_TO_POOL", "redirect_url": None, "redirect_http_code": None},
        ),
        (
            {"redirect_pool_id": "POOL"},
            {"redirect_url": "http://a.com"},
            {"action": "REDIRECT_TO_URL", "redirect_pool_id": None, "redirect_http_code": 302},
        ),
        # REJECT clears everything.
        (
            {"redirect_url": "http://a.com", "redirect_http_code": 307},
            {"action": "REJECT"},
            {"action": "REJECT", "redirect_url": None, "redirect_http_code": None},
        ),
        # The code alone changes; null clears it, as Octavia allows.
        (
            {"redirect_url": "http://a.com"},
            {"redirect_http_code": 308},
            {"action": "REDIRECT_TO_URL", "redirect_http_code": 308},
        ),
        (
            {"redirect_url": "http://a.com"},
            {"redirect_http_code": None},
            {"redirect_url": "http://a.com", "redirect_http_code": None},
        ),
        # A code on a REJECT policy has nothing to apply to.
        (
            {"action": "REJECT"},
            {"redirect_http_code": 301},
            {"action": "REJECT", "redirect_http_code": None},
        ),
        (
            {"action": "REJECT"},
            {"name": "x", "position": None, "tags": None},
            {"action": "REJECT", "name": "x", "position": 1, "tags": []},
        ),
    ],
)
def test_update_action_and_redirect_fields(
    client: TestClient,
    services: Services,
    tree: Tree,
    start: dict[str, Any],
    change: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    def with_pool(fields: dict[str, Any]) -> dict[str, Any]:
        return {key: tree.pool_id if value == "POOL" else value for key, value in fields.items()}

    policy = create(client, services, tree.listener_id, **with_pool(start))
    response = put(client, policy["id"], **with_pool(change))
    assert response.status_code == 200, response.text
    updated = response.json()["l7policy"]
    assert {key: updated[key] for key in expected} == with_pool(expected)


@pytest.mark.parametrize(
    ("start", "change", "status", "message"),
    [
        ({}, {}, 400, "Invalid L7 Policy arguments: Invalid update options"),
        ({}, {"action": None}, 400, "Invalid L7 Policy action specified: None"),
        ({}, {"action": "BOGUS"}, 400, "Value should be one of: REJECT"),
        (
            {},
            {"action": "REDIRECT_TO_URL"},
            400,
            "Invalid L7 Policy arguments: redirect_url must not be None",
        ),
        (
            {"redirect_url": "http://a.com"},
            {"redirect_url": None},
            400,
            "Invalid L7 Policy arguments: redirect_url must not be None",
        ),
        (
            {"redirect_prefix": "http://a.com"},
            {"redirect_prefix": None},
            400,
            "Invalid L7 Policy arguments: redirect_prefix must not be None",
        ),
        (
            {"redirect_pool_id": "POOL"},
            {"redirect_pool_id": None},
            400,
            "Invalid L7 Policy arguments: redirect_pool_id or redirect_pool must not be None",
        ),
        (
            {},
            {"redirect_pool_id": "POOL", "redirect_url": "http://a.com"},
            400,
            "Invalid L7 Policy arguments: Cannot specify redirect_pool_id and redirect_url or "
            "redirect_prefix at the same time",
        ),
        ({}, {"redirect_url": "bad-url"}, 400, "Value must be a valid URL string"),
        ({}, {"redirect_http_code": ""}, 400, "Value should be one of: 301, 302, 303, 307, 308"),
        (
            {},
            {"listener_id": "LISTENER"},
            400,
            "Unknown attribute for argument l7policy_.l7policy: listener_id",
        ),
        ({}, {"rules": []}, 400, "Unknown attribute for argument l7policy_.l7policy: rules"),
        ({}, {"position": 0}, 400, "Value should be greater or equal to 1"),
        ({}, {"redirect_pool_id": "MISSING"}, 404, "Pool MISSING not found."),
    ],
)
def test_update_rejects(
    client: TestClient,
    services: Services,
    tree: Tree,
    start: dict[str, Any],
    change: dict[str, Any],
    status: int,
    message: str,
) -> None:
    missing = str(uuid.uuid4())
    names = {"POOL": tree.pool_id, "LISTENER": tree.listener_id, "MISSING": missing}

    def fill(fields: dict[str, Any]) -> dict[str, Any]:
        return {
            key: names.get(value, value) if isinstance(value, str) else value
            for key, value in fields.items()
        }

    policy = create(client, services, tree.listener_id, **fill(start))
    response = put(client, policy["id"], **fill(change))
    assert response.status_code == status
    assert message.replace("MISSING", missing) in fault(response)
    unchanged = show(client, policy["id"])
    kept = ("action", "position", *[key for key in unchanged if key.startswith("redirect_")])
    assert {key: unchanged[key] for key in kept} == {key: policy[key] for key in kept}
    assert unchanged["provisioning_status"] == "ACTIVE"
    assert tree_statuses(services, tree) == ("ACTIVE", "ACTIVE")


def test_update_checks_the_redirect_pool(
    client: TestClient, services: Services, tree: Tree
) -> None:
    policy = create(client, services, tree.listener_id)
    pool_id = add_pool(client, services, tree.loadbalancer_id, "HTTPS")
    response = put(client, policy["id"], redirect_pool_id=pool_id)
    assert response.status_code == 400
    assert fault(response) == (
        "Validation failure: The pool protocol 'HTTPS' is invalid while "
        "the listener protocol is 'HTTP'."
    )


def test_update_with_empty_tags_clears_them(
    client: TestClient, services: Services, tree: Tree
) -> None:
    policy = create(client, services, tree.listener_id, tags=["a"])
    assert put(client, policy["id"], tags=[]).json()["l7policy"]["tags"] == []


# --- delete ------------------------------------------------------------------------------


def test_delete_marks_policy_rules_and_parents(
    client: TestClient, services: Services, tree: Tree
) -> None:
    policy = create(
        client,
        services,
        tree.listener_id,
        rules=[{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/a"}],
    )
    rule_id = policy["rules"][0]["id"]
    response = client.delete(f"{URL}/{policy['id']}", headers=P1)
    assert response.status_code == 204
    assert response.content == b""
    assert status_of(services, L7Policy, policy["id"]) == "PENDING_DELETE"
    assert status_of(services, L7Rule, rule_id) == "PENDING_DELETE"
    assert tree_statuses(services, tree) == ("PENDING_UPDATE", "PENDING_UPDATE")
    converge(services)
    response = client.get(f"{URL}/{policy['id']}", headers=P1)
    assert response.status_code == 404
    assert fault(response) == f"L7 Policy {policy['id']} not found."
    assert status_of(services, L7Rule, rule_id) is None
    assert tree_statuses(services, tree) == ("ACTIVE", "ACTIVE")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_policy_is_404(client: TestClient, tree: Tree, method: str) -> None:
    missing = str(uuid.uuid4())
    response = client.request(
        method,
        f"{URL}/{missing}",
        headers=P1,
        json={"l7policy": {"name": "x"}} if method == "PUT" else None,
    )
    assert response.status_code == 404
    assert fault(response) == f"L7 Policy {missing} not found."


# --- 409 while the load balancer is busy -------------------------------------------------


def test_writes_while_the_loadbalancer_is_pending_are_409(
    client: TestClient, services: Services, tree: Tree
) -> None:
    policy = create(client, services, tree.listener_id)
    created(post(client, tree.listener_id), "l7policy")  # LB now PENDING_UPDATE
    message = f"Load Balancer {tree.loadbalancer_id} is immutable and cannot be updated."
    for response in (
        post(client, tree.listener_id),
        put(client, policy["id"], name="x"),
        client.delete(f"{URL}/{policy['id']}", headers=P1),
    ):
        assert response.status_code == 409
        assert fault(response) == message
    assert policy_count(services) == 2
    assert show(client, policy["id"])["name"] == ""
    assert status_of(services, L7Policy, policy["id"]) == "ACTIVE"


# --- quotas ------------------------------------------------------------------------------


def test_policy_quota(tmp_path: Path) -> None:
    settings = Settings(accept_any_subnet=True, quota_defaults=QuotaDefaults(l7policy=1))
    services = make_services(tmp_path, settings=settings)
    with api_client(services) as client:
        tree = build_tree(client, services)
        create(client, services, tree.listener_id)
        response = post(client, tree.listener_id)
        assert response.status_code == 403
        assert fault(response) == "Quota has been met for resources: L7 Policy"
        assert policy_count(services) == 1
        assert tree_statuses(services, tree) == ("ACTIVE", "ACTIVE")


def test_nested_rules_count_against_the_rule_quota(tmp_path: Path) -> None:
    settings = Settings(accept_any_subnet=True, quota_defaults=QuotaDefaults(l7rule=1))
    services = make_services(tmp_path, settings=settings)
    rule = {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/a"}
    with api_client(services) as client:
        tree = build_tree(client, services)
        response = post(client, tree.listener_id, rules=[rule, rule])
        assert response.status_code == 403
        assert fault(response) == "Quota has been met for resources: L7 Rule"
        assert policy_count(services) == 0


# --- nested rules on create --------------------------------------------------------------


def test_create_with_rules(client: TestClient, services: Services, tree: Tree) -> None:
    rules = [
        {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"},
        {
            "type": "HEADER",
            "compare_type": "EQUAL_TO",
            "key": "X-A",
            "value": "b",
            "invert": True,
            "tags": ["t"],
        },
    ]
    response = post(client, tree.listener_id, rules=rules)
    assert response.status_code == 201, response.text
    policy = response.json()["l7policy"]
    assert len(policy["rules"]) == 2
    listed = client.get(f"{URL}/{policy['id']}/rules", headers=P1).json()["rules"]
    assert {rule["id"] for rule in listed} == {rule["id"] for rule in policy["rules"]}
    assert {rule["provisioning_status"] for rule in listed} == {"PENDING_CREATE"}
    header = next(rule for rule in listed if rule["type"] == "HEADER")
    assert (header["key"], header["invert"], header["tags"]) == ("X-A", True, ["t"])


@pytest.mark.parametrize(
    ("rule", "status", "message"),
    [
        (
            {"type": "HEADER", "compare_type": "EQUAL_TO", "value": "b"},
            400,
            "Error parsing L7Rule: Invalid L7 Rule: L7 rule type requires a key",
        ),
        (
            {"type": "PATH", "compare_type": "STARTS_WITH"},
            400,
            "Invalid input for field/attribute value. Value: 'Unset'. Mandatory field missing.",
        ),
        (
            {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/a", "bogus": 1},
            400,
            "Unknown attribute for argument l7policy_.l7policy.rules: bogus",
        ),
    ],
)
def test_create_with_bad_rules(
    client: TestClient,
    services: Services,
    tree: Tree,
    rule: dict[str, Any],
    status: int,
    message: str,
) -> None:
    response = post(client, tree.listener_id, rules=[rule])
    assert response.status_code == status
    assert fault(response) == message
    assert policy_count(services) == 0


def test_create_with_too_many_rules_is_409(
    client: TestClient, services: Services, tree: Tree
) -> None:
    rule = {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/a"}
    response = post(client, tree.listener_id, rules=[rule] * 51)
    assert response.status_code == 409
    assert fault(response).startswith("Too many rules on L7 policy ")
    assert policy_count(services) == 0
    assert post(client, tree.listener_id, rules=[rule] * 50).status_code == 201


# --- RBAC --------------------------------------------------------------------------------


def test_other_projects_get_403(client: TestClient, services: Services, tree: Tree) -> None:
    policy = create(client, services, tree.listener_id)
    assert post(client, tree.listener_id, headers=P2).status_code == 403
    for method in ("GET", "PUT", "DELETE"):
        response = client.request(
            method,
            f"{URL}/{policy['id']}",
            headers=P2,
            json={"l7policy": {"name": "x"}} if method == "PUT" else None,
        )
        assert response.status_code == 403
        assert fault(response) == "Policy does not allow this request to be performed."
    assert show(client, policy["id"])["name"] == ""
    assert policy_count(services) == 1


@pytest.mark.parametrize("headers", [READER, as_project("p1", "load-balancer_observer")])
def test_readers_read_but_do_not_write(
    client: TestClient, services: Services, tree: Tree, headers: dict[str, str]
) -> None:
    policy = create(client, services, tree.listener_id)
    assert client.get(f"{URL}/{policy['id']}", headers=headers).status_code == 200
    assert client.get(URL, headers=headers).json()["l7policies"][0]["id"] == policy["id"]
    assert post(client, tree.listener_id, headers=headers).status_code == 403
    assert put(client, policy["id"], headers=headers, name="x").status_code == 403
    assert client.delete(f"{URL}/{policy['id']}", headers=headers).status_code == 403
    assert policy_count(services) == 1


def test_legacy_member_role_writes(client: TestClient, tree: Tree) -> None:
    headers = as_project("p1", "load-balancer_member")
    assert post(client, tree.listener_id, headers=headers).status_code == 201


def test_admin_writes_other_projects_policies(
    client: TestClient, services: Services, tree: Tree
) -> None:
    response = post(client, tree.listener_id, headers=ADMIN)
    assert response.status_code == 201
    assert response.json()["l7policy"]["project_id"] == "p1"
    converge(services)
    assert (
        put(client, response.json()["l7policy"]["id"], headers=ADMIN, name="a").status_code == 200
    )


def test_list_is_scoped_to_the_callers_project(
    client: TestClient, services: Services, tree: Tree
) -> None:
    mine = create(client, services, tree.listener_id)
    other_tree = build_tree(client, services, P2)
    theirs_id = created(post(client, other_tree.listener_id, headers=P2), "l7policy")
    assert [p["id"] for p in client.get(URL, headers=P1).json()["l7policies"]] == [mine["id"]]
    assert [p["id"] for p in client.get(URL, headers=P2).json()["l7policies"]] == [theirs_id]
    assert client.get(f"{URL}?project_id=p2", headers=P1).status_code == 403
    for headers in (ADMIN, GLOBAL_OBSERVER):
        listed = client.get(URL, headers=headers).json()["l7policies"]
        assert {p["id"] for p in listed} == {mine["id"], theirs_id}
        filtered = client.get(f"{URL}?project_id=p2", headers=headers).json()["l7policies"]
        assert [p["id"] for p in filtered] == [theirs_id]


def test_unauthenticated_requests_get_401(client: TestClient) -> None:
    assert client.get(URL).status_code == 401


# --- list: filters, sorting, paging, fields, tags ----------------------------------------


@pytest.fixture
def three(client: TestClient, services: Services, tree: Tree) -> list[dict[str, Any]]:
    return [
        create(client, services, tree.listener_id, name="a", tags=["x", "y"]),
        create(
            client,
            services,
            tree.listener_id,
            name="b",
            action="REDIRECT_TO_URL",
            redirect_url="http://a.com",
            tags=["x"],
        ),
        create(
            client,
            services,
            tree.listener_id,
            name="c",
            redirect_pool_id=tree.pool_id,
            admin_state_up=False,
        ),
    ]


def listed_names(client: TestClient, query: str) -> list[str]:
    response = client.get(f"{URL}?{query}", headers=P1)
    assert response.status_code == 200, response.text
    return [policy.get("name") for policy in response.json()["l7policies"]]


LIST_CASES = [
    ("", ["a", "b", "c"]),
    ("name=b", ["b"]),
    ("action=REDIRECT_TO_URL", ["b"]),
    ("action=REJECT&action=REDIRECT_TO_POOL", ["a", "c"]),
    ("position=3", ["c"]),
    ("admin_state_up=false", ["c"]),
    ("redirect_http_code=302", ["b"]),
    ("provisioning_status=ACTIVE", ["a", "b", "c"]),
    ("tags=x", ["a", "b"]),
    ("tags=x,y", ["a"]),
    ("tags-any=y", ["a"]),
    ("not-tags=x", ["c"]),
    ("not-tags-any=y", ["b", "c"]),
    ("sort=name:desc", ["c", "b", "a"]),
    ("sort_key=position&sort_dir=desc", ["c", "b", "a"]),
]


def test_list_filters_and_sorting(client: TestClient, three: list[dict[str, Any]]) -> None:
    for query, names in LIST_CASES:
        assert listed_names(client, query) == names, query


def test_list_filters_by_id_listener_and_pool(
    client: TestClient, services: Services, tree: Tree, three: list[dict[str, Any]]
) -> None:
    assert listed_names(client, f"id={three[1]['id']}") == ["b"]
    assert listed_names(client, f"listener_id={tree.listener_id}") == ["a", "b", "c"]
    assert listed_names(client, f"listener_id={uuid.uuid4()}") == []
    assert listed_names(client, f"redirect_pool_id={tree.pool_id}") == ["c"]


def test_list_pagination_and_fields(client: TestClient, three: list[dict[str, Any]]) -> None:
    response = client.get(f"{URL}?limit=2&fields=id&fields=name", headers=P1).json()
    assert response["l7policies"] == [
        {"id": three[0]["id"], "name": "a"},
        {"id": three[1]["id"], "name": "b"},
    ]
    [link] = response["l7policies_links"]
    assert link["rel"] == "next"
    assert f"marker={three[1]['id']}" in link["href"]
    following = client.get(f"{URL}?limit=2&marker={three[1]['id']}", headers=P1).json()
    assert [p["name"] for p in following["l7policies"]] == ["c"]
    assert {link["rel"] for link in following["l7policies_links"]} == {"previous"}


def test_show_fields(client: TestClient, three: list[dict[str, Any]]) -> None:
    response = client.get(f"{URL}/{three[0]['id']}?fields=action&fields=position", headers=P1)
    assert response.json() == {"l7policy": {"action": "REJECT", "position": 1}}


def test_list_rejects_bad_queries(client: TestClient, three: list[dict[str, Any]]) -> None:
    for query in ("bogus=1", "sort=bogus", "sort=name:up", "limit=abc", "position=abc"):
        assert client.get(f"{URL}?{query}", headers=P1).status_code == 400, query


def test_list_shows_rule_ids(client: TestClient, services: Services, tree: Tree) -> None:
    rule = {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/a"}
    policy = create(client, services, tree.listener_id, rules=[rule])
    [listed] = client.get(URL, headers=P1).json()["l7policies"]
    assert listed["rules"] == policy["rules"]
    assert listed["provisioning_status"] == "ACTIVE"


# --- the validation the single-call create reuses ----------------------------------------


def test_validate_values_accepts_a_redirect_pool_spec() -> None:
    values = validate_l7policy_values(
        {"action": "REDIRECT_TO_POOL", "redirect_pool": {"name": "p2"}}, "HTTP"
    )
    assert values["action"] == "REDIRECT_TO_POOL"
    assert values["redirect_pool"] == {"name": "p2"}
    assert "redirect_pool_id" not in values
    assert values["redirect_http_code"] is None


def test_validate_values_switches_action_and_defaults_the_code() -> None:
    values = validate_l7policy_values(
        {"action": "REJECT", "redirect_prefix": None, "redirect_url": None, "position": 2147483647},
        "TERMINATED_HTTPS",
    )
    assert values["action"] == "REJECT"
    values = validate_l7policy_values(
        {"action": "REDIRECT_TO_URL", "redirect_url": "http://a.com"}, "HTTP"
    )
    assert values["redirect_http_code"] == 302
    assert values["redirect_pool_id"] is None and values["redirect_prefix"] is None


def test_validate_values_errors() -> None:
    with pytest.raises(InvalidInput, match="redirect_pool_id or redirect_pool must not be None"):
        validate_l7policy_values({"action": "REDIRECT_TO_POOL"}, "HTTP")
    with pytest.raises(InvalidInput, match="Cannot specify redirect_pool_id"):
        validate_l7policy_values(
            {
                "action": "REDIRECT_PREFIX",
                "redirect_pool": {"name": "p"},
                "redirect_prefix": "http://a.com",
            },
            "HTTP",
        )
    with pytest.raises(InvalidInput, match="Invalid L7 Policy action specified: None"):
        validate_l7policy_values({"name": "x"}, "HTTP")
    with pytest.raises(InvalidInput, match="Protocol PROMETHEUS listeners"):
        validate_l7policy_values({"action": "REJECT"}, "PROMETHEUS")
    with pytest.raises(
        NotImplementedOption,
        match="Provider 'octavia' does not support a requested option: UDP protocol",
    ):
        validate_l7policy_values({"action": "REJECT"}, "UDP", provider="octavia")
