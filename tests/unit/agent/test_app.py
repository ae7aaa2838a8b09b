"""The agent API in process (Starlette's TestClient) over a manager with fake processes."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pier.agent.app import build_app
from pier.agent.layout import AmphoraDirectory
from pier.agent.manager import AmphoraManager
from pier.wire.agent_api import PREFIX, version_of
from tests.unit.agent.configs import bundle, haproxy_text, members
from tests.unit.agent.fakes import FakeHaproxy, FakeUdp

AMPHORA = {"amphora_id": "amphora-1", "loadbalancer_id": "lb-1"}
TWO = bundle(haproxy_text(members(8001, 8002)))


class Host:
    """The fakes each amphora got, by amphora directory name."""

    def __init__(self) -> None:
        self.haproxy: dict[str, FakeHaproxy] = {}

    def make_haproxy(self, directory: AmphoraDirectory) -> FakeHaproxy:
        return self.haproxy.setdefault(directory.path.name, FakeHaproxy(directory))


@pytest.fixture
def host() -> Host:
    return Host()


@pytest.fixture
def manager(tmp_path: Path, host: Host) -> AmphoraManager:
    return AmphoraManager(
        tmp_path / "state",
        haproxy_binary="/nonexistent/haproxy",
        haproxy_factory=host.make_haproxy,
        udp_factory=FakeUdp,
    )


@pytest.fixture
def client(manager: AmphoraManager) -> Iterator[TestClient]:
    with TestClient(build_app(manager), base_url="https://agent") as client:
        yield client


def test_versions_and_info(client: TestClient) -> None:
    assert client.get("/").json() == {"api_version": "1.0"}
    info = client.get(f"{PREFIX}/info").json()
    assert info["api_version"] == "1.0"
    assert info["haproxy_version"] == "unknown"  # the binary is missing here
    assert info["amphorae"] == 0


def test_create_is_idempotent_for_the_same_load_balancer(client: TestClient) -> None:
    created = client.post(f"{PREFIX}/amphorae", json=AMPHORA)
    again = client.post(f"{PREFIX}/amphorae", json=AMPHORA)
    other = client.post(f"{PREFIX}/amphorae", json={**AMPHORA, "loadbalancer_id": "lb-2"})

    assert created.status_code == 201
    assert created.json() == {
        **AMPHORA,
        "compute_id": "amphora-1",
        "state": "running",
        "version": None,
        "last_error": None,
    }
    assert (again.status_code, again.json()) == (200, created.json())
    assert other.status_code == 409
    assert set(other.json()) == {"message", "details"}
    assert client.get(f"{PREFIX}/amphorae").json() == {"amphorae": [created.json()]}


@pytest.mark.parametrize(
    "body",
    [
        {"amphora_id": "../escape", "loadbalancer_id": "lb-1"},
        {"amphora_id": ".hidden", "loadbalancer_id": "lb-1"},
        {"amphora_id": "a/b", "loadbalancer_id": "lb-1"},
        {"amphora_id": "amphora-1"},
        {"amphora_id": 7, "loadbalancer_id": "lb-1"},
    ],
)
def test_unusable_amphorae_are_refused(client: TestClient, body: object) -> None:
    response = client.post(f"{PREFIX}/amphorae", json=body)
    assert response.status_code == 400
    assert response.json()["message"]


def test_a_body_that_is_no_json_object_is_refused(client: TestClient) -> None:
    assert client.post(f"{PREFIX}/amphorae", content=b"[1]").status_code == 400
    assert client.post(f"{PREFIX}/amphorae", content=b"{").status_code == 400


def test_push_then_read_the_version(client: TestClient, host: Host) -> None:
    client.post(f"{PREFIX}/amphorae", json=AMPHORA)

    pushed = client.put(f"{PREFIX}/amphorae/amphora-1/config", content=TWO)
    again = client.put(f"{PREFIX}/amphorae/amphora-1/config", content=TWO)

    assert pushed.json() == {"version": version_of(TWO), "applied": "start"}
    assert again.json() == {"version": version_of(TWO), "applied": "unchanged"}
    assert client.get(f"{PREFIX}/amphorae/amphora-1").json()["version"] == version_of(TWO)
    assert host.haproxy["amphora-1"].running()


def test_refused_pushes_answer_400_with_haproxy_output(client: TestClient, host: Host) -> None:
    client.post(f"{PREFIX}/amphorae", json=AMPHORA)
    client.put(f"{PREFIX}/amphorae/amphora-1/config", content=TWO)
    host.haproxy["amphora-1"].refuse_check = "[ALERT] unknown keyword"

    refused = client.put(
        f"{PREFIX}/amphorae/amphora-1/config", content=bundle(haproxy_text(members(8001)))
    )
    not_json = client.put(f"{PREFIX}/amphorae/amphora-1/config", content=b"{")
    not_utf8 = client.put(f"{PREFIX}/amphorae/amphora-1/config", content=b"\xff")

    assert refused.status_code == 400
    assert refused.json() == {
        "message": "Invalid configuration",
        "details": "[ALERT] unknown keyword",
    }
    assert not_json.status_code == not_utf8.status_code == 400
    assert client.get(f"{PREFIX}/amphorae/amphora-1").json()["version"] == version_of(TWO)


def test_unknown_amphorae_and_routes(client: TestClient) -> None:
    assert client.get(f"{PREFIX}/amphorae/missing").status_code == 404
    assert client.put(f"{PREFIX}/amphorae/missing/config", content=TWO).status_code == 404
    missing = client.get(f"{PREFIX}/nothing-here")
    assert (missing.status_code, set(missing.json())) == (404, {"message", "details"})
    assert client.patch(f"{PREFIX}/amphorae").status_code == 405


def test_delete_is_idempotent(client: TestClient, host: Host, manager: AmphoraManager) -> None:
    client.post(f"{PREFIX}/amphorae", json=AMPHORA)
    client.put(f"{PREFIX}/amphorae/amphora-1/config", content=TWO)

    assert client.delete(f"{PREFIX}/amphorae/amphora-1").json() == {"message": "OK"}
    assert client.delete(f"{PREFIX}/amphorae/amphora-1").status_code == 200
    assert client.delete(f"{PREFIX}/amphorae/..").status_code in (200, 404)

    assert not host.haproxy["amphora-1"].running()
    assert client.get(f"{PREFIX}/amphorae/amphora-1").status_code == 404
    assert not (manager.state_dir / "amphorae" / "amphora-1").exists()


def test_a_new_manager_adopts_what_is_on_disk(
    client: TestClient, host: Host, tmp_path: Path
) -> None:
    client.post(f"{PREFIX}/amphorae", json=AMPHORA)
    client.put(f"{PREFIX}/amphorae/amphora-1/config", content=TWO)
    (tmp_path / "state" / "amphorae" / "unreadable").mkdir()

    restarted = AmphoraManager(
        tmp_path / "state", haproxy_factory=host.make_haproxy, udp_factory=FakeUdp
    )
    restarted.adopt()

    (state,) = restarted.list_states()
    assert (state["amphora_id"], state["version"]) == ("amphora-1", version_of(TWO))
    (reporting,) = restarted.reporting()
    assert reporting.amphora_id == "amphora-1"
    assert reporting.stats_socket == restarted.get_amphora("amphora-1").directory.stats_socket
    # What was not adopted can still be deleted, with whatever runs from it.
    restarted.delete("unreadable")
    assert not (tmp_path / "state" / "amphorae" / "unreadable").exists()
    assert "unreadable" in host.haproxy and not host.haproxy["unreadable"].running()
