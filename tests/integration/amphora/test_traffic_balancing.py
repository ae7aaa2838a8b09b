"""Real traffic through a rendered haproxy.cfg: algorithms, weights, persistence, admin state.

One HAProxy serves every scenario, each on a listener of its own; requests come from distinct
loopback source addresses (and ports) to look like distinct clients.
"""

import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from pier.amphora.bundle import render_amphora_config
from pier.amphora.haproxy_config import DEFAULT_LIMITS
from pier.domain.enums import LbAlgorithm, PoolProtocol, SessionPersistenceType
from pier.domain.spec import (
    ListenerSpec,
    LoadBalancerSpec,
    MemberSpec,
    PoolSpec,
    SessionPersistenceSpec,
)
from pier.wire.agent_api import AmphoraConfig
from tests.integration.amphora.members import HttpMember, Reply, get, members
from tests.support.backends import free_port_on, tcp_backend
from tests.support.haproxy import RunningHaproxy, render, running_haproxy
from tests.unit.amphora import specs
from tests.unit.amphora.specs import Proto

pytestmark = pytest.mark.integration

VIP = "127.0.60.1"
LC, SRC, SRC_PORT = (
    LbAlgorithm.LEAST_CONNECTIONS,
    LbAlgorithm.SOURCE_IP,
    LbAlgorithm.SOURCE_IP_PORT,
)


@dataclass
class Balancer:
    haproxy: RunningHaproxy
    ports: dict[str, int]  # listener id -> port on VIP

    def names(self, listener: str, count: int, **kwargs: Any) -> list[str]:
        """Who answered each of `count` requests to one listener."""
        return [self.get(listener, **kwargs).body for _ in range(count)]

    def get(self, listener: str, **kwargs: Any) -> Reply:
        """One request (`members.get` keywords: source, source_port, headers, ...)."""
        return get(VIP, self.ports[listener], **kwargs)


def tcp_greeting(port: int, source: str = "127.0.0.1") -> tuple[socket.socket, str]:
    """Connect through a TCP listener; the echo member's first line is its name."""
    sock = socket.create_connection((VIP, port), timeout=10, source_address=(source, 0))
    with sock.makefile("rb") as stream:
        return sock, stream.readline().decode().strip()


def _members(
    pool_id: str, *named: tuple[str, str, int], **overrides: object
) -> tuple[MemberSpec, ...]:
    return tuple(
        specs.member(f"{pool_id}-{name}", address, port, **overrides)
        for name, address, port in named
    )


def _spec(web: tuple[HttpMember, ...], tcp: tuple[tuple[str, int], ...]) -> LoadBalancerSpec:
    a, b, c = ((m.name, m.address, m.port) for m in web)
    echo_a, echo_b = (("echo-a", *tcp[0]), ("echo-b", *tcp[1]))
    cookie = SessionPersistenceSpec(SessionPersistenceType.HTTP_COOKIE)
    app_cookie = SessionPersistenceSpec(SessionPersistenceType.APP_COOKIE, cookie_name="JSESSIONID")
    source_ip = SessionPersistenceSpec(SessionPersistenceType.SOURCE_IP)
    pools: list[PoolSpec] = [
        specs.pool("rr", members=_members("rr", a, b)),
        specs.pool(
            "weights",
            members=(
                specs.member("weights-heavy", a[1], a[2], weight=3),
                specs.member("weights-light", b[1], b[2], weight=1),
                specs.member("weights-drained", c[1], c[2], weight=0),
            ),
        ),
        specs.pool("lc", PoolProtocol.TCP, LC, members=_members("lc", echo_a, echo_b)),
        specs.pool("src", algorithm=SRC, members=_members("src", a, b)),
        specs.pool("srcport", algorithm=SRC_PORT, members=_members("srcport", a, b)),
        # HTTP members behind a TCP listener: they close first, so no TIME_WAIT is left on
        # the fixed source port (see `get`).
        specs.pool("srcport-tcp", PoolProtocol.TCP, SRC_PORT, members=_members("sp", a, b)),
        specs.pool("stick-src", session_persistence=source_ip, members=_members("ss", a, b)),
        specs.pool("cookie", session_persistence=cookie, members=_members("cookie", a, b)),
        specs.pool("app", session_persistence=app_cookie, members=_members("app", a, b)),
        specs.pool(
            "member-off",
            members=(
                specs.member("member-on", a[1], a[2]),
                specs.member("member-off", b[1], b[2], admin_state_up=False),
            ),
        ),
        specs.pool("pool-off", admin_state_up=False, members=_members("off", a, b)),
    ]
    listeners: list[ListenerSpec] = [
        specs.listener(
            f"to-{pool.id}",
            Proto.TCP if pool.protocol is PoolProtocol.TCP else Proto.HTTP,
            free_port_on(VIP),
            default_pool_id=pool.id,
        )
        for pool in pools
    ]
    listeners.append(
        specs.listener(
            "listener-off", port=free_port_on(VIP), default_pool_id="rr", admin_state_up=False
        )
    )
    return specs.loadbalancer(vip_address=VIP, listeners=tuple(listeners), pools=tuple(pools))


@pytest.fixture(scope="module")
def balancer() -> Iterator[Balancer]:
    web = (
        HttpMember("a", "127.0.61.1", set_cookie="JSESSIONID=a-session; Path=/"),
        HttpMember("b", "127.0.61.2", set_cookie="JSESSIONID=b-session; Path=/"),
        HttpMember("c", "127.0.61.3"),
    )
    with (
        members(*web),
        tcp_backend("echo-a", "127.0.61.4") as echo_a,
        tcp_backend("echo-b", "127.0.61.5") as echo_b,
    ):
        spec = _spec(web, (echo_a, echo_b))
        config = render(spec)
        enabled = [listener for listener in spec.listeners if listener.admin_state_up]
        with running_haproxy(
            config, [(VIP, listener.protocol_port) for listener in enabled]
        ) as haproxy:
            yield Balancer(
                haproxy, {listener.id: listener.protocol_port for listener in spec.listeners}
            )


