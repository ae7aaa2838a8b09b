"""The UDP side of the health manager: verify each datagram, drop what no amphora sent, keep
the latest heartbeat per amphora in memory until the writer takes it.

The hot path (`handle`) touches no database and allocates little: size check, signature,
decode, replay check, one dict update under a lock. Dropped datagrams are counted in
`counters` and logged at most every few seconds per reason (a flood of forgeries must not
become a flood of log lines); the key never reaches a log.

Replays: an amphora's `seq` only grows (the agent persists it), so a datagram whose `seq` is
not above the last one accepted from that amphora in this process is dropped. Heartbeats that
arrive between two flushes are merged: the latest message wins for statuses, and version 3
stats deltas are summed so no traffic is lost.
"""

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pier.wire.heartbeat import (
    MAX_DATAGRAM,
    ForgedHeartbeat,
    HeartbeatMessage,
    ListenerStats,
    MalformedHeartbeat,
    OversizedHeartbeat,
    decode_heartbeat,
)

log = logging.getLogger(__name__)

RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024  # asked of the kernel; it caps at net.core.rmem_max
POLL_INTERVAL_S = 0.25  # how soon `serve` notices `stop`
DRAIN_BATCH = 1024  # datagrams read per wakeup before `stop` is looked at again
DROP_LOG_INTERVAL_S = 10.0
COUNTERS = ("received", "accepted", "forged", "malformed", "oversized", "replayed")


@dataclass(frozen=True, slots=True)
class Received:
    """An amphora's latest heartbeat, and the statistics of all those not yet written.

    `stats` holds, per listener, the sum of the version 3 deltas since the last flush (or the
    latest absolute values when `stats_are_deltas` is False); `conns` is always the latest.
    """

    message: HeartbeatMessage
    received_at: datetime
    stats: Mapping[str, ListenerStats]
    stats_are_deltas: bool
    heartbeats: int = 1

    @classmethod
    def of(cls, message: HeartbeatMessage, received_at: datetime) -> "Received":
        stats = {listener_id: report.stats for listener_id, report in message.listeners.items()}
        return cls(message, received_at, stats, message.stats_are_deltas)


def combine(older: Received, newer: Received) -> Received:
    """Both heartbeats' worth of information in one: `newer`'s statuses, the stats of both."""
    heartbeats = older.heartbeats + newer.heartbeats
    if not newer.stats_are_deltas:  # absolute values replace whatever came before
        return replace(newer, heartbeats=heartbeats)
    stats = dict(older.stats)
    for listener_id, delta in newer.stats.items():
        before = stats.get(listener_id)
        stats[listener_id] = delta if before is None else _add(before, delta)
    # Deltas on top of absolute values are absolute values again.
    return Received(newer.message, newer.received_at, stats, older.stats_are_deltas, heartbeats)


def _add(before: ListenerStats, delta: ListenerStats) -> ListenerStats:
    return ListenerStats(
        tx=before.tx + delta.tx,
        rx=before.rx + delta.rx,
        conns=delta.conns,
        totconns=before.totconns + delta.totconns,
        ereq=before.ereq + delta.ereq,
    )


class _DropLog:
    """One warning per reason per interval, carrying how many drops it stands for."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._since: dict[str, int] = {}

    def dropped(self, reason: str, source: Any, detail: str) -> None:
        self._since[reason] = self._since.get(reason, 0) + 1
        now = time.monotonic()
        if now - self._last.get(reason, -DROP_LOG_INTERVAL_S) < DROP_LOG_INTERVAL_S:
            return
        self._last[reason] = now
        log.warning(
            "heartbeat dropped",
            extra={
                "reason": reason,
                "source": source,
                "detail": detail,
                "dropped": self._since.pop(reason),
            },
        )


class HeartbeatReceiver:
    def __init__(
        self,
        key: str,
        clock: Callable[[], datetime],
        *,
        bind: str = "127.0.0.1",
        port: int = 0,
        on_down: Callable[[str, tuple[str, ...]], None] | None = None,
    ) -> None:
        """`on_down(amphora_id, services)` hears at once of an accepted heartbeat that names
        services down (a dead HAProxy): that must not wait for the next flush.
        """
        if not key:
            raise ValueError("the heartbeat key must not be empty")
        self._key = key
        self._on_down = on_down
        self._clock = clock
        self._address = (bind, port)
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._pending: dict[str, Received] = {}
        self._last_seq: dict[str, int] = {}
        self._drops = _DropLog()
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)

    def start(self) -> int:
        """Bind the UDP socket; returns the port (the one picked when asked for port 0)."""
        if self._socket is None:
            host, port = self._address
            family, _, _, _, address = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
                sock.bind(address)
            except OSError:
                sock.close()
                raise
            sock.setblocking(False)
            self._socket = sock
            log.info("heartbeat receiver listening", extra={"address": sock.getsockname()})
        return self.port

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the receiver is not started")
        return int(self._socket.getsockname()[1])

    def serve(self, stop: threading.Event) -> None:
        """Receive until `stop` is set (or the socket is closed)."""
        sock = self._socket
        if sock is None:
            raise RuntimeError("the receiver is not started")
        buffer = bytearray(MAX_DATAGRAM + 1)  # one byte more, to see an oversized datagram
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            while not stop.is_set():
                try:
                    if selector.select(POLL_INTERVAL_S):
                        self._drain(sock, buffer)
                except (OSError, ValueError):
                    if self._socket is None:  # closed under us: the manager is stopping
                        return
                    raise

    def _drain(self, sock: socket.socket, buffer: bytearray) -> None:
        view = memoryview(buffer)
        for _ in range(DRAIN_BATCH):
            try:
                size, source = sock.recvfrom_into(buffer)
            except BlockingIOError:
                return
            self.handle(bytes(view[:size]), source)

    def handle(self, datagram: bytes, source: Any = None) -> bool:
        """The hot path: True when the heartbeat was kept for the writer."""
        counters = self.counters
        counters["received"] += 1
        try:
            message = decode_heartbeat(datagram, self._key)
        except ForgedHeartbeat as error:
            return self._drop("forged", source, str(error))
        except OversizedHeartbeat as error:
            return self._drop("oversized", source, str(error))
        except MalformedHeartbeat as error:
            return self._drop("malformed", source, str(error))
        received = Received.of(message, self._clock())
        amphora_id = message.amphora_id
        with self._lock:
            last = self._last_seq.get(amphora_id)
            if last is not None and message.seq <= last:
                replayed = True
            else:
                replayed = False
                self._last_seq[amphora_id] = message.seq
                pending = self._pending.get(amphora_id)
                self._pending[amphora_id] = (
                    received if pending is None else combine(pending, received)
                )
        if replayed:
            return self._drop("replayed", source, f"amphora {amphora_id} seq {message.seq}")
        counters["accepted"] += 1
        if message.down and self._on_down is not None:
            self._on_down(amphora_id, message.down)
        return True

    def _drop(self, reason: str, source: Any, detail: str) -> bool:
        self.counters[reason] += 1
        self._drops.dropped(reason, source, detail)
        return False

    def take(self) -> dict[str, Received]:
        """Every amphora's pending heartbeat, leaving none behind (the writer's batch)."""
        with self._lock:
            batch, self._pending = self._pending, {}
        return batch

    def give_back(self, batch: Mapping[str, Received]) -> None:
        """Return a batch the writer could not write; newer heartbeats stay on top of it."""
        with self._lock:
            for amphora_id, older in batch.items():
                newer = self._pending.get(amphora_id)
                self._pending[amphora_id] = older if newer is None else combine(older, newer)

    def close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()
