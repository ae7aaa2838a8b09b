"""HeartbeatSender over real sockets: a UDP collector stands in for the health manager and a
unix socket server answers `show stat` with output captured from HAProxy.
"""

import json
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pier.agent.heartbeat import HeartbeatSender, Reporting
from pier.wire.heartbeat import HeartbeatMessage, ListenerStats, decode_heartbeat

KEY = "insecure-test-heartbeat-key"
SHOW_STAT = (Path(__file__).parent / "test_heartbeat_show_stat.csv").read_text()
L1 = "4e1b5f2c-0001-4000-8000-00000000000a"
A1, A2 = "amphora-1", "amphora-2"
Make = Callable[..., HeartbeatSender]


class Collector:
    """A UDP socket on loopback that decodes what it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.address = ("127.0.0.1", int(self.sock.getsockname()[1]))

    def receive(self, count: int) -> list[HeartbeatMessage]:
        return [decode_heartbeat(self.sock.recv(65536), KEY) for _ in range(count)]


class StatsSocket:
    """HAProxy's runtime socket as far as `show stat` goes: answers `text`, then closes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = SHOW_STAT
        self.commands: list[bytes] = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                self.commands.append(connection.recv(1024))
                connection.sendall(self.text.encode())

    def close(self) -> None:
        self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture
