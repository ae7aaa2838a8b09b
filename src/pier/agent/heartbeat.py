"""The agent's heartbeats: every interval, one signed datagram per amphora on this host, built
from HAProxy's `show stat` the way Octavia's amphora builds it (octavia-api.md §9.2, version 3).

The conversion `heartbeat_from_stats` is pure; `HeartbeatSender` does the I/O around it: the
stats socket, the state file (last counters and `seq`), the UDP socket.

Two promises to the health manager survive agent restarts:
- `seq` never goes backwards for an amphora, so the receiver can drop replays. It is persisted,
  and at start raised to the wall clock in milliseconds (an amphora without state starts
  there): that is above anything an earlier run sent, since one heartbeat per interval is far
  below one per millisecond, so neither a lost state file nor a clock stepped back (alone)
  makes it repeat.
- Version 3 stats are deltas against the last absolute counters, persisted too: without them
  a restarted agent would send everything since HAProxy started a second time.
"""

import csv
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pier.wire.heartbeat import (
    HeartbeatMessage,
    ListenerReport,
    ListenerStats,
    PoolReport,
    encode_heartbeat,
)

log = logging.getLogger(__name__)

# HAProxy's cumulative counters that version 3 reports as deltas: `show stat` column -> field.
DELTA_COLUMNS = {"bin": "rx", "bout": "tx", "stot": "totconns", "ereq": "ereq"}
STATS_TIMEOUT_S = 2.0
STATE_FORMAT = 1
WAKE_POLL_S = 0.5  # how soon a sleeping sender notices `stop`

Counters = Mapping[str, int]  # `show stat` column -> absolute value, DELTA_COLUMNS only


@dataclass(frozen=True)
class Reporting:
    """An amphora to report on; `stats_socket` None when its HAProxy is not running, `down`
    the services its configuration needs that do not run.
    """

    amphora_id: str
    stats_socket: Path | None
    down: tuple[str, ...] = ()
    # Read before the stats: a push landing in between makes the heartbeat look older than
    # it is (harmless), never newer.
    config_version: str | None = None


# The pure part: `show stat` CSV -> a version 3 message.


