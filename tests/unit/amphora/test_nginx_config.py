"""The rendered nginx stream configuration for UDP listeners: golden files, and the rules behind
the lines that need one.

`PIER_UPDATE_GOLDEN=1` (`make golden`) rewrites `golden_udp/` from the scenarios below; review
the diff. `tests/integration/amphora/test_golden_nginx_check.py` runs `nginx -t` over each.
VIPs are on loopback and ports above 1023: `nginx -t` binds the listening addresses.
"""

import ipaddress
import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pier.amphora.nginx_config import render_udp_config
from pier.domain.enums import (
    HealthMonitorType,
    HttpMethod,
    LbAlgorithm,
    PoolProtocol,
    ProvisioningStatus,
    SessionPersistenceType,
)
from pier.domain.spec import AdditionalVipSpec, LoadBalancerSpec, PoolSpec, SessionPersistenceSpec
from pier.wire.udp_checks import MemberRef, MemberState, UdpListener, parse_udp_records
from tests.unit.amphora.specs import Proto, healthmonitor, listener, loadbalancer, member, pool

GOLDEN = Path(__file__).parent / "golden_udp"
VIP = "127.0.100.1"
UDP = PoolProtocol.UDP
Algorithm = LbAlgorithm
Monitor = HealthMonitorType


def udp_lb(*pools: PoolSpec, **overrides: Any) -> LoadBalancerSpec:
    """One UDP listener per pool, on ports 1053, 1054, ... (listener-1 -> pool 1, ...)."""
    listeners = tuple(
        listener(f"listener-{n}", Proto.UDP, 1052 + n, default_pool_id=p.id)
        for n, p in enumerate(pools, start=1)
    )
    return loadbalancer(vip_address=VIP, listeners=listeners, pools=pools, **overrides)


def udp_pool(id: str, algorithm: LbAlgorithm = Algorithm.ROUND_ROBIN, **overrides: Any) -> PoolSpec:
    members = overrides.pop("members", None) or (
        member(f"{id}-member-1", "192.0.2.11", 53),
        member(f"{id}-member-2", "192.0.2.12", 53),
    )
    return pool(id, UDP, algorithm, members=members, **overrides)


def persistence(
    granularity: str | None = None, timeout: int | None = None
) -> SessionPersistenceSpec:
    return SessionPersistenceSpec(SessionPersistenceType.SOURCE_IP, None, timeout, granularity)


# --- scenarios (one golden file each) -----------------------------------------------------


def udp_round_robin() -> LoadBalancerSpec:
    return udp_lb(udp_pool("pool-1", healthmonitor=healthmonitor(Monitor.UDP_CONNECT)))


def udp_least_connections_weights_backup() -> LoadBalancerSpec:
    members = (
        member("member-heavy", "192.0.2.11", 53, weight=256),
        member("member-light", "192.0.2.12", 53, monitor_address="198.51.100.12"),
        member("member-drained", "192.0.2.13", 53, weight=0, monitor_port=9053),
        member("member-off", "192.0.2.14", 53, admin_state_up=False),
        member("member-backup", "192.0.2.15", 53, backup=True),
    )
    spec = udp_lb(
        udp_pool(
            "pool-1",
            Algorithm.LEAST_CONNECTIONS,
            members=members,
            healthmonitor=healthmonitor(Monitor.TCP, delay=0, timeout=0),
        )
    )
    (front,) = spec.listeners
    limited = replace(
        front, connection_limit=100, timeout_client_data=1000, timeout_member_data=3000
    )
    return replace(spec, listeners=(limited,))


def udp_source_ip() -> LoadBalancerSpec:
    members = (
        member("member-1", "192.0.2.11", 53),
        member("member-backup", "192.0.2.12", 53, backup=True),
    )
    monitor = healthmonitor(
        Monitor.HTTP,
        http_method=HttpMethod.HEAD,
        url_path="/health?full=1",
        expected_codes="200-204, 301",
        http_version=1.1,
        domain_name="dns.example.com",
    )
    return udp_lb(udp_pool("pool-1", Algorithm.SOURCE_IP, members=members, healthmonitor=monitor))


def udp_source_ip_port() -> LoadBalancerSpec:
    return udp_lb(udp_pool("pool-1", Algorithm.SOURCE_IP_PORT))


