"""The receiver over a real UDP socket: what it keeps, what it drops, what it never logs."""

import logging
import socket
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from pier.health.receiver import HeartbeatReceiver, Received, combine
from pier.log import StructuredFormatter
from pier.wire.heartbeat import (
    MAX_DATAGRAM,
    HeartbeatMessage,
    ListenerReport,
    ListenerStats,
    encode_heartbeat,
    sign,
)
from tests.support.factories import ManualClock

KEY = "insecure-test-heartbeat-key-do-not-log"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
OUTCOMES = ("accepted", "forged", "malformed", "oversized", "replayed")


def message(
    seq: int, amphora_id: str = "amphora-1", version: int = 3, **stats: ListenerStats
) -> HeartbeatMessage:
    listeners = {listener_id: ListenerReport("OPEN", s) for listener_id, s in stats.items()}
    return HeartbeatMessage(amphora_id, seq, version, listeners)


class Running:
    """A started receiver serving in a thread, and a socket to send to it."""

    def __init__(self, receiver: HeartbeatReceiver) -> None:
        self.receiver = receiver
        self.address = ("127.0.0.1", receiver.start())
        self.stop = threading.Event()
        self.thread = threading.Thread(target=receiver.serve, args=(self.stop,))
        self.thread.start()
        self.sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sent = 0

    def send(self, datagram: bytes) -> None:
        self.sender.sendto(datagram, self.address)
        self.sent += 1

    def settle(self) -> dict[str, int]:
        """Wait until every datagram sent has been judged (loopback UDP does not lose them
        at this rate); bounded, never a timing assertion.
        """
        deadline = threading.Event()
        for _ in range(2000):
            counters = dict(self.receiver.counters)
            if sum(counters[outcome] for outcome in OUTCOMES) >= self.sent:
                return counters
            deadline.wait(0.005)
        raise TimeoutError(f"{self.sent} sent, {self.receiver.counters}")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.sender.close()
        self.receiver.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def running(clock: ManualClock) -> Iterator[Running]:
    served = Running(HeartbeatReceiver(KEY, clock, bind="127.0.0.1", port=0))
    yield served
    served.close()
    assert not served.thread.is_alive()


def test_a_genuine_heartbeat_is_kept_until_taken(running: Running) -> None:
    running.send(encode_heartbeat(message(1), KEY))

    counters = running.settle()

    assert counters["accepted"] == 1
    batch = running.receiver.take()
    assert list(batch) == ["amphora-1"]
    assert batch["amphora-1"].message == message(1)
    assert batch["amphora-1"].received_at == T0
    assert running.receiver.take() == {}


def test_forged_malformed_and_oversized_datagrams_are_dropped_and_counted(
    running: Running,
) -> None:
    bomb = zlib.compress(b" " * (2 * 1024 * 1024), 9)
    running.send(encode_heartbeat(message(1), "not-the-key"))
    running.send(b"\x00" * 200)
    running.send(b"garbage" + sign(b"garbage", KEY))
    running.send(bomb + sign(bomb, KEY))

    counters = running.settle()

    assert (counters["forged"], counters["malformed"], counters["oversized"]) == (2, 1, 1)
    assert counters["accepted"] == 0 and running.receiver.take() == {}


def test_a_datagram_over_64_kib_is_dropped(clock: ManualClock) -> None:
    receiver = HeartbeatReceiver(KEY, clock)  # loopback UDP carries at most 65507 bytes

    assert not receiver.handle(b"x" * (MAX_DATAGRAM + 1))
    assert receiver.counters["oversized"] == 1


def test_replays_and_old_sequence_numbers_are_dropped(running: Running) -> None:
    genuine = encode_heartbeat(message(5), KEY)
    running.send(genuine)
    running.settle()
    running.send(genuine)
    running.send(encode_heartbeat(message(4), KEY))
    running.send(encode_heartbeat(message(5, "amphora-2"), KEY))  # another amphora's own seq

    counters = running.settle()

    assert counters["replayed"] == 2 and counters["accepted"] == 2
    assert sorted(running.receiver.take()) == ["amphora-1", "amphora-2"]


