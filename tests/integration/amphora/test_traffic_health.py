"""Health monitors with real checks: every type marks a stopped member DOWN in `show stat`,
traffic goes only to the others, and a restarted member comes back UP.

One HAProxy serves every pool (each behind a listener of its own); members of every pool are
stopped at once, so the whole module waits for one outage, not one per monitor type. Checks
run every second (delay 1 s, timeout 1 s).
"""

import os
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from pier.domain.enums import HealthMonitorType, HttpMethod, PoolProtocol
from pier.domain.spec import HealthMonitorSpec, ListenerSpec, MemberSpec, PoolSpec
from tests.integration.amphora.members import HttpMember, get, members, self_signed
from tests.support.backends import free_port_on
from tests.support.haproxy import RunningHaproxy, render, running_haproxy
from tests.unit.amphora import specs
from tests.unit.amphora.specs import Proto

pytestmark = pytest.mark.integration

VIP = "127.0.70.1"
# Blackholed by the PING test (root only): this address stops answering ping and TCP alike.
# One per test process, so that runs side by side do not lift each other's route.
DEAD_HOST = f"127.254.{os.getpid() // 254 % 256}.{os.getpid() % 254 + 1}"
Monitor = HealthMonitorType


def monitor(type: HealthMonitorType, **overrides: object) -> HealthMonitorSpec:
    """Checks every second, one result enough to change state: outages show up quickly."""
    fast = {"delay": 1, "timeout": 1, "max_retries": 1, "max_retries_down": 1}
    return specs.healthmonitor(type, **(fast | overrides))


@dataclass
class World:
    haproxy: RunningHaproxy
    ports: dict[str, int]  # pool id -> port of the listener in front of it
    members: dict[str, HttpMember]

    def names(self, pool: str, count: int = 6) -> set[str]:
        tls = pool in ("https", "tls-hello")
        return {get(VIP, self.ports[pool], tls=tls).body for _ in range(count)}


def _pools(m: dict[str, HttpMember], closed_port: int) -> list[PoolSpec]:
    def of(*names: str, **overrides: object) -> tuple[MemberSpec, ...]:
        return tuple(
            specs.member(name, m[name].address, m[name].port, **overrides) for name in names
        )

    http = monitor(
        Monitor.HTTP,
        http_method=HttpMethod.PATCH,
        url_path="/health?full=1",
        expected_codes="200-204",
        http_version=1.1,
        domain_name="app.example.com",
        max_retries_down=3,
        max_retries=2,
    )
    return [
        specs.pool("http", healthmonitor=http, members=of("http-1", "http-2")),
        specs.pool(
            "codes",
            healthmonitor=monitor(Monitor.HTTP, url_path="/health", expected_codes="200"),
            members=of("codes-200", "codes-202"),
        ),
        specs.pool(
            "http10",
            healthmonitor=monitor(
                Monitor.HTTP, http_method=HttpMethod.OPTIONS, url_path="/h10", domain_name="x.test"
            ),
            members=of("http10-1"),
        ),
        specs.pool(
            "https",
            PoolProtocol.HTTPS,
            healthmonitor=monitor(Monitor.HTTPS, url_path="/tls-health"),
            members=of("https-1", "https-2"),
        ),
        specs.pool(
            "tls-hello",
            PoolProtocol.HTTPS,
            healthmonitor=monitor(Monitor.TLS_HELLO),
            members=of("hello-1", "hello-2", "hello-plain"),
        ),
        specs.pool(
            "tls-hello-mtls",
            PoolProtocol.HTTPS,
            healthmonitor=monitor(Monitor.TLS_HELLO),
            members=of("hello-mtls"),
        ),
        specs.pool(
            "tcp",
            PoolProtocol.TCP,
            healthmonitor=monitor(Monitor.TCP),
            members=of("tcp-1", "tcp-2"),
        ),
        specs.pool(
            "ping",
            PoolProtocol.TCP,
            healthmonitor=monitor(Monitor.PING),
            # HAProxy hands the ping script the member's address, never monitor_address:
            # pointing it at a live host does not keep a dead member UP (nor did it in Octavia).
            members=(*of("ping-1"), *of("ping-dead", monitor_address=m["ping-1"].address)),
        ),
        specs.pool(
            "backup",
            healthmonitor=monitor(Monitor.HTTP),
            members=(*of("primary-1", "primary-2"), *of("backup-1", "backup-2", backup=True)),
        ),
        specs.pool(
            "monitor-address",
            healthmonitor=monitor(Monitor.HTTP, url_path="/checked-elsewhere"),
            members=(
                specs.member(
                    "watched",
                    m["watched"].address,
                    m["watched"].port,
                    monitor_address=m["watchdog"].address,
                    monitor_port=m["watchdog"].port,
                ),
                specs.member(
                    "blind", m["blind"].address, m["blind"].port, monitor_port=closed_port
                ),
            ),
        ),
        specs.pool(
            "unmonitored",
            healthmonitor=monitor(Monitor.HTTP, admin_state_up=False),
            members=of("unmonitored-1"),
        ),
    ]


