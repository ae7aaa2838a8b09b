"""Heartbeats end to end: a real HAProxy with an HTTP health monitor in front of two real
backends, a real HeartbeatSender reading its stats socket, a real HealthManager over UDP, and
the API reading what it wrote.

The tree is made through the API and converged by the worker (fake compute); the amphora's
HAProxy runs the configuration the worker renders, its VIP moved onto a loopback address.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from pier.agent.heartbeat import HeartbeatSender, Reporting, heartbeat_from_stats, read_stats
from pier.amphora.bundle import AGENT_PATHS
from pier.amphora.haproxy_config import render_haproxy_config
from pier.db.engine import transaction
from pier.db.snapshot import load_spec
from pier.db.tables.lbaas import Amphora, AmphoraHealth
from pier.health.manager import HealthManager
from pier.settings import Settings
from pier.wire.agent_api import AMPHORA_DIR_ENV
from pier.wire.heartbeat import HeartbeatMessage, ListenerReport, ListenerStats, encode_heartbeat
from pier.worker.plan import AMPHORA_LIMITS
from tests.support.app import api_client, as_project, converge, make_services
from tests.support.backends import HttpBackend, free_port_on

pytestmark = pytest.mark.integration

HAPROXY = shutil.which("haproxy")
KEY = "integration-heartbeat-key"
VIP = "127.0.71.10"
ADMIN = as_project("admin-project", "admin")
DEADLINE_S = 60.0  # generous: the shared machine can stall any process for seconds
T = TypeVar("T")


def wait_until(probe: Callable[[], T | None], what: str) -> T:
    """Poll until `probe` returns something truthy; a bound, never a timing assertion."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {DEADLINE_S:.0f}s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def haproxy() -> str:
    if HAPROXY is None:
        if os.environ.get("CI") == "true":
            pytest.fail("haproxy is not installed; CI must run the heartbeat loop against it")
        pytest.skip("haproxy is not installed (apt-get install -y haproxy)")
    return HAPROXY


@contextmanager
def running_haproxy(binary: str, config: str) -> Iterator[Path]:
    """HAProxy on `config` with PIER_AMPHORA_DIR set as the agent sets it; yields the
    amphora directory (stats socket inside), always stopped, output shown on failure.
    """
    # Unix socket paths are limited to 107 bytes: a short directory, not pytest's tmp_path.
    directory = Path(tempfile.mkdtemp(prefix="pier-hb-"))
    (directory / "server-state").write_text("1\n")
    (directory / "haproxy.cfg").write_text(config)
    log_path = directory / "haproxy.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [binary, "-db", "-f", str(directory / "haproxy.cfg")],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, AMPHORA_DIR_ENV: str(directory)},
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: process.poll() is None and (directory / "stats.sock").exists(),
            f"haproxy's stats socket:\n{log_path.read_text(errors='replace')}",
        )
        yield directory
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def in_thread(run: Callable[[threading.Event], None], name: str) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(stop,), name=name)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=20)
        assert not thread.is_alive(), f"{name} did not stop"


class Tree:
    """The load balancer as the API shows it."""

    def __init__(self, client: TestClient, lb_id: str) -> None:
        self.client = client
        self.id = lb_id

    def statuses(self) -> dict[str, Any]:
        """Operating statuses from GET .../status: lb, listener, pool, members by address."""
        response = self.client.get(f"/v2/lbaas/loadbalancers/{self.id}/status", headers=ADMIN)
        assert response.status_code == 200, response.text
        lb = response.json()["statuses"]["loadbalancer"]
        [listener] = lb["listeners"]
        [pool] = listener["pools"]
        return {
            "lb": lb["operating_status"],
            "listener": listener["operating_status"],
            "pool": pool["operating_status"],
            "members": {m["address"]: m["operating_status"] for m in pool["members"]},
        }

    def stats(self, path: str) -> dict[str, int]:
        response = self.client.get(f"/v2/lbaas/{path}/stats", headers=ADMIN)
        assert response.status_code == 200, response.text
        stats: dict[str, int] = response.json()["stats"]
        return stats

    def reach(self, wanted: dict[str, Any], what: str) -> dict[str, Any]:
        seen: list[dict[str, Any]] = []

        def reached() -> dict[str, Any] | None:
            seen.append(self.statuses())
            return seen[-1] if seen[-1] == wanted else None

        try:
            return wait_until(reached, what)
        except TimeoutError as error:
            raise TimeoutError(f"{error}; last seen {seen[-1] if seen else None}") from None


