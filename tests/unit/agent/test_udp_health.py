"""UDP member health: rise/fall counting, heartbeat statuses, the probes against loopback
sockets, and the checker's schedule with a scripted probe.
"""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pier.agent.udp_health import (
    DOWN,
    DRAIN,
    MAINT,
    NO_CHECK,
    UP,
    HealthChecker,
    MemberHealth,
    member_status,
    observe,
    probe,
    probe_http,
    probe_tcp,
    probe_udp_connect,
)
from pier.domain.enums import HealthMonitorType
from pier.wire.udp_checks import MemberRef, MemberState, UdpCheck, UdpMember

HOST = "127.0.203.1"
REF = MemberRef("pool-1:listener-1", "member-1")
OTHER = MemberRef("pool-1:listener-1", "member-2")


def check(type: HealthMonitorType = HealthMonitorType.UDP_CONNECT, **overrides: Any) -> UdpCheck:
    values: dict[str, Any] = {
        "type": type,
        "address": HOST,
        "port": 9,
        "delay": 1,
        "timeout": 1,
        "rise": 2,
        "fall": 3,
    }
    return UdpCheck(**(values | overrides))


# --- rise and fall ----------------------------------------------------------------------------


def run(results: list[bool], start: MemberHealth | None = None) -> list[bool]:
    health, states = start or MemberHealth(), []
    for ok in results:
        health = observe(health, ok, check(rise=2, fall=3))
        states.append(health.up)
    return states


@pytest.mark.parametrize(
    ("results", "states"),
    [
        ([True, True], [True, True]),
        ([False, False, False], [True, True, False]),  # fall 3
        ([False, False, True, False, False], [True] * 5),  # a success resets the count
        ([False] * 3 + [True, True], [True, True, False, False, True]),  # rise 2
        ([False] * 3 + [True, False, True], [True, True, False, False, False, False]),
    ],
)
def test_a_member_flips_after_rise_or_fall_results_in_a_row(
    results: list[bool], states: list[bool]
) -> None:
    assert run(results) == states


def test_a_member_known_down_needs_rise_successes() -> None:
    assert run([True, True], MemberHealth(up=False)) == [False, True]


# --- statuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "checked", "marked_down", "status"),
    [
        (MemberState.ENABLED, True, False, UP),
        (MemberState.ENABLED, True, True, DOWN),
        (MemberState.ENABLED, False, False, NO_CHECK),
        (MemberState.DRAINED, True, False, DRAIN),
        (MemberState.DRAINED, True, True, DOWN),  # failed checks outrank weight 0
        (MemberState.DRAINED, False, False, DRAIN),
        (MemberState.DISABLED, False, False, MAINT),
        (MemberState.DISABLED, True, True, MAINT),
    ],
)
def test_statuses_follow_octavias_lvs_precedence(
    state: MemberState, checked: bool, marked_down: bool, status: str
) -> None:
    member = UdpMember(REF, HOST, 53, state, check() if checked else None)
    assert member_status(member, marked_down=marked_down) == status


# --- probes -----------------------------------------------------------------------------------


def closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def udp_server(answer: bool) -> Iterator[int]:
    """A bound UDP socket that answers each datagram, or stays silent."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    sock.settimeout(0.1)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                _, peer = sock.recvfrom(100)
            except TimeoutError:
                continue
            if answer:
                sock.sendto(b"here", peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stopping.set()
        thread.join(5)
        sock.close()


def test_udp_connect_fails_on_port_unreachable() -> None:
    assert not probe_udp_connect(HOST, closed_udp_port(), 1, threading.Event())


def test_udp_connect_passes_on_an_answer() -> None:
    with udp_server(answer=True) as port:
        assert probe_udp_connect(HOST, port, 5, threading.Event())


def test_udp_connect_passes_on_silence() -> None:
    with udp_server(answer=False) as port:
        assert probe_udp_connect(HOST, port, 0.3, threading.Event())


def test_udp_connect_gives_up_waiting_when_the_checker_stops() -> None:
    stopping = threading.Event()
    stopping.set()
    with udp_server(answer=False) as port:
        assert probe_udp_connect(HOST, port, 3600, stopping)  # returns at once


def test_tcp_passes_when_the_port_accepts() -> None:
    with socket.create_server((HOST, 0)) as server:
        assert probe_tcp(HOST, server.getsockname()[1], 1)


def test_tcp_fails_when_the_port_refuses() -> None:
    with socket.create_server((HOST, 0)) as server:
        port = server.getsockname()[1]
    assert not probe_tcp(HOST, port, 1)


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path, self.headers.get("Host", "")))
        self.send_response(204)
        self.end_headers()

    do_GET = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[tuple[str, str, str]]


@contextmanager
def http_server() -> Iterator[_Server]:
    server = _Server((HOST, 0), _Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_passes_on_an_expected_code_and_sends_method_path_and_host() -> None:
    with http_server() as server:
        port = server.server_address[1]
        http = check(
            HealthMonitorType.HTTP,
            port=port,
            http_method="HEAD",
            url_path="/health?full=1",
            expected_codes=(200, 204),
            domain_name="dns.example.com",
        )
        assert probe(http, threading.Event())
        assert not probe_http(check(HealthMonitorType.HTTP, port=port, expected_codes=(200,)))
    assert server.seen == [
        ("HEAD", "/health?full=1", "dns.example.com"),
        ("GET", "/", f"{HOST}:{port}"),
    ]


def test_http_fails_when_nothing_listens() -> None:
    with socket.create_server((HOST, 0)) as server:
        port = server.getsockname()[1]
    assert not probe(check(HealthMonitorType.HTTP, port=port), threading.Event())


def test_probe_dispatches_on_the_check_type() -> None:
    port = closed_udp_port()
    assert not probe(check(port=port), threading.Event())
    assert not probe(check(HealthMonitorType.TCP, port=port), threading.Event())


# --- the checker --------------------------------------------------------------------------------


class ScriptedProbe:
    """Answers each member's checks from a script (True once it runs out), and records them."""

    def __init__(self, script: dict[MemberRef, list[bool | Exception]]) -> None:
        self.script = script
        self.calls: list[MemberRef] = []
        self._lock = threading.Lock()

    def __call__(self, check: UdpCheck, stopping: threading.Event) -> bool:
        ref = MemberRef("pool-1:listener-1", f"member-{check.port}")
        with self._lock:
            self.calls.append(ref)
            steps = self.script.get(ref, [])
            step = steps.pop(0) if steps else True
        if isinstance(step, Exception):
            raise step
        return step


def members(*refs: MemberRef, fall: int = 1) -> list[UdpMember]:
    """Members whose check port is their number, so the scripted probe can tell them apart."""
    made = []
    for ref in refs:
        number = int(ref.member_id.rsplit("-", 1)[1])
        made.append(UdpMember(ref, HOST, 53, MemberState.ENABLED, check(port=number, fall=fall)))
    return made


class Watcher:
    """The checker's `on_result`: keeps the last down set and wakes a waiting test."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.results = 0
        self.down: frozenset[MemberRef] = frozenset()

    def __call__(self, checker: HealthChecker) -> None:
        with self.condition:
            self.results += 1
            self.down = checker.down()
            self.condition.notify_all()

    def wait(self, results: int) -> frozenset[MemberRef]:
        with self.condition:
            assert self.condition.wait_for(lambda: self.results >= results, timeout=30)
            return self.down


def test_the_checker_takes_a_failing_member_down_and_back_up() -> None:
    probe = ScriptedProbe({REF: [False, False, True, True]})
    watcher = Watcher()
    checker = HealthChecker(members(REF, OTHER, fall=2), watcher, probe=probe)
    checker.start()
    try:
        # Both members are checked at once, then every `delay`: 2 results per round.
        assert watcher.wait(2) == frozenset()
        assert watcher.wait(4) == {REF}
        assert watcher.wait(8) == frozenset()  # rise 2
    finally:
        checker.stop()
    assert probe.calls.count(OTHER) >= 3
    assert checker.health()[OTHER] == MemberHealth()


def test_a_probe_that_raises_changes_nothing_and_checking_goes_on() -> None:
    probe = ScriptedProbe({REF: [RuntimeError("bug"), False]})
    watcher = Watcher()
    checker = HealthChecker(members(REF), watcher, probe=probe)
    checker.start()
    try:
        assert watcher.wait(1) == frozenset()
        assert watcher.wait(2) == {REF}
    finally:
        checker.stop()


def test_the_checker_starts_from_the_health_it_is_given() -> None:
    watcher = Watcher()
    initial = {REF: MemberHealth(up=False)}
    checker = HealthChecker(members(REF), watcher, initial=initial, probe=ScriptedProbe({}))
    assert checker.down() == {REF}
    checker.start()
    try:
        assert watcher.wait(1) == {REF}  # a member known down needs `rise` (2) successes
    finally:
        checker.stop()
    assert checker.health()[REF] == MemberHealth(up=False, streak=1)


def test_a_stopped_checker_reports_nothing_more() -> None:
    watcher = Watcher()
    checker = HealthChecker(members(REF), watcher, probe=ScriptedProbe({}))
    checker.start()
    watcher.wait(1)
    checker.stop()
    results = watcher.results
    checker.stop()  # twice is fine
    assert watcher.results == results
    assert set(checker.checks) == {REF}
