"""Listener settings with real clients: allowed_cidrs, inserted headers, connection limits,
timeouts, PROXY protocol pools, TCP and TLS pass-through listeners.
"""

import contextlib
import http.client
import ipaddress
import socket
import struct
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from pier.domain.enums import PoolProtocol
from pier.domain.spec import AdditionalVipSpec, ListenerSpec, PoolSpec
from tests.integration.amphora.members import (
    PROXY_V2_SIGNATURE,
    HttpMember,
    first_bytes_member,
    get,
    members,
    self_signed,
    silent_member,
)
from tests.support.backends import free_port_on, tcp_backend
from tests.support.haproxy import RunningHaproxy, render, running_haproxy, wait_until
from tests.unit.amphora import specs
from tests.unit.amphora.specs import Proto

pytestmark = pytest.mark.integration

VIP = "127.0.90.1"
SECOND_VIP = "127.0.90.2"  # an additional VIP: every listener binds it too
HEADERS = (("X-Forwarded-For", "true"), ("X-Forwarded-Port", "true"), ("X-Forwarded-Proto", "true"))


@dataclass
class Front:
    haproxy: RunningHaproxy
    ports: dict[str, int]  # listener id -> port
    proxied: dict[str, list[bytes]]  # pool id -> what its PROXY member received first

    def seen(self, listener: str, source: str) -> http.client.HTTPMessage:
        """The headers of the answer to one request: the member's `X-Seen-*` echo."""
        return get(VIP, self.ports[listener], source=source).headers

    def connect(self, listener: str, source: str = "127.0.0.1") -> socket.socket:
        return socket.create_connection((VIP, self.ports[listener]), 10, (source, 0))


def _one(pool_id: str, protocol: PoolProtocol, address: str, port: int) -> PoolSpec:
    return specs.pool(pool_id, protocol, members=(specs.member(f"{pool_id}-m", address, port),))


def _listener(id: str, protocol: Proto, pool: str, **overrides: object) -> ListenerSpec:
    return specs.listener(id, protocol, free_port_on(VIP), default_pool_id=pool, **overrides)


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    web = HttpMember("web", "127.0.91.1")
    secure = HttpMember("secure", "127.0.91.2", tls=self_signed(tmp_path_factory.mktemp("tls")))
    with ExitStack() as stack:
        stack.enter_context(members(web, secure))
        echo = stack.enter_context(tcp_backend("echo", "127.0.91.3"))
        silent = stack.enter_context(silent_member("127.0.91.4"))
        full = stack.enter_context(_full_backlog("127.0.91.5"))
        proxy_port, proxy_seen = stack.enter_context(
            first_bytes_member("p1", "127.0.91.6", http=True)
        )
        proxy2_port, proxy2_seen = stack.enter_context(
            first_bytes_member("p2", "127.0.91.7", http=False)
        )
        pools = (
            _one("web", PoolProtocol.HTTP, web.address, web.port),
            _one("secure", PoolProtocol.HTTPS, secure.address, secure.port),
            _one("echo", PoolProtocol.TCP, *echo),
            _one("silent", PoolProtocol.HTTP, "127.0.91.4", silent),
            _one("full", PoolProtocol.HTTP, "127.0.91.5", full),
            _one("proxy", PoolProtocol.PROXY, "127.0.91.6", proxy_port),
            _one("proxy2", PoolProtocol.PROXYV2, "127.0.91.7", proxy2_port),
        )
        cidrs = ("127.0.9.0/24", "127.0.10.5/32")
        listeners = (
            _listener("cidrs", Proto.HTTP, "web", allowed_cidrs=cidrs),
            _listener("cidrs-tcp", Proto.TCP, "echo", allowed_cidrs=cidrs),
            _listener("headers", Proto.HTTP, "web", insert_headers=HEADERS),
            _listener("plain", Proto.HTTP, "web"),
            _listener("limit", Proto.TCP, "echo", connection_limit=2),
            _listener("idle", Proto.TCP, "echo", timeout_client_data=1000),
            _listener("slow", Proto.HTTP, "silent", timeout_member_data=1000),
            _listener("unreachable", Proto.HTTP, "full", timeout_member_connect=100),
            _listener("proxy", Proto.HTTP, "proxy", insert_headers=HEADERS),
            _listener("proxy2", Proto.TCP, "proxy2"),
            _listener("passthrough", Proto.HTTPS, "secure"),
            _listener("tcp", Proto.TCP, "echo"),
            _listener("tcp-to-http", Proto.TCP, "web"),
        )
        spec = specs.loadbalancer(
            vip_address=VIP,
            additional_vips=(AdditionalVipSpec("subnet-2", SECOND_VIP),),
            listeners=listeners,
            pools=pools,
        )
        frontends = [(VIP, listener.protocol_port) for listener in listeners]
        haproxy = stack.enter_context(running_haproxy(render(spec), frontends))
        # The readiness probes reached the PROXY members too: start from a clean record.
        proxy_seen.clear()
        proxy2_seen.clear()
        ports = {listener.id: listener.protocol_port for listener in listeners}
        yield Front(haproxy, ports, {"proxy": proxy_seen, "proxy2": proxy2_seen})