def collector() -> Iterator[Collector]:
    collector = Collector()
    yield collector
    collector.sock.close()


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # Unix socket paths are limited to 107 bytes; pytest's tmp_path can be longer.
    directory = Path(tempfile.mkdtemp(prefix="pier-hb-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def stats_socket(short_dir: Path) -> Iterator[StatsSocket]:
    server = StatsSocket(short_dir / "stats.sock")
    yield server
    server.close()


@pytest.fixture
def senders() -> Iterator[list[HeartbeatSender]]:
    made: list[HeartbeatSender] = []
    yield made
    for heartbeats in made:
        heartbeats.close()


@pytest.fixture
def sender(collector: Collector, senders: list[HeartbeatSender]) -> Make:
    """A sender to the collector, closed after the test."""

    def make(amphorae: list[Reporting], **options: Any) -> HeartbeatSender:
        arguments: dict[str, Any] = {
            "key": KEY,
            "targets": [collector.address],
            "interval": 0.05,
            "source": lambda: amphorae,
            **options,
        }
        senders.append(HeartbeatSender(**arguments))
        return senders[-1]

    return make


def test_each_round_sends_one_signed_datagram_per_amphora(
    collector: Collector, stats_socket: StatsSocket, sender: Make
) -> None:
    amphorae = [Reporting(A1, stats_socket.path), Reporting(A2, None)]

    sender(amphorae).send_once()

    first, second = collector.receive(2)
    assert stats_socket.commands == [b"show stat\n"]
    assert first.amphora_id == A1 and set(first.listeners) >= {L1}
    assert first.listeners[L1].stats == ListenerStats(tx=1452, rx=548, conns=1, totconns=7, ereq=1)
    # HAProxy not running: the amphora still says it is alive, serving nothing.
    assert (second.amphora_id, second.listeners, second.pools) == (A2, {}, {})


def test_an_unreachable_stats_socket_gives_a_heartbeat_without_listeners(
    collector: Collector, short_dir: Path, sender: Make
) -> None:
    sender([Reporting(A1, short_dir / "missing.sock")]).send_once()

    [message] = collector.receive(1)
    assert message.listeners == {}


def test_an_error_text_instead_of_stats_gives_a_heartbeat_without_listeners(
    collector: Collector, stats_socket: StatsSocket, sender: Make
) -> None:
    stats_socket.text = "Permission denied\n"

    sender([Reporting(A1, stats_socket.path)]).send_once()

    [message] = collector.receive(1)
    assert message.listeners == {}


def test_seq_grows_by_one_per_heartbeat_of_an_amphora(collector: Collector, sender: Make) -> None:
    heartbeats = sender([Reporting(A1, None)], wall_clock=lambda: 1000.0)

    for _ in range(3):
        heartbeats.send_once()

    assert [m.seq for m in collector.receive(3)] == [1_000_000, 1_000_001, 1_000_002]


def test_without_saved_state_seq_starts_at_the_wall_clock_so_a_restart_never_repeats_one(
    collector: Collector, sender: Make
) -> None:
    sender([Reporting(A1, None)], wall_clock=lambda: 1000.0).send_once()
    sender([Reporting(A1, None)], wall_clock=lambda: 1000.5).send_once()

    assert [m.seq for m in collector.receive(2)] == [1_000_000, 1_000_500]


def test_seq_and_counters_survive_a_restart_through_the_state_file(
    collector: Collector, stats_socket: StatsSocket, tmp_path: Path, sender: Make
) -> None:
    state = tmp_path / "heartbeat-state.json"
    amphorae = [Reporting(A1, stats_socket.path)]
    sender(amphorae, state_file=state, wall_clock=lambda: 1000.0).send_once()
    stats_socket.text = SHOW_STAT.replace(",548,1452,", ",600,1500,")  # L1's bytes grew

    # The clock stepped back meanwhile: the saved seq still wins.
    sender(amphorae, state_file=state, wall_clock=lambda: 900.0).send_once()

    first, second = collector.receive(2)
    assert second.seq == first.seq + 1
    assert (second.listeners[L1].stats.rx, second.listeners[L1].stats.tx) == (52, 48)
    assert json.loads(state.read_text())["amphorae"][A1]["seq"] == second.seq


def test_an_unreadable_state_file_falls_back_to_the_wall_clock(
    collector: Collector, tmp_path: Path, sender: Make
) -> None:
    state = tmp_path / "heartbeat-state.json"
    state.write_text("{not json")

    sender([Reporting(A1, None)], state_file=state, wall_clock=lambda: 5.0).send_once()

    [message] = collector.receive(1)
    assert message.seq == 5000
    assert json.loads(state.read_text())["amphorae"][A1]["seq"] == 5000


def test_an_amphora_no_longer_listed_is_forgotten(
    collector: Collector, tmp_path: Path, sender: Make
) -> None:
    amphorae = [Reporting(A1, None), Reporting(A2, None)]
    state = tmp_path / "state.json"
    heartbeats = sender(amphorae, state_file=state)
    heartbeats.send_once()
    amphorae.pop()

    heartbeats.send_once()

    assert [m.amphora_id for m in collector.receive(3)] == [A1, A2, A1]
    assert list(json.loads(state.read_text())["amphorae"]) == [A1]


def test_datagrams_go_round_robin_over_the_targets(
    collector: Collector, senders: list[HeartbeatSender]
) -> None:
    other = Collector()
    try:
        heartbeats = HeartbeatSender(
            key=KEY,
            targets=[collector.address, other.address],
            interval=1.0,
            source=lambda: [Reporting(A1, None), Reporting(A2, None)],
        )
        senders.append(heartbeats)
        heartbeats.send_once()
        heartbeats.send_once()

        assert [m.amphora_id for m in collector.receive(2)] == [A1, A1]
        assert [m.amphora_id for m in other.receive(2)] == [A2, A2]
    finally:
        other.sock.close()


def test_run_sends_every_interval_until_stopped(collector: Collector, sender: Make) -> None:
    stop = threading.Event()
    heartbeats = sender([Reporting(A1, None)])
    thread = threading.Thread(target=heartbeats.run, args=(stop,))
    thread.start()
    try:
        seqs = [m.seq for m in collector.receive(3)]
    finally:
        stop.set()
        thread.join(timeout=10)

    assert not thread.is_alive()
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


def test_a_failing_source_skips_the_round_and_the_loop_goes_on(collector: Collector) -> None:
    calls: list[int] = []
    stop = threading.Event()

    def source() -> list[Reporting]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the agent's registry is being rewritten")
        return [Reporting(A1, None)]

    heartbeats = HeartbeatSender(key=KEY, targets=[collector.address], interval=0.05, source=source)
    thread = threading.Thread(target=heartbeats.run, args=(stop,))
    thread.start()
    try:
        [message] = collector.receive(1)
    finally:
        stop.set()
        thread.join(timeout=10)

    assert message.amphora_id == A1 and len(calls) >= 2


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"key": ""}, "key"),
        ({"targets": []}, "target"),
        ({"interval": 0}, "interval"),
    ],
)
def test_bad_settings_fail_at_construction(options: dict[str, object], problem: str) -> None:
    arguments: dict[str, object] = {
        "key": KEY,
        "targets": [("127.0.0.1", 5555)],
        "interval": 1.0,
        "source": list,
        **options,
    }
    with pytest.raises(ValueError, match=problem):
        HeartbeatSender(**arguments)  # type: ignore[arg-type]


def test_services_down_and_the_config_version_are_reported(
    collector: Collector, sender: Make
) -> None:
    sender([Reporting(A1, None, down=("haproxy",), config_version="v1")]).send_once()

    [message] = collector.receive(1)
    assert (message.down, message.config_version) == (("haproxy",), "v1")


def test_wake_sends_the_next_round_at_once(collector: Collector, sender: Make) -> None:
    stop = threading.Event()
    heartbeats = sender([Reporting(A1, None)], interval=3600)
    thread = threading.Thread(target=heartbeats.run, args=(stop,))
    thread.start()
    try:
        collector.receive(1)  # the first round, at start
        heartbeats.wake()
        second = collector.receive(1)  # long before the hour is up
    finally:
        stop.set()
        thread.join(timeout=10)

    assert second and not thread.is_alive()