def _listener(pool: PoolSpec) -> ListenerSpec:
    protocol = {PoolProtocol.HTTP: Proto.HTTP, PoolProtocol.HTTPS: Proto.HTTPS}
    return specs.listener(
        f"to-{pool.id}",
        protocol.get(pool.protocol, Proto.TCP),
        free_port_on(VIP),
        default_pool_id=pool.id,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tls = self_signed(tmp_path_factory.mktemp("tls"))
    plain = [
        "http-1", "http-2", "codes-200", "codes-202", "http10-1", "tcp-1", "tcp-2", "ping-1",
        "primary-1", "primary-2", "backup-1", "backup-2", "watched", "watchdog", "blind",
        "unmonitored-1", "hello-plain",
    ]  # fmt: skip
    plain_members = [HttpMember(name, f"127.0.71.{n}") for n, name in enumerate(plain, start=1)]
    tls_members = [
        HttpMember(name, f"127.0.72.{n}", tls=tls)
        for n, name in enumerate(["https-1", "https-2", "hello-1", "hello-2"], start=1)
    ]
    # A member that demands a client certificate, over TLS 1.2: no check can complete a
    # handshake with it, yet it answers a hello.
    authority = tmp_path_factory.mktemp("mtls")
    mutual = self_signed(authority, "mtls.test")
    mutual.verify_mode = ssl.CERT_REQUIRED
    mutual.load_verify_locations(authority / "mtls.test.crt")
    mutual.maximum_version = ssl.TLSVersion.TLSv1_2
    tls_members.append(HttpMember("hello-mtls", "127.0.72.9", tls=mutual))
    everyone = {
        m.name: m for m in [*plain_members, *tls_members, HttpMember("ping-dead", DEAD_HOST)]
    }
    for name in ("http-1", "http-2"):
        everyone[name].statuses["/health"] = 202
    everyone["codes-202"].statuses["/health"] = 202
    pools = _pools(everyone, closed_port=free_port_on("127.0.71.99"))
    listeners = tuple(_listener(pool) for pool in pools)
    spec = specs.loadbalancer(vip_address=VIP, listeners=listeners, pools=tuple(pools))
    with (
        members(*everyone.values()),
        running_haproxy(
            render(spec), [(VIP, front.protocol_port) for front in listeners]
        ) as haproxy,
    ):
        ports = {front.default_pool_id or "": front.protocol_port for front in listeners}
        yield World(haproxy, ports, everyone)


def settled(world: World) -> dict[tuple[str, str], list[str]]:
    """Wait for the states the monitors must reach on their own, whatever the start state."""
    return world.haproxy.wait_for_servers(
        {
            ("codes:to-codes", "codes-202"): "DOWN",  # 202 at /health, where 200 is expected
            ("codes:to-codes", "codes-200"): "UP",
            ("tls-hello:to-tls-hello", "hello-plain"): "DOWN",  # no TLS: no hello
            ("tls-hello:to-tls-hello", "hello-1"): "UP",
            ("tls-hello-mtls:to-tls-hello-mtls", "hello-mtls"): "UP",
            ("monitor-address:to-monitor-address", "watched"): "UP",
            ("monitor-address:to-monitor-address", "blind"): "DOWN",
            ("ping:to-ping", "ping-1"): "UP",
            ("ping:to-ping", "ping-dead"): "UP",
            ("unmonitored:to-unmonitored", "unmonitored-1"): "no check",
        }
    )


def test_expected_codes_decide_health(world: World) -> None:
    settled(world)
    assert world.names("codes") == {"codes-200"}


def test_the_http_check_is_the_configured_request(world: World) -> None:
    settled(world)
    checks = world.members["http-1"].requests_to("/health?full=1")
    assert checks, world.members["http-1"].seen
    check = checks[-1]
    assert (check.method, check.version) == ("PATCH", "HTTP/1.1")
    assert check.headers.get("host") == "app.example.com"


def test_an_http_1_0_check_sends_no_host(world: World) -> None:
    """No http_version means HTTP/1.0, where Octavia sends no Host even with a domain_name."""
    member = world.members["http10-1"]
    world.haproxy.wait(lambda: member.requests_to("/h10"), "a check of /h10")
    check = member.requests_to("/h10")[-1]
    assert (check.method, check.version) == ("OPTIONS", "HTTP/1.0")
    assert "host" not in check.headers


def test_the_https_check_speaks_tls(world: World) -> None:
    member = world.members["https-1"]  # a TLS-only server: a plain check would not parse
    world.haproxy.wait(lambda: member.requests_to("/tls-health"), "an HTTPS check")
    assert member.requests_to("/tls-health")[-1].method == "GET"


def test_tls_hello_needs_a_tls_answer(world: World) -> None:
    settled(world)
    assert world.names("tls-hello") == {"hello-1", "hello-2"}


def test_monitor_address_and_port_receive_the_checks(world: World) -> None:
    settled(world)
    assert world.members["watchdog"].requests_to("/checked-elsewhere")
    assert not world.members["watched"].requests_to("/checked-elsewhere")
    # `blind` serves traffic but its monitor port is closed: DOWN, so it gets none.
    assert world.names("monitor-address") == {"watched"}


def test_a_disabled_monitor_checks_nothing(world: World) -> None:
    assert world.haproxy.server_status("unmonitored:to-unmonitored", "unmonitored-1") == "no check"
    assert not world.members["unmonitored-1"].requests_to("/")


def test_stopped_members_go_down_and_come_back_for_every_monitor_type(world: World) -> None:
    settled(world)
    stopped = {
        "http": ["http-1"],
        "https": ["https-1"],
        "tls-hello": ["hello-1"],
        "tcp": ["tcp-1"],
        "backup": ["primary-1", "primary-2"],
    }
    assert world.names("backup") == {"primary-1", "primary-2"}
    for names in stopped.values():
        for name in names:
            world.members[name].stop()
    servers = {(f"{pool}:to-{pool}", name) for pool, names in stopped.items() for name in names}

    down = world.haproxy.wait_for_servers(dict.fromkeys(servers, "DOWN"))

    assert world.names("http") == {"http-2"}
    assert world.names("https") == {"https-2"}
    assert world.names("tls-hello") == {"hello-2"}
    assert world.names("tcp") == {"tcp-2"}
    assert world.names("backup") == {"backup-1", "backup-2"}  # all backups: option allbackups
    for names in stopped.values():
        for name in names:
            world.members[name].start()

    up = world.haproxy.wait_for_servers(dict.fromkeys(servers, "UP"))

    assert world.names("http") == {"http-1", "http-2"}
    assert world.names("https") == {"https-1", "https-2"}
    assert world.names("tls-hello") == {"hello-1", "hello-2"}
    assert world.names("tcp") == {"tcp-1", "tcp-2"}
    assert world.names("backup") == {"primary-1", "primary-2"}
    # max_retries_down 3 and max_retries 2: HAProxy shows the count of checks still needed
    # against those totals while a server changes state.
    http_1 = ("http:to-http", "http-1")
    assert {s for s in down[http_1] if "/" in s} <= {"UP 1/3", "UP 2/3"}
    assert any("/" in s for s in down[http_1]), down[http_1]
    assert [s for s in up[http_1] if "/" in s] == ["DOWN 1/2"], up[http_1]


@contextmanager
def blackholed(address: str) -> Iterator[None]:
    """Route `address` nowhere (ping and TCP to it fail at once), for the block only."""
    command = ["ip", "route", "{}", "blackhole", f"{address}/32", "table", "local"]
    add, delete = ([part.format(verb) for part in command] for verb in ("add", "del"))
    subprocess.run(delete, capture_output=True, check=False)  # left by a killed run, same pid
    result = subprocess.run(add, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot blackhole {address}: {result.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(delete, capture_output=True, check=True)


@pytest.mark.root
def test_ping_marks_an_unreachable_host_down_and_back_up(world: World) -> None:
    settled(world)  # both members answer ping, whatever their ports do
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("on loopback every address answers ping; a dead host needs a root route")
    dead = ("ping:to-ping", "ping-dead")
    with blackholed(DEAD_HOST):
        world.haproxy.wait_for_servers({dead: "DOWN"})
        assert world.names("ping") == {"ping-1"}
    world.haproxy.wait_for_servers({dead: "UP"})
    assert world.names("ping") == {"ping-1", "ping-dead"}
