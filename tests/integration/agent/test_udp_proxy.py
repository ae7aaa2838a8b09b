"""UdpProxy with the real nginx: UDP traffic through a loopback VIP to real UDP backends.

Each backend answers every datagram with its name, so a client sees which member served it.
Every client datagram comes from a fresh socket (a new source port), hence a new nginx session;
a client's later datagrams on one socket would stay in that session's member.
"""

import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pier.agent.udp import UdpConfigError, UdpProxy
from pier.amphora.nginx_config import render_udp_config
from pier.domain.enums import (
    HealthMonitorType,
    LbAlgorithm,
    ListenerProtocol,
    PoolProtocol,
    SessionPersistenceType,
)
from pier.domain.spec import LoadBalancerSpec, SessionPersistenceSpec
from tests.unit.amphora.specs import healthmonitor, listener, loadbalancer, member, pool

pytestmark = pytest.mark.integration

NGINX = Path("/usr/sbin/nginx")
STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")
VIP = "127.0.200.1"
# Bounds for polling, not expectations: a check result takes up to delay + timeout.
DELAY, TIMEOUT, RISE, FALL = 1, 1, 2, 2
FLIP_BOUND_S = (DELAY + TIMEOUT) * max(RISE, FALL) + 15


@pytest.fixture(autouse=True)
def nginx_installed() -> None:
    if not NGINX.exists() or not STREAM_MODULE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("nginx with the stream module is not installed")
        pytest.skip("nginx is not installed (apt-get install -y nginx-light libnginx-mod-stream)")