def create_tree(client: TestClient, port: int, web1: HttpBackend, web2: HttpBackend) -> str:
    body = {
        "name": "heartbeats",
        "vip_subnet_id": str(uuid.uuid4()),
        "listeners": [{"protocol": "HTTP", "protocol_port": port, "default_pool": {"name": "web"}}],
        "pools": [
            {
                "name": "web",
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
                # delay 1 s; one failed check marks a member down, one good check up again.
                "healthmonitor": {
                    "type": "HTTP",
                    "delay": 1,
                    "timeout": 1,
                    "max_retries": 1,
                    "max_retries_down": 1,
                },
                "members": [
                    {"address": web1.address, "protocol_port": web1.port},
                    {"address": web2.address, "protocol_port": web2.port},
                ],
            }
        ],
    }
    response = client.post("/v2/lbaas/loadbalancers", json={"loadbalancer": body}, headers=ADMIN)
    assert response.status_code == 201, response.text
    lb_id: str = response.json()["loadbalancer"]["id"]
    return lb_id


def get(port: int) -> str:
    with urllib.request.urlopen(f"http://{VIP}:{port}/", timeout=10) as response:  # noqa: S310
        return str(response.read().decode())


@dataclass
class Rig:
    """Everything running: the API client's view, the manager, the backends."""

    tree: Tree
    manager: HealthManager
    web1: HttpBackend
    web2: HttpBackend
    amphora_id: str
    listener_id: str
    pool_id: str
    port: int  # the listener's, on VIP
    stats_socket: Path

    def all_online(self) -> dict[str, Any]:
        return self.expect("ONLINE", "ONLINE", "ONLINE", "ONLINE")

    def expect(self, lb: str, listener: str, pool: str, web2: str) -> dict[str, Any]:
        members = {self.web1.address: "ONLINE", self.web2.address: web2}
        return {"lb": lb, "listener": listener, "pool": pool, "members": members}


@pytest.fixture
def rig(haproxy: str, tmp_path: Path) -> Iterator[Rig]:
    settings = Settings(
        accept_any_subnet=True, health_port=0, heartbeat_key=KEY, heartbeat_interval_seconds=0.2
    )
    services = make_services(tmp_path, settings=settings)
    web1, web2 = HttpBackend("web1", "127.0.71.1"), HttpBackend("web2", "127.0.71.2")
    port = free_port_on(VIP)
    with ExitStack() as stack:
        for backend in (web1, web2):
            backend.start()
            stack.callback(backend.stop)
        client = stack.enter_context(api_client(services))
        lb_id = create_tree(client, port, web1, web2)
        converge(services)
        with transaction(services.sessions, write=False) as session:
            spec = load_spec(session, lb_id)
            amphora_id = session.scalars(select(Amphora.id).filter_by(loadbalancer_id=lb_id)).one()
        assert spec is not None and spec.provisioning_status == "ACTIVE"
        config = render_haproxy_config(
            replace(spec, vip_address=VIP), paths=AGENT_PATHS, limits=AMPHORA_LIMITS
        ).text
        directory = stack.enter_context(running_haproxy(haproxy, config))
        manager = HealthManager(
            services.sessions, settings, lambda: datetime.now(UTC), flush_interval=0.2
        )
        stack.callback(manager.close)
        sender = HeartbeatSender(
            key=KEY,
            targets=[("127.0.0.1", manager.start())],
            interval=0.2,
            source=lambda: [Reporting(amphora_id, directory / "stats.sock")],
            state_file=tmp_path / "heartbeat-state.json",
        )
        stack.enter_context(in_thread(manager.run, "health"))
        stack.enter_context(in_thread(sender.run, "heartbeats"))
        rig = Rig(
            Tree(client, lb_id),
            manager,
            web1,
            web2,
            amphora_id,
            spec.listeners[0].id,
            spec.pools[0].id,
            port,
            directory / "stats.sock",
        )
        rig.tree.reach(rig.all_online(), "the first heartbeats to bring the tree ONLINE")
        with transaction(services.sessions, write=False) as session:
            assert session.get(AmphoraHealth, amphora_id) is not None
        yield rig