# --- algorithms ----------------------------------------------------------------------------


def test_round_robin_alternates(balancer: Balancer) -> None:
    answered = balancer.names("to-rr", 6)
    assert set(answered) == {"a", "b"}
    assert all(first != second for first, second in zip(answered, answered[1:], strict=False))


def test_weights_share_round_robin_in_proportion_and_weight_0_gets_nothing(
    balancer: Balancer,
) -> None:
    counts = Counter(balancer.names("to-weights", 40))
    # Round robin is deterministic: weights 3:1 give exactly 30:10 over any 40 requests.
    assert counts == {"a": 30, "b": 10}


def test_least_connections_sends_new_connections_to_the_idle_member(balancer: Balancer) -> None:
    port = balancer.ports["to-lc"]
    held, busy = tcp_greeting(port)
    idle_server = "lc-echo-b" if busy == "echo-a" else "lc-echo-a"
    try:
        answered = []
        for _ in range(4):
            sock, name = tcp_greeting(port)
            sock.close()
            answered.append(name)
            # Round robin would alternate; least connections keeps choosing the idle one
            # once HAProxy has seen the short connection end.
            balancer.haproxy.wait(
                lambda: balancer.haproxy.stat("lc:to-lc", idle_server)["scur"] == "0",
                "the short connection to end",
            )
        assert busy not in answered
        assert len(set(answered)) == 1
    finally:
        held.close()


def test_source_ip_keeps_a_client_on_one_member_and_spreads_clients(balancer: Balancer) -> None:
    for client in ("127.0.9.1", "127.0.9.2"):
        assert len(set(balancer.names("to-src", 5, source=client))) == 1
    spread = {balancer.get("to-src", source=f"127.0.9.{n}").body for n in range(1, 17)}
    assert spread == {"a", "b"}


@pytest.mark.parametrize("listener", ["to-srcport", "to-srcport-tcp"])
def test_source_ip_port_keeps_one_address_and_port_on_one_member(
    balancer: Balancer, listener: str
) -> None:
    client = "127.0.9.50"
    fixed = free_port_on(client)
    assert len(set(balancer.names(listener, 5, source=client, source_port=fixed))) == 1
    # The same address from other ports spreads: the port is part of the hash.
    spread = {
        balancer.get(listener, source=client, source_port=free_port_on(client)).body
        for _ in range(16)
    }
    assert spread == {"a", "b"}


# --- session persistence -------------------------------------------------------------------


def test_source_ip_persistence_sticks_each_client_to_its_first_member(balancer: Balancer) -> None:
    firsts = []
    for n in range(20, 26):
        answered = balancer.names("to-stick-src", 3, source=f"127.0.9.{n}")
        assert len(set(answered)) == 1, answered
        firsts.append(answered[0])
    assert set(firsts) == {"a", "b"}  # new clients are still balanced


def test_http_cookie_pins_the_member_named_in_the_cookie(balancer: Balancer) -> None:
    first = balancer.get("to-cookie")
    cookies = first.headers.get_all("Set-Cookie") or []
    assert f"SRV=cookie-{first.body}; path=/" in cookies
    for pinned in ("a", "b"):
        replies = [
            balancer.get("to-cookie", headers={"Cookie": f"SRV=cookie-{pinned}"}) for _ in range(4)
        ]
        assert {reply.body for reply in replies} == {pinned}
        # `indirect`: the member never sees HAProxy's cookie.
        assert all("SRV=" not in (reply.header("X-Seen-Cookie") or "") for reply in replies)
    assert set(balancer.names("to-cookie", 4)) == {"a", "b"}  # no cookie: balanced


def test_app_cookie_pins_the_member_that_set_it(balancer: Balancer) -> None:
    # Each member sets JSESSIONID=<name>-session; HAProxy learns it from the responses.
    assert set(balancer.names("to-app", 2)) == {"a", "b"}
    for pinned in ("a", "b"):
        cookie = {"Cookie": f"JSESSIONID={pinned}-session"}
        assert set(balancer.names("to-app", 4, headers=cookie)) == {pinned}
    unknown = {"Cookie": "JSESSIONID=never-set"}
    assert set(balancer.names("to-app", 4, headers=unknown)) == {"a", "b"}


# --- admin state ---------------------------------------------------------------------------


def test_a_disabled_member_is_in_maintenance_and_gets_nothing(balancer: Balancer) -> None:
    assert balancer.haproxy.server_status("member-off:to-member-off", "member-off") == "MAINT"
    assert set(balancer.names("to-member-off", 4)) == {"a"}


def test_a_disabled_pool_is_not_rendered_and_its_listener_answers_503(balancer: Balancer) -> None:
    assert balancer.get("to-pool-off").status == 503
    assert not any(row["pxname"].startswith("pool-off:") for row in balancer.haproxy.stats())


def test_a_disabled_listener_does_not_listen(balancer: Balancer) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((VIP, balancer.ports["listener-off"]), timeout=5).close()


def test_a_disabled_load_balancer_runs_no_haproxy() -> None:
    """HAProxy refuses a configuration without proxies: the agent gets none and stops it."""
    spec = specs.loadbalancer(
        admin_state_up=False,
        vip_address=VIP,
        listeners=(specs.listener("l", port=1, default_pool_id="p"),),
        pools=(specs.pool("p"),),
    )
    assert AmphoraConfig.from_text(render_amphora_config(spec, DEFAULT_LIMITS).text).haproxy is None