class UdpBackend:
    """A UDP server on loopback that answers each datagram with its name; stopped, its port is
    closed, so the kernel answers with ICMP port unreachable; started again on the same port.
    """

    def __init__(self, name: str, address: str) -> None:
        self.name = name
        self.address = address
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((address, 0))
            self.port: int = probe.getsockname()[1]
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self._stopping.clear()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((self.address, self.port))
        self._socket.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, args=(self._socket,), daemon=True)
        self._thread.start()

    def _serve(self, sock: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                _, peer = sock.recvfrom(65536)
            except TimeoutError:
                continue
            sock.sendto(self.name.encode(), peer)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self._socket = self._thread = None


@pytest.fixture
def backends() -> Iterator[tuple[UdpBackend, UdpBackend]]:
    first, second = UdpBackend("alpha", "127.0.201.1"), UdpBackend("beta", "127.0.201.2")
    first.start()
    second.start()
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def nginx_processes_under(directory: Path) -> list[int]:
    """Live nginx masters whose command line names `directory`, and their workers (found by
    the masters' process group, which survives a master killed under them).
    """
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
            stat = (entry / "stat").read_text().rpartition(")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if command.startswith("nginx:") and stat[0] != "Z":
            processes[int(entry.name)] = (command, int(stat[2]))
    masters = {pid for pid, (command, _) in processes.items() if f"{directory}/" in command}
    return sorted(
        pid for pid, (_, group) in processes.items() if pid in masters or group in masters
    )


@pytest.fixture
def amphora_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "amphora"
    try:
        yield directory
    finally:  # whatever a failed test left behind
        for pid in nginx_processes_under(directory):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def proxies(amphora_dir: Path) -> Iterator[Callable[[], UdpProxy]]:
    made: list[UdpProxy] = []

    def make() -> UdpProxy:
        made.append(UdpProxy(amphora_dir))
        return made[-1]

    try:
        yield make
    finally:
        for proxy in reversed(made):
            proxy.stop()


def udp_spec(
    port: int,
    *backends: UdpBackend,
    algorithm: LbAlgorithm = LbAlgorithm.ROUND_ROBIN,
    **pool_overrides: object,
) -> LoadBalancerSpec:
    members = tuple(member(b.name, b.address, b.port) for b in backends)
    udp_pool = pool("pool-1", PoolProtocol.UDP, algorithm, members=members, **pool_overrides)
    front = listener("listener-1", ListenerProtocol.UDP, port, default_pool_id="pool-1")
    return loadbalancer(vip_address=VIP, listeners=(front,), pools=(udp_pool,))


def config(spec: LoadBalancerSpec) -> str:
    text = render_udp_config(spec)
    assert text is not None
    return text


def ask(port: int, source: str = "127.0.0.1") -> str | None:
    """One datagram from a fresh socket; the name of the member that answered, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(2.0)
        sock.sendto(b"hello", (VIP, port))
        try:
            return sock.recv(65536).decode()
        except TimeoutError:
            return None


def wait_for(condition: Callable[[], bool], bound_s: float) -> bool:
    deadline = time.monotonic() + bound_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def monitored(port: int, *backends: UdpBackend) -> LoadBalancerSpec:
    monitor = healthmonitor(
        HealthMonitorType.UDP_CONNECT,
        delay=DELAY,
        timeout=TIMEOUT,
        max_retries=RISE,
        max_retries_down=FALL,
    )
    return udp_spec(port, *backends, healthmonitor=monitor)


# --- balancing -----------------------------------------------------------------------------


def test_round_robin_spreads_datagrams_over_both_members(
    backends: tuple[UdpBackend, UdpBackend], proxies: Callable[[], UdpProxy]
) -> None:
    port = free_udp_port(VIP)
    proxy = proxies()
    proxy.apply(config(udp_spec(port, *backends)))

    answers = Counter(ask(port) for _ in range(10))

    assert answers == {"alpha": 5, "beta": 5}
    assert proxy.running()
    assert proxy.member_statuses() == {
        "pool-1:listener-1": {"alpha": "no check", "beta": "no check"}
    }


def test_source_ip_persistence_pins_each_client_to_one_member(
    backends: tuple[UdpBackend, UdpBackend], proxies: Callable[[], UdpProxy]
) -> None:
    port = free_udp_port(VIP)
    sticky = SessionPersistenceSpec(SessionPersistenceType.SOURCE_IP)
    proxies().apply(config(udp_spec(port, *backends, session_persistence=sticky)))

    per_client = {
        source: Counter(ask(port, source) for _ in range(5))
        for source in (f"127.0.202.{n}" for n in range(1, 21))
    }

    assert all(len(answers) == 1 and None not in answers for answers in per_client.values())
    # Twenty clients over two members: the hash sends some to each.
    assert {name for answers in per_client.values() for name in answers} == {"alpha", "beta"}


# --- health checks -------------------------------------------------------------------------


def test_udp_connect_takes_a_stopped_member_out_and_brings_it_back(
    backends: tuple[UdpBackend, UdpBackend], proxies: Callable[[], UdpProxy]
) -> None:
    alpha, beta = backends
    port = free_udp_port(VIP)
    proxy = proxies()
    proxy.apply(config(monitored(port, alpha, beta)))
    statuses = proxy.member_statuses
    assert statuses() == {"pool-1:listener-1": {"alpha": "UP", "beta": "UP"}}

    beta.stop()
    assert wait_for(lambda: statuses()["pool-1:listener-1"]["beta"] == "DOWN", FLIP_BOUND_S)
    assert statuses()["pool-1:listener-1"]["alpha"] == "UP"
    assert Counter(ask(port) for _ in range(6)) == {"alpha": 6}

    beta.start()
    assert wait_for(lambda: statuses()["pool-1:listener-1"]["beta"] == "UP", FLIP_BOUND_S)
    assert Counter(ask(port) for _ in range(6)) == {"alpha": 3, "beta": 3}


def test_a_member_down_stays_down_across_a_new_configuration(
    backends: tuple[UdpBackend, UdpBackend], proxies: Callable[[], UdpProxy]
) -> None:
    alpha, beta = backends
    port = free_udp_port(VIP)
    proxy = proxies()
    proxy.apply(config(monitored(port, alpha, beta)))
    beta.stop()
    assert wait_for(
        lambda: proxy.member_statuses()["pool-1:listener-1"]["beta"] == "DOWN", FLIP_BOUND_S
    )

    spec = monitored(port, alpha, beta)
    longer = replace(spec, listeners=(replace(spec.listeners[0], timeout_member_data=60000),))
    proxy.apply(config(longer))

    assert proxy.member_statuses()["pool-1:listener-1"]["beta"] == "DOWN"
    assert Counter(ask(port) for _ in range(4)) == {"alpha": 4}


# --- configuration changes -----------------------------------------------------------------


def test_a_new_configuration_is_served_by_the_same_nginx(
    backends: tuple[UdpBackend, UdpBackend], proxies: Callable[[], UdpProxy], amphora_dir: Path
) -> None:
    alpha, beta = backends
    port = free_udp_port(VIP)
    proxy = proxies()
    proxy.apply(config(udp_spec(port, alpha)))
    pid = (amphora_dir / "nginx.pid").read_text()
    assert Counter(ask(port) for _ in range(4)) == {"alpha": 4}

    proxy.apply(config(udp_spec(port, alpha, beta)))

    assert (amphora_dir / "nginx.pid").read_text() == pid
    assert Counter(ask(port) for _ in range(4)) == {"alpha": 2, "beta": 2}


def test_a_rejected_configuration_leaves_the_old_one_serving(
    backends: tuple[UdpBackend, UdpBackend], proxies: Callable[[], UdpProxy], amphora_dir: Path
) -> None:
    port = free_udp_port(VIP)
    proxy = proxies()
    good = config(udp_spec(port, *backends))
    proxy.apply(good)
    served = (amphora_dir / "nginx.conf").read_text()

    with pytest.raises(UdpConfigError) as rejected:
        proxy.apply(good.replace("proxy_timeout", "proxy_timeout_typo"))

    assert "unknown directive" in rejected.value.details
    assert (amphora_dir / "nginx.conf").read_text() == served
    assert Counter(ask(port) for _ in range(4)) == {"alpha": 2, "beta": 2}


def test_a_configuration_nginx_cannot_bind_leaves_the_old_one_serving(
    backends: tuple[UdpBackend, UdpBackend], proxies: Callable[[], UdpProxy], amphora_dir: Path
) -> None:
    port = free_udp_port(VIP)
    proxy = proxies()
    proxy.apply(config(udp_spec(port, *backends)))
    served = (amphora_dir / "nginx.conf").read_text()
    taken = free_udp_port(VIP)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind((VIP, taken))  # `nginx -t` tolerates an address in use; the reload not
        spec = udp_spec(port, *backends)
        second = replace(spec.listeners[0], id="listener-2", protocol_port=taken)
        with pytest.raises(UdpConfigError) as rejected:
            proxy.apply(config(replace(spec, listeners=(*spec.listeners, second))))

    assert "Address already in use" in rejected.value.details
    assert (amphora_dir / "nginx.conf").read_text() == served
    assert Counter(ask(port) for _ in range(4)) == {"alpha": 2, "beta": 2}


# --- process lifecycle ---------------------------------------------------------------------


def test_stop_leaves_no_nginx_process(
    backends: tuple[UdpBackend, UdpBackend], proxies: Callable[[], UdpProxy], amphora_dir: Path
) -> None:
    port = free_udp_port(VIP)
    proxy = proxies()
    proxy.apply(config(monitored(port, *backends)))
    assert len(nginx_processes_under(amphora_dir)) == 2  # master and worker

    proxy.stop()

    assert nginx_processes_under(amphora_dir) == []
    assert not proxy.running()
    assert proxy.member_statuses() == {}
    assert ask(port) is None


def test_applying_none_stops_nginx(
    backends: tuple[UdpBackend, UdpBackend], proxies: Callable[[], UdpProxy], amphora_dir: Path
) -> None:
    proxy = proxies()
    proxy.apply(config(udp_spec(free_udp_port(VIP), *backends)))

    proxy.apply(None)

    assert nginx_processes_under(amphora_dir) == []


def test_a_new_proxy_adopts_the_running_nginx_and_resumes_its_checks(
    backends: tuple[UdpBackend, UdpBackend], proxies: Callable[[], UdpProxy], amphora_dir: Path
) -> None:
    alpha, beta = backends
    port = free_udp_port(VIP)
    text = config(monitored(port, alpha, beta))
    first = proxies()
    first.apply(text)
    pid = (amphora_dir / "nginx.pid").read_text()
    first.release()  # the agent exits; nginx goes on serving

    second = proxies()

    assert second.running()
    assert second.member_statuses() == {"pool-1:listener-1": {"alpha": "UP", "beta": "UP"}}
    second.apply(text)  # the same text: nothing to do
    assert (amphora_dir / "nginx.pid").read_text() == pid
    beta.stop()
    assert wait_for(
        lambda: second.member_statuses()["pool-1:listener-1"]["beta"] == "DOWN", FLIP_BOUND_S
    )
    second.stop()
    assert nginx_processes_under(amphora_dir) == []


def test_nginx_that_died_is_started_again_by_the_next_apply(
    backends: tuple[UdpBackend, UdpBackend], proxies: Callable[[], UdpProxy], amphora_dir: Path
) -> None:
    port = free_udp_port(VIP)
    text = config(udp_spec(port, *backends))
    proxy = proxies()
    proxy.apply(text)
    os.killpg(int((amphora_dir / "nginx.pid").read_text()), signal.SIGKILL)
    assert wait_for(lambda: not proxy.running(), 10)

    proxy.apply(text)

    assert proxy.running()
    assert Counter(ask(port) for _ in range(2)) == {"alpha": 1, "beta": 1}
