"""A bundle with UDP listeners, rendered by the controller's own function, served by the
agent's nginx: datagrams through the VIP reach the member, and the agent stops nginx again.
"""

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pier.agent.layout import amphora_directory
from pier.amphora import HaproxyLimits
from pier.amphora.bundle import render_amphora_config
from pier.domain.enums import ListenerProtocol, PoolProtocol
from tests.integration.agent.agent_process import AgentProcess, loopback_network, nginx_pids
from tests.unit.amphora.specs import listener, loadbalancer, member, pool

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def nginx_installed() -> None:
    if not Path("/usr/lib/nginx/modules/ngx_stream_module.so").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("nginx with the stream module is not installed")
        pytest.skip("nginx is not installed (apt-get install -y nginx-light libnginx-mod-stream)")


@pytest.fixture
def udp_member() -> Iterator[tuple[str, int]]:
    """A UDP server that answers each datagram with `udp-0`."""
    address = loopback_network()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind((address, 0))
        server.settimeout(0.1)
        stopping = threading.Event()

        def serve() -> None:
            while not stopping.is_set():
                try:
                    _, peer = server.recvfrom(65536)
                except TimeoutError:
                    continue
                server.sendto(b"udp-0", peer)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield address, server.getsockname()[1]
        finally:
            stopping.set()
            thread.join(timeout=5)


def ask(vip: str, port: int) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(2.0)
        client.sendto(b"hello", (vip, port))
        try:
            return client.recv(65536).decode()
        except TimeoutError:
            return None


def test_udp_listeners_are_served_by_nginx_and_stopped(
    agent: AgentProcess, amphora_id: str, udp_member: tuple[str, int]
) -> None:
    vip = loopback_network()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((vip, 0))
        port = probe.getsockname()[1]
    udp_pool = pool("pool-1", PoolProtocol.UDP, members=(member("member-0", *udp_member),))
    front = listener("listener-1", ListenerProtocol.UDP, port, default_pool_id="pool-1")
    spec = loadbalancer(vip_address=vip, listeners=(front,), pools=(udp_pool,))
    bundle = render_amphora_config(spec, HaproxyLimits(max_connections=4000))
    empty = render_amphora_config(loadbalancer(vip_address=vip), HaproxyLimits())
    path = f"/amphorae/{amphora_id}"

    with agent.client() as client:
        client.post("/amphorae", json={"amphora_id": amphora_id, "loadbalancer_id": "lb-1"})
        started = client.put(f"{path}/config", content=bundle.text).json()
        state = client.get(path).json()
        answer = ask(vip, port)
        stopped = client.put(f"{path}/config", content=empty.text).json()

    assert started == {"version": bundle.version, "applied": "start"}
    assert (state["state"], state["version"]) == ("running", bundle.version)
    assert answer == "udp-0"
    assert stopped["applied"] == "stop"
    assert nginx_pids(amphora_directory(agent.state_dir, amphora_id).path) == []