def udp_source_ip_persistence() -> LoadBalancerSpec:
    spec = udp_lb(
        udp_pool("pool-1", session_persistence=persistence("255.255.255.0", timeout=60)),
        udp_pool("pool-2", Algorithm.LEAST_CONNECTIONS, session_persistence=persistence()),
        udp_pool("pool-3", session_persistence=persistence("255.255.240.0")),
        udp_pool("pool-4", session_persistence=persistence("ffff:ffff:ffff:ffff::")),
        additional_vips=(
            AdditionalVipSpec(subnet_id="subnet-2", ip_address="127.0.100.2"),
            AdditionalVipSpec(subnet_id="subnet-3"),
        ),
    )
    first, *others = spec.listeners
    restricted = replace(first, allowed_cidrs=("192.0.2.0/24", "127.0.0.0/8"))
    return replace(spec, listeners=(restricted, *others))


def udp_skipped_and_admin_down() -> LoadBalancerSpec:
    leaving = ProvisioningStatus.PENDING_DELETE
    served_sctp = udp_pool("pool-sctp", healthmonitor=healthmonitor(Monitor.SCTP))
    served_off = udp_pool(
        "pool-monitor-off",
        members=(
            member("member-1", "192.0.2.21", 53),
            member("member-leaving", "192.0.2.22", 53, provisioning_status=leaving),
        ),
        healthmonitor=healthmonitor(Monitor.UDP_CONNECT, admin_state_up=False),
    )
    served_leaving = udp_pool(
        "pool-monitor-leaving",
        healthmonitor=healthmonitor(Monitor.UDP_CONNECT, provisioning_status=leaving),
        session_persistence=SessionPersistenceSpec(SessionPersistenceType.HTTP_COOKIE),
    )
    pools = (
        served_sctp,
        served_off,
        served_leaving,
        udp_pool("pool-disabled", admin_state_up=False),
        pool("pool-empty", UDP),
        pool("pool-http", members=(member("web-1", "192.0.2.31", 80),)),
    )
    listeners = (
        listener("listener-sctp", Proto.UDP, 1053, default_pool_id="pool-sctp"),
        listener(
            "listener-monitor-off",
            Proto.UDP,
            1054,
            default_pool_id="pool-monitor-off",
            timeout_client_data=0,
            timeout_member_data=0,
        ),
        listener("listener-monitor-leaving", Proto.UDP, 1055, default_pool_id=served_leaving.id),
        listener("listener-off", Proto.UDP, 1056, default_pool_id="pool-1", admin_state_up=False),
        listener("listener-no-pool", Proto.UDP, 1057),
        listener("listener-pool-off", Proto.UDP, 1058, default_pool_id="pool-disabled"),
        listener("listener-pool-empty", Proto.UDP, 1059, default_pool_id="pool-empty"),
        listener("listener-leaving", Proto.UDP, 1060, provisioning_status=leaving),
        listener("listener-http", Proto.HTTP, 8080, default_pool_id="pool-http"),
    )
    return loadbalancer(vip_address=VIP, listeners=listeners, pools=pools)


def udp_ipv6_members() -> LoadBalancerSpec:
    members = (
        member("member-1", "2001:db8::11", 53),
        member("member-2", "2001:db8:0:0::12", 53, monitor_address="2001:db8::99"),
    )
    monitor = healthmonitor(Monitor.UDP_CONNECT)
    return udp_lb(udp_pool("pool-1", members=members, healthmonitor=monitor))


SCENARIOS: dict[str, Callable[[], LoadBalancerSpec]] = {
    builder.__name__: builder
    for builder in (
        udp_round_robin,
        udp_least_connections_weights_backup,
        udp_source_ip,
        udp_source_ip_port,
        udp_source_ip_persistence,
        udp_skipped_and_admin_down,
        udp_ipv6_members,
    )
}