def test_a_forgery_with_a_high_seq_cannot_lock_an_amphora_out(running: Running) -> None:
    running.send(encode_heartbeat(message(10**12), "attacker-key"))
    running.send(encode_heartbeat(message(1), KEY))

    counters = running.settle()

    assert (counters["forged"], counters["accepted"]) == (1, 1)


def test_heartbeats_between_flushes_keep_the_latest_statuses_and_sum_the_deltas(
    running: Running, clock: ManualClock
) -> None:
    running.send(encode_heartbeat(message(1, l1=ListenerStats(10, 20, 3, 4, 1)), KEY))
    running.settle()
    clock.advance(seconds=10)
    later = message(2, l1=ListenerStats(1, 2, 7, 1, 0), l2=ListenerStats(5, 5, 0, 1, 0))
    running.send(encode_heartbeat(later, KEY))
    running.settle()

    received = running.receiver.take()["amphora-1"]

    assert received.message == later and received.received_at == T0 + timedelta(seconds=10)
    assert received.stats == {
        "l1": ListenerStats(tx=11, rx=22, conns=7, totconns=5, ereq=1),
        "l2": ListenerStats(5, 5, 0, 1, 0),
    }
    assert received.stats_are_deltas and received.heartbeats == 2


def test_absolute_stats_replace_what_came_before() -> None:
    older = Received.of(message(1, l1=ListenerStats(10, 10, 1, 1, 1)), T0)
    newer = Received.of(message(2, version=2, l1=ListenerStats(50, 50, 2, 5, 0)), T0)

    combined = combine(older, newer)

    assert combined.stats == {"l1": ListenerStats(50, 50, 2, 5, 0)}
    assert not combined.stats_are_deltas


def test_deltas_after_absolute_values_add_up_to_absolute_values() -> None:
    older = Received.of(message(1, version=2, l1=ListenerStats(50, 50, 2, 5, 0)), T0)
    newer = Received.of(message(2, l1=ListenerStats(1, 1, 3, 1, 1)), T0)

    combined = combine(older, newer)

    assert combined.stats == {"l1": ListenerStats(51, 51, 3, 6, 1)}
    assert not combined.stats_are_deltas


def test_a_batch_given_back_stays_under_newer_heartbeats(clock: ManualClock) -> None:
    receiver = HeartbeatReceiver(KEY, clock)
    receiver.handle(encode_heartbeat(message(1, l1=ListenerStats(rx=10)), KEY))
    batch = receiver.take()
    receiver.handle(encode_heartbeat(message(2, l1=ListenerStats(rx=1)), KEY))

    receiver.give_back(batch)

    received = receiver.take()["amphora-1"]
    assert received.message.seq == 2 and received.stats["l1"].rx == 11


def test_drops_are_logged_without_the_key_and_at_most_once_per_interval(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="pier"):
        for _ in range(5):
            running.send(encode_heartbeat(message(1), "wrong-" + KEY))
        running.settle()

    drops = [r for r in caplog.records if r.getMessage() == "heartbeat dropped"]
    assert len(drops) == 1 and drops[0].__dict__["reason"] == "forged"
    formatter = StructuredFormatter()
    assert all(KEY not in formatter.format(record) for record in caplog.records)


def test_an_empty_key_is_refused(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="key"):
        HeartbeatReceiver("", clock)


def test_the_port_is_known_only_once_bound(clock: ManualClock) -> None:
    receiver = HeartbeatReceiver(KEY, clock)

    with pytest.raises(RuntimeError, match="not started"):
        _ = receiver.port
    with pytest.raises(RuntimeError, match="not started"):
        receiver.serve(threading.Event())