def parse_show_stat(text: str) -> list[dict[str, str]]:
    """`show stat` output (a `# pxname,svname,...` header, then CSV rows) as dicts."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("# "):
        raise ValueError("not `show stat` output: no `# pxname,...` header")
    return list(csv.DictReader([lines[0][2:], *lines[1:]]))


def is_internal(proxy: str) -> bool:
    """Proxies that are no user's listener or pool: Octavia never reports its Prometheus
    exporter (not billed traffic); a backend is a pool only as `<pool_id>:<listener_id>`.
    """
    return "prometheus" in proxy


def member_status(row: Mapping[str, str]) -> str:
    """HAProxy's server status as Octavia's amphora reports it: HAProxy shows a checked
    server at weight 0 as plain `UP`, which Octavia reports as `DRAIN`.
    """
    status = row.get("status", "")
    return "DRAIN" if status == "UP" and row.get("weight") == "0" else status


def heartbeat_from_stats(
    amphora_id: str, seq: int, stats: str | None, last: Mapping[str, Counters]
) -> tuple[HeartbeatMessage, dict[str, Counters]]:
    """The message for one amphora and the counters to keep for the next one.

    `stats` is `show stat` output, None when HAProxy could not be asked (the message then has
    no listeners, and `last` is kept: the next reading continues from it). `last` maps
    listener id -> absolute counters of the previous heartbeat; a counter below its last value
    means HAProxy restarted, and the raw value is the delta (as Octavia's amphora does).
    """
    if stats is None:
        return HeartbeatMessage(amphora_id, seq), dict(last)
    listeners: dict[str, ListenerReport] = {}
    counters: dict[str, Counters] = {}
    pools: dict[str, PoolReport] = {}
    members: dict[str, dict[str, str]] = {}
    for row in parse_show_stat(stats):
        proxy, name = row.get("pxname", ""), row.get("svname", "")
        if is_internal(proxy):
            continue
        if name == "FRONTEND":
            now = {column: _count(row, column) for column in DELTA_COLUMNS}
            listeners[proxy] = ListenerReport(
                row.get("status", ""), _stats(now, last.get(proxy, {}), _count(row, "scur"))
            )
            counters[proxy] = now
        elif ":" not in proxy:
            continue
        elif name == "BACKEND":
            pools[proxy] = PoolReport(row.get("status", ""), members.setdefault(proxy, {}))
        else:
            members.setdefault(proxy, {})[name] = member_status(row)
    return HeartbeatMessage(amphora_id, seq, listeners=listeners, pools=pools), counters


def _count(row: Mapping[str, str], column: str) -> int:
    value = row.get(column) or "0"
    return int(value) if value.isdigit() else 0


def _stats(now: Counters, last: Counters, current_sessions: int) -> ListenerStats:
    deltas = {
        field: now[column] - last.get(column, 0)
        if now[column] >= last.get(column, 0)
        else now[column]
        for column, field in DELTA_COLUMNS.items()
    }
    return ListenerStats(conns=current_sessions, **deltas)


def read_stats(stats_socket: Path, timeout: float = STATS_TIMEOUT_S) -> str:
    """`show stat` from HAProxy's runtime socket, read to EOF. Raises OSError."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(stats_socket))
        sock.sendall(b"show stat\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class _AmphoraState:
    seq: int  # of the last heartbeat built
    counters: Mapping[str, Counters]


class HeartbeatSender:
    """Sends every amphora's heartbeat each `interval` seconds, round-robin over `targets`.

    `source` is asked each round which amphorae this host runs. An amphora whose HAProxy is not
    running still sends heartbeats (no listeners): the health manager should hear that the
    amphora lives and that it serves nothing.
    """

    def __init__(
        self,
        *,
        key: str,
        targets: Sequence[tuple[str, int]],
        interval: float,
        source: Callable[[], Sequence[Reporting]],
        state_file: Path | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not key:
            raise ValueError("the heartbeat key must not be empty")
        if not targets:
            raise ValueError("at least one heartbeat target (host, port) is needed")
        if interval <= 0:
            raise ValueError("the heartbeat interval must be positive")
        self._key = key
        self._destinations = [_resolve(host, port) for host, port in targets]
        self._next_target = 0
        self._interval = interval
        self._source = source
        self._state_file = state_file
        self._wall_clock = wall_clock
        # Persisted seqs are raised to the wall clock: even a state file that missed its last
        # writes (a full disk) cannot make an amphora's seq go backwards.
        floor = self._floor()
        self._state = {
            amphora_id: _AmphoraState(max(state.seq, floor), state.counters)
            for amphora_id, state in _load_state(state_file).items()
        }
        self._sockets: dict[int, socket.socket] = {}
        self._wake = threading.Event()

    def wake(self) -> None:
        """Send the next round now, not at the end of the interval: something the health
        manager must hear at once happened (an HAProxy died). Safe from any thread.
        """
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Send a round every interval (or when woken) until `stop` is set; a failing round
        is logged.
        """
        try:
            while not stop.is_set():
                started = time.monotonic()
                self._wake.clear()
                try:
                    self.send_once()
                except Exception:
                    log.exception("heartbeat round failed")
                self._sleep(stop, started + self._interval)
        finally:
            self.close()

    def _sleep(self, stop: threading.Event, until: float) -> None:
        """Until `until`, a `wake()`, or `stop` (seen within WAKE_POLL_S)."""
        while not stop.is_set():
            remaining = until - time.monotonic()
            if remaining <= 0 or self._wake.wait(min(remaining, WAKE_POLL_S)):
                return

    def send_once(self) -> list[HeartbeatMessage]:
        """One round: build, persist, then send (so a crash loses a delta rather than sending
        one twice). Returns the messages sent.
        """
        messages = self.build_round(self._source())
        for message in messages:
            self._send(encode_heartbeat(message, self._key), message.amphora_id)
        return messages

    def build_round(self, amphorae: Iterable[Reporting]) -> list[HeartbeatMessage]:
        """The next message of each amphora; state of amphorae no longer listed is dropped."""
        messages = []
        state: dict[str, _AmphoraState] = {}
        for reporting in amphorae:
            previous = self._state.get(reporting.amphora_id)
            seq = previous.seq + 1 if previous is not None else self._floor()
            last = previous.counters if previous is not None else {}
            message, counters = self._message(reporting, seq, last)
            state[reporting.amphora_id] = _AmphoraState(seq, counters)
            messages.append(message)
        self._state = state
        self._save_state()
        return messages

    def _floor(self) -> int:
        return int(self._wall_clock() * 1000)

    def _message(
        self, reporting: Reporting, seq: int, last: Mapping[str, Counters]
    ) -> tuple[HeartbeatMessage, dict[str, Counters]]:
        stats = None
        if reporting.stats_socket is not None:
            try:
                stats = read_stats(reporting.stats_socket)
            except OSError as error:
                log.warning(
                    "HAProxy stats unavailable: heartbeat without listeners",
                    extra={"amphora_id": reporting.amphora_id, "error": str(error)},
                )
        try:
            message, counters = heartbeat_from_stats(reporting.amphora_id, seq, stats, last)
        except ValueError as error:  # HAProxy answered with an error text, not CSV
            log.warning(
                "HAProxy stats unreadable: heartbeat without listeners",
                extra={"amphora_id": reporting.amphora_id, "error": str(error)},
            )
            message, counters = heartbeat_from_stats(reporting.amphora_id, seq, None, last)
        extras = replace(message, down=reporting.down, config_version=reporting.config_version)
        return extras, counters

    def _send(self, datagram: bytes, amphora_id: str) -> None:
        family, address = self._destinations[self._next_target]
        self._next_target = (self._next_target + 1) % len(self._destinations)
        sock = self._sockets.get(family)
        if sock is None:
            sock = self._sockets[family] = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.sendto(datagram, address)
        except OSError as error:
            # As in Octavia: the network may not be up yet; the next round tries again.
            log.warning(
                "heartbeat not sent",
                extra={"amphora_id": amphora_id, "target": address, "error": str(error)},
            )

    def close(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()

    def _save_state(self) -> None:
        if self._state_file is None:
            return
        document = {
            "format": STATE_FORMAT,
            "amphorae": {
                amphora_id: {"seq": state.seq, "counters": state.counters}
                for amphora_id, state in self._state.items()
            },
        }
        temporary = self._state_file.with_name(self._state_file.name + ".tmp")
        try:
            temporary.write_text(json.dumps(document, sort_keys=True))
            temporary.replace(self._state_file)
        except OSError as error:
            log.warning(
                "heartbeat state not saved",
                extra={"path": str(self._state_file), "error": str(error)},
            )


def _resolve(host: str, port: int) -> tuple[int, Any]:
    family, _, _, _, address = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
    return family, address


def _load_state(path: Path | None) -> dict[str, _AmphoraState]:
    """The persisted state; anything unreadable counts as none (seq then restarts from the
    wall clock, which keeps it increasing).
    """
    if path is None or not path.exists():
        return {}
    try:
        document = json.loads(path.read_text())
        return {
            str(amphora_id): _AmphoraState(
                int(entry["seq"]),
                {
                    str(listener_id): {column: int(values[column]) for column in DELTA_COLUMNS}
                    for listener_id, values in entry["counters"].items()
                },
            )
            for amphora_id, entry in document["amphorae"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("heartbeat state unreadable, starting afresh", extra={"error": str(error)})
        return {}