def render(spec: LoadBalancerSpec) -> str:
    text = render_udp_config(spec)
    assert text is not None
    return text


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_rendered_text_matches_the_golden_file(name: str) -> None:
    text = render(SCENARIOS[name]())
    golden = GOLDEN / f"{name}.conf"
    if os.environ.get("PIER_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden file for {name}: run `make golden`"
    assert text == golden.read_text()


def test_every_golden_file_has_a_scenario() -> None:
    assert {path.stem for path in GOLDEN.glob("*.conf")} == set(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_golden_file_has_readable_records(name: str) -> None:
    records = parse_udp_records(render(SCENARIOS[name]()))
    assert records.listeners
    assert records.members


# --- when nothing is served ----------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        replace(udp_round_robin(), admin_state_up=False),
        replace(udp_round_robin(), vip_address=None),
        loadbalancer(),
        loadbalancer(
            listeners=(listener("l-1", default_pool_id="p-1"),),
            pools=(pool("p-1", members=(member("m-1", "192.0.2.1"),)),),
        ),
        udp_lb(pool("pool-empty", UDP)),
        udp_lb(udp_pool("pool-1", admin_state_up=False)),
        udp_lb(udp_pool("pool-1", provisioning_status=ProvisioningStatus.PENDING_DELETE)),
    ],
    ids=[
        "lb-disabled",
        "no-vip",
        "no-listener",
        "http-only",
        "no-members",
        "pool-disabled",
        "pool-leaving",
    ],
)
def test_nothing_to_serve_renders_none(spec: LoadBalancerSpec) -> None:
    assert render_udp_config(spec) is None


# --- records the agent reads ---------------------------------------------------------------


def test_records_name_octavias_pool_key_and_every_member_state() -> None:
    records = parse_udp_records(render(udp_least_connections_weights_backup()))
    key = "pool-1:listener-1"
    assert records.listeners == (UdpListener("listener-1", key),)
    states = {m.ref.member_id: m.state for m in records.members}
    assert states == {
        "member-heavy": MemberState.ENABLED,
        "member-light": MemberState.ENABLED,
        "member-drained": MemberState.DRAINED,
        "member-off": MemberState.DISABLED,
        "member-backup": MemberState.ENABLED,
    }
    checks = {m.ref.member_id: m.check for m in records.members}
    assert checks["member-off"] is None  # admin down: MAINT, never checked
    light, drained = checks["member-light"], checks["member-drained"]
    assert light is not None and drained is not None
    assert (light.address, light.port) == ("198.51.100.12", 53)  # monitor_address
    assert (drained.address, drained.port) == ("192.0.2.13", 9053)  # monitor_port
    assert (light.delay, light.timeout) == (1, 1)  # 0 is not "never"
    assert all(m.ref == MemberRef(key, m.ref.member_id) for m in records.members)


def test_an_http_check_carries_method_path_codes_and_host() -> None:
    (first, _) = parse_udp_records(render(udp_source_ip())).members
    assert first.check is not None
    assert (first.check.http_method, first.check.url_path) == ("HEAD", "/health?full=1")
    assert first.check.expected_codes == (200, 201, 202, 203, 204, 301)
    assert first.check.domain_name == "dns.example.com"
    assert (first.check.rise, first.check.fall) == (2, 3)


def test_unsupported_or_disabled_monitors_check_nothing() -> None:
    records = parse_udp_records(render(udp_skipped_and_admin_down()))
    assert all(m.check is None for m in records.members)
    assert [listener.listener_id for listener in records.listeners] == [
        "listener-sctp",
        "listener-monitor-off",
        "listener-monitor-leaving",
    ]


# --- lines -----------------------------------------------------------------------------------


def lines_of(spec: LoadBalancerSpec) -> list[str]:
    return [line.strip() for line in render(spec).splitlines()]


def test_backup_members_are_backups_only_next_to_a_primary() -> None:
    both_backup = (
        member("b-1", "192.0.2.11", 53, backup=True),
        member("b-2", "192.0.2.12", 53, backup=True),
    )
    lines = lines_of(udp_lb(udp_pool("pool-1", members=both_backup)))
    # nginx refuses an upstream of backups only; with no primary, backups are the pool.
    assert not [line for line in lines if " backup" in line.split(";")[0]]


def test_a_connection_limit_caps_each_member_as_lvs_uthreshold_does() -> None:
    for limit, expected in ((-1, False), (0, False), (7, True)):
        spec = udp_round_robin()
        spec = replace(spec, listeners=(replace(spec.listeners[0], connection_limit=limit),))
        servers = [line for line in lines_of(spec) if "pier-member" in line]
        assert all(("max_conns=7" in line) is expected for line in servers), limit


def test_an_ipv6_vip_listens_in_brackets() -> None:
    spec = replace(udp_round_robin(), vip_address="2001:db8::10")
    assert "listen [2001:db8::10]:1053 udp;" in lines_of(spec)