def test_a_member_going_down_and_up_moves_member_pool_and_loadbalancer(rig: Rig) -> None:
    rig.web2.stop()
    rig.tree.reach(
        rig.expect("DEGRADED", "ONLINE", "DEGRADED", "ERROR"),
        "web2 to be ERROR and the tree DEGRADED",
    )

    rig.web2.start()  # the same address and port
    rig.tree.reach(rig.all_online(), "web2 to be ONLINE again")


def test_a_forged_heartbeat_changes_nothing(rig: Rig) -> None:
    """Wrong key, the amphora's id, a seq far ahead, a dead listener's worth of statuses and
    huge deltas: no status flips, no bytes counted, the real heartbeats not locked out.
    """
    lb_stats = rig.tree.stats(f"loadbalancers/{rig.tree.id}")
    steady = rig.manager.counters
    forged = HeartbeatMessage(
        rig.amphora_id,
        2**62,
        listeners={rig.listener_id: ListenerReport("FULL", ListenerStats(rx=10**12, tx=10**12))},
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(encode_heartbeat(forged, "not-" + KEY), ("127.0.0.1", rig.manager.port))

    def judged_and_two_flushes_later() -> bool:
        now = rig.manager.counters
        return now["forged"] > steady["forged"] and now["written"] >= steady["written"] + 2

    wait_until(judged_and_two_flushes_later, "the forgery and two genuine heartbeats after it")
    counters = rig.manager.counters
    assert counters["replayed"] == 0 and counters["accepted"] > steady["accepted"]
    assert counters["status_changes"] == steady["status_changes"]
    assert rig.tree.statuses() == rig.all_online()
    assert rig.tree.stats(f"loadbalancers/{rig.tree.id}")["bytes_in"] < lb_stats["bytes_in"] + 10**9


def test_statistics_grow_with_traffic(rig: Rig) -> None:
    before = rig.tree.stats(f"loadbalancers/{rig.tree.id}")

    answers = {get(rig.port) for _ in range(20)}

    assert answers == {"web1", "web2"}

    def counted() -> dict[str, int] | None:
        stats = rig.tree.stats(f"loadbalancers/{rig.tree.id}")
        grown = stats["total_connections"] >= before["total_connections"] + 20
        return stats if grown and stats["bytes_in"] > before["bytes_in"] else None

    after = wait_until(counted, "20 requests in the load balancer statistics")
    assert after["bytes_out"] > before["bytes_out"]
    listener = rig.tree.stats(f"listeners/{rig.listener_id}")
    assert listener["total_connections"] >= after["total_connections"]


def test_the_agent_reads_the_live_show_stat_as_octavias_amphora_would(rig: Rig) -> None:
    message, counters = heartbeat_from_stats(rig.amphora_id, 0, read_stats(rig.stats_socket), {})

    assert set(message.listeners) == set(counters) == {rig.listener_id}
    assert message.listeners[rig.listener_id].status == "OPEN"
    pool = message.pools[f"{rig.pool_id}:{rig.listener_id}"]
    assert pool.status == "UP" and sorted(pool.members.values()) == ["UP", "UP"]