class _full_backlog:  # noqa: N801 - used as a context manager, like the others
    """A listening socket whose accept queue is full: new SYNs are dropped, so a connect to it
    hangs until the connector's own timeout (what an overloaded or firewalled member does).
    """

    def __init__(self, address: str) -> None:
        self.address = address
        self.sockets: list[socket.socket] = []

    def __enter__(self) -> int:
        listener = socket.socket()
        listener.bind((self.address, 0))
        listener.listen(0)
        self.sockets.append(listener)
        filler = socket.create_connection(listener.getsockname(), timeout=5)
        self.sockets.append(filler)  # the one connection a backlog of 0 queues
        return int(listener.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        for sock in self.sockets:
            sock.close()


# --- allowed_cidrs -------------------------------------------------------------------------


@pytest.mark.parametrize("client", ["127.0.9.7", "127.0.10.5"])
def test_allowed_sources_are_served(front: Front, client: str) -> None:
    assert get(VIP, front.ports["cidrs"], source=client).body == "web"
    sock = front.connect("cidrs-tcp", client)
    with sock, sock.makefile("rb") as stream:
        assert stream.readline() == b"echo\n"


@pytest.mark.parametrize("client", ["127.0.11.1", "127.0.10.6"])
def test_other_sources_are_refused(front: Front, client: str) -> None:
    with pytest.raises(ConnectionError):
        get(VIP, front.ports["cidrs"], source=client)
    # Closed or reset (even before connect returns): never served.
    with contextlib.suppress(ConnectionResetError):
        sock = front.connect("cidrs-tcp", client)
        with sock, sock.makefile("rb") as stream:
            assert stream.readline() == b""


# --- inserted headers ----------------------------------------------------------------------


def test_inserted_headers_reach_the_member(front: Front) -> None:
    seen = front.seen("headers", "127.0.9.9")
    assert seen["X-Seen-X-Forwarded-For"] == "127.0.9.9"
    assert seen["X-Seen-X-Forwarded-Port"] == str(front.ports["headers"])
    assert seen["X-Seen-X-Forwarded-Proto"] == "http"


def test_without_insert_headers_nothing_is_added(front: Front) -> None:
    seen = front.seen("plain", "127.0.9.9")
    assert not [name for name in seen if name.lower().startswith("x-seen-x-forwarded")]


# --- connection limit ----------------------------------------------------------------------


def test_the_connection_limit_holds_the_next_connection_until_one_ends(front: Front) -> None:
    held = [front.connect("limit") for _ in range(2)]
    waiting = None
    try:
        for sock in held:
            assert sock.recv(64) == b"echo\n"
        waiting = front.connect("limit")  # the kernel completes it; HAProxy does not take it
        waiting.settimeout(0.5)
        with pytest.raises(TimeoutError):
            waiting.recv(64)
        stat = front.haproxy.stat("limit", "FRONTEND")
        assert (stat["scur"], stat["slim"]) == ("2", "2")
        held.pop().close()
        waiting.settimeout(20)
        assert waiting.recv(64) == b"echo\n"
    finally:
        for sock in [*held, *([waiting] if waiting else [])]:
            sock.close()


# --- timeouts ------------------------------------------------------------------------------


def test_timeout_client_data_closes_an_idle_client(front: Front) -> None:
    with front.connect("idle") as sock:
        sock.settimeout(20)  # the default 50 s would outlast this; 1 s must not
        assert sock.recv(64) == b"echo\n"
        assert sock.recv(64) == b""


def test_timeout_member_data_answers_504_when_the_member_is_silent(front: Front) -> None:
    assert get(VIP, front.ports["slow"], timeout=20).status == 504


def test_timeout_member_connect_gives_up_on_an_unreachable_member(front: Front) -> None:
    # 100 ms per attempt, 4 attempts (retries 3): a 503 long before the client's 20 s, where
    # the default 5 s per attempt would not answer in time.
    assert get(VIP, front.ports["unreachable"], timeout=15).status == 503


# --- PROXY protocol ------------------------------------------------------------------------


def test_a_proxy_pool_member_gets_a_proxy_v1_line_then_http(front: Front) -> None:
    reply = get(VIP, front.ports["proxy"], "/via-proxy", source="127.0.9.9")
    assert reply.body == "p1"
    received = front.proxied["proxy"][-1]
    line, _, request = received.partition(b"\r\n")
    words = line.decode().split()
    assert words[:4] == ["PROXY", "TCP4", "127.0.9.9", VIP]
    assert words[5] == str(front.ports["proxy"])
    assert request.startswith(b"GET /via-proxy HTTP/1.1\r\n")
    # The PROXY header carries the client: HAProxy adds no X-Forwarded-For (as Octavia).
    assert b"x-forwarded-for" not in request.lower()


def test_a_proxyv2_pool_member_gets_a_binary_header(front: Front) -> None:
    sock = front.connect("proxy2", "127.0.9.10")
    with sock, sock.makefile("rb") as stream:
        sock.sendall(b"hello\r\n")
        assert stream.readline() == b"p2\n"
    received = wait_until(lambda: list(front.proxied["proxy2"]), "the PROXY v2 header")[-1]
    assert received.startswith(PROXY_V2_SIGNATURE)
    version_command, family, length = struct.unpack("!BBH", received[12:16])
    assert (version_command, family) == (0x21, 0x11)  # v2 PROXY, TCP over IPv4
    source, destination, _, port = struct.unpack("!4s4sHH", received[16:28])
    assert str(ipaddress.IPv4Address(source)) == "127.0.9.10"
    assert (str(ipaddress.IPv4Address(destination)), port) == (VIP, front.ports["proxy2"])
    assert received[16 + length :] == b"hello\r\n"


# --- TCP and TLS pass-through ---------------------------------------------------------------


def test_a_tcp_listener_carries_bytes_both_ways(front: Front) -> None:
    sock = front.connect("tcp")
    with sock, sock.makefile("rb") as stream:
        assert stream.readline() == b"echo\n"
        sock.sendall(b"ping\n")
        assert stream.readline() == b"ping\n"


def test_an_https_listener_passes_tls_through_to_the_member(front: Front) -> None:
    reply = get(VIP, front.ports["passthrough"], "/through", tls=True)
    assert reply.body == "secure"  # HAProxy holds no certificate: the member's TLS answered


def test_a_tcp_listener_can_use_an_http_pool(front: Front) -> None:
    """Octavia allows it: HAProxy upgrades the stream to HTTP in the backend."""
    seen = get(VIP, front.ports["tcp-to-http"], "/upgraded", source="127.0.9.9")
    assert seen.body == "web"
    assert front.haproxy.stat("web:tcp-to-http", "BACKEND")["mode"] == "http"


def test_listeners_also_serve_on_the_additional_vips(front: Front) -> None:
    assert get(SECOND_VIP, front.ports["plain"]).body == "web"
    with socket.create_connection((SECOND_VIP, front.ports["tcp"]), 10) as sock:
        assert sock.recv(64) == b"echo\n"