def test_allowed_cidrs_are_written_as_networks() -> None:
    spec = udp_round_robin()
    front = replace(spec.listeners[0], allowed_cidrs=("192.0.2.7/24", "2001:db8::1/64"))
    lines = lines_of(replace(spec, listeners=(front,)))
    assert [line for line in lines if line.startswith(("allow ", "deny "))] == [
        "allow 192.0.2.0/24;",
        "allow 2001:db8::/64;",
        "deny all;",
    ]


def test_an_unreadable_granularity_stays_inside_its_comment() -> None:
    odd = persistence("255.255.255.0\nstream {")
    text = render(udp_lb(udp_pool("pool-1", session_persistence=odd)))
    assert "# persistence_granularity 255.255.255.0????ea??? cannot be matched" in text
    assert text.count("stream {") == 1


def test_persistence_without_a_timeout_names_octavias_default() -> None:
    lines = lines_of(udp_lb(udp_pool("pool-1", session_persistence=persistence())))
    assert "# SOURCE_IP persistence (LVS: 360s idle), instead of ROUND_ROBIN: a" in lines
    assert "hash $remote_addr consistent;" in lines


def test_the_same_tree_renders_the_same_text() -> None:
    assert render(udp_source_ip_persistence()) == render(udp_source_ip_persistence())


@pytest.mark.parametrize(
    "spec",
    [
        udp_lb(udp_pool("pool 1")),
        udp_lb(udp_pool("pool-1", members=(member("m;1", "192.0.2.1", 53),))),
        udp_lb(udp_pool("pool-1", members=(member("m-1", "192.0.2.1;", 53),))),
        udp_lb(udp_pool("pool-1", healthmonitor=healthmonitor(Monitor.SCTP, id="hm 1"))),
        replace(
            udp_round_robin(),
            listeners=(replace(udp_round_robin().listeners[0], allowed_cidrs=("all;",)),),
        ),
    ],
    ids=["pool-id", "member-id", "address", "monitor-id", "cidr"],
)
def test_what_cannot_be_written_safely_is_refused(spec: LoadBalancerSpec) -> None:
    with pytest.raises(ValueError):
        render_udp_config(spec)


# --- persistence_granularity: the map must group exactly the clients of one network --------


def client_keys(granularity: str, clients: list[str]) -> dict[str, str]:
    """Each client's hash key, as nginx's map computes it from the rendered lines."""
    lines = lines_of(udp_lb(udp_pool("pool-1", session_persistence=persistence(granularity))))
    entries = [
        (re.compile(found[1]), found[2])
        for line in lines
        if (found := re.fullmatch(r'"~(.*)" (\S+);', line))
    ]
    keys = {}
    for client in clients:
        for pattern, value in entries:
            if matched := pattern.fullmatch(client):
                keys[client] = re.sub(r"\$(\d)", lambda m: matched[int(m[1])], value)
                break
        else:
            keys[client] = client  # `default $remote_addr`
    return keys


@pytest.mark.parametrize(
    "granularity",
    ["255.255.255.0", "255.255.255.192", "255.255.240.0", "255.0.0.0", "255.128.0.0", "0.0.0.0"],
)
def test_clients_share_a_key_exactly_when_they_share_the_network(granularity: str) -> None:
    clients = [
        "10.1.2.3",
        "10.1.2.63",
        "10.1.2.64",
        "10.1.2.255",
        "10.1.3.3",
        "10.1.15.1",
        "10.1.16.1",
        "10.200.2.3",
        "11.1.2.3",
        "2001:db8::1",
    ]
    keys = client_keys(granularity, clients)
    ipv4 = [c for c in clients if ":" not in c]
    for a in ipv4:
        for b in ipv4:
            network = ipaddress.IPv4Network(f"{a}/{granularity}", strict=False)
            assert (keys[a] == keys[b]) is (ipaddress.IPv4Address(b) in network), (a, b)
    assert keys["2001:db8::1"] == "2001:db8::1"  # IPv6 clients: the whole address


def test_a_host_granularity_needs_no_map() -> None:
    lines = lines_of(udp_lb(udp_pool("pool-1", session_persistence=persistence("255.255.255.255"))))
    assert not [line for line in lines if line.startswith("map ")]
    assert "hash $remote_addr consistent;" in lines
