"""Heartbeats verified and processed per second on one core, by the health manager's receiver.

Figures:
  1. hot path: `HeartbeatReceiver.handle` over N pre-signed, realistic heartbeats from M
     amphorae (size check, HMAC, zlib, JSON, shape, replay check, into the pending map),
     on one pinned core; the amphorae take turns and the writer takes the pending map after
     every round, as in service (one heartbeat per amphora per flush);
  2. end to end: the same datagrams sent over a real loopback UDP socket, as fast as it goes,
     by a separate process pinned to the other core, while the receiver thread serves the
     socket; heartbeats accepted per second between the first and the last, and how many the
     kernel dropped when its buffer was full (the sender outruns the receiver on purpose);
  3. the writer: one flush of M amphorae (each its own load balancer tree) into SQLite,
     every status changing, then steady (liveness and statistics only).
1 and 2 run interleaved, three times each; each is given per second of wall time and per
second of the receiving thread's CPU time (the latter holds on a shared, noisy machine).
The goal for 1 and 2 is 10,000 heartbeats per second per core.

    .venv/bin/python bench/heartbeat/run.py [--messages 100000] [--amphorae 1000]
"""

import argparse
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from pier.db.base import Base
from pier.db.engine import make_engine, make_session_factory, transaction
from pier.db.tables.lbaas import Amphora, Listener, LoadBalancer, Member, Pool
from pier.health.receiver import HeartbeatReceiver, Received
from pier.health.writer import HeartbeatWriter
from pier.wire.heartbeat import (
    HeartbeatMessage,
    ListenerReport,
    ListenerStats,
    PoolReport,
    encode_heartbeat,
)

KEY = "bench-heartbeat-key"
LISTENERS, MEMBERS = 2, 4  # per amphora: listeners, each with one pool of MEMBERS members
REPEATS = 3


def now() -> datetime:
    return datetime.now(UTC)


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {cpu})


def tree_of(amphora: int) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Deterministic ids: listener ids, and (pool id, member ids) per listener."""
    listeners = [str(uuid.UUID(int=(amphora << 16) + n)) for n in range(LISTENERS)]
    pools = [
        (
            str(uuid.UUID(int=(1 << 120) + (amphora << 16) + n)),
            [str(uuid.UUID(int=(2 << 120) + (amphora << 16) + n * 64 + m)) for m in range(MEMBERS)],
        )
        for n in range(LISTENERS)
    ]
    return listeners, pools


def amphora_id(amphora: int) -> str:
    return str(uuid.UUID(int=(3 << 120) + amphora))


def message(amphora: int, seq: int) -> HeartbeatMessage:
    """What an amphora with 2 HTTP listeners and 4 members each sends (one member draining)."""
    listeners, pools = tree_of(amphora)
    stats = ListenerStats(tx=48_213 + seq, rx=9_120, conns=12, totconns=31, ereq=0)
    return HeartbeatMessage(
        amphora_id(amphora),
        seq,
        listeners={listener: ListenerReport("OPEN", stats) for listener in listeners},
        pools={
            f"{pool}:{listener}": PoolReport(
                "UP", {m: ("DRAIN" if i == 3 else "UP") for i, m in enumerate(members)}
            )
            for listener, (pool, members) in zip(listeners, pools, strict=True)
        },
    )


def datagrams(count: int, amphorae: int) -> list[bytes]:
    """`count` signed heartbeats, amphorae taking turns, seq increasing per amphora."""
    return [encode_heartbeat(message(n % amphorae, n // amphorae), KEY) for n in range(count)]


@dataclass(frozen=True)
class Rate:
    wall: float  # heartbeats per second of elapsed time
    cpu: float  # heartbeats per second of the receiving thread's CPU time


def hot_path(packets: list[bytes], amphorae: int) -> Rate:
    receiver = HeartbeatReceiver(KEY, now)
    handle, take = receiver.handle, receiver.take
    wall, cpu = time.perf_counter(), time.thread_time()
    for start in range(0, len(packets), amphorae):
        for packet in packets[start : start + amphorae]:
            handle(packet)
        take()
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    assert receiver.counters["accepted"] == len(packets), receiver.counters
    return Rate(len(packets) / wall, len(packets) / cpu)


def blast(port: int, packets: list[bytes], cpu: int) -> None:
    """The sender process: every datagram, as fast as one core sends them."""
    pin(cpu)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for packet in packets:
            sock.sendto(packet, ("127.0.0.1", port))


class TimedReceiver(HeartbeatReceiver):
    """The receiver, noting when (wall and thread CPU) it accepted its first and last."""

    first = last = first_cpu = last_cpu = 0.0

    def handle(self, datagram: bytes, source: object = None) -> bool:
        kept = super().handle(datagram, source)
        if kept:
            self.last, self.last_cpu = time.perf_counter(), time.thread_time()
            if not self.first:
                self.first, self.first_cpu = self.last, self.last_cpu
        return kept


def end_to_end(packets: list[bytes]) -> tuple[Rate, int]:
    """The rate between the first and the last accepted heartbeat; datagrams dropped."""
    receiver = TimedReceiver(KEY, now)
    port = receiver.start()
    stop = threading.Event()
    thread = threading.Thread(target=receiver.serve, args=(stop,))
    thread.start()
    sender = multiprocessing.get_context("fork").Process(target=blast, args=(port, packets, 1))
    try:
        sender.start()
        sender.join(timeout=300)
        settled = -1
        while receiver.counters["received"] != settled:  # until the socket is drained
            settled = receiver.counters["received"]
            time.sleep(0.5)
        accepted = receiver.counters["accepted"] - 1
        rate = Rate(
            accepted / (receiver.last - receiver.first),
            accepted / (receiver.last_cpu - receiver.first_cpu),
        )
        return rate, len(packets) - receiver.counters["received"]
    finally:
        stop.set()
        thread.join(timeout=10)
        receiver.close()
        if sender.is_alive():
            sender.kill()


def writer_flush(amphorae: int) -> tuple[float, float]:
    """Seconds for one flush of `amphorae` heartbeats: all statuses changing, then steady."""
    with tempfile.TemporaryDirectory(prefix="pier-bench-hb-") as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'pier.db'}")
        Base.metadata.create_all(engine)
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            for n in range(amphorae):
                add_tree(session, n)
        writer = HeartbeatWriter(sessions, now, stale_after=timedelta(seconds=60))
        timings = []
        for seq in (1, 2):
            batch = {amphora_id(n): Received.of(message(n, seq), now()) for n in range(amphorae)}
            started = time.perf_counter()
            writer.write(batch)
            timings.append(time.perf_counter() - started)
        assert writer.counters["written"] == 2 * amphorae, writer.counters
        engine.dispose()
        return timings[0], timings[1]


def add_tree(session: Session, n: int) -> None:
    """Amphora n's load balancer, as `message(n, ...)` reports on it."""
    lb_id = str(uuid.UUID(int=(4 << 120) + n))
    session.add(LoadBalancer(id=lb_id, provisioning_status="ACTIVE", vip_address="10.0.0.1"))
    listeners, pools = tree_of(n)
    for listener, (pool, members) in zip(listeners, pools, strict=True):
        session.add(
            Pool(id=pool, loadbalancer_id=lb_id, protocol="HTTP", lb_algorithm="ROUND_ROBIN")
        )
        session.add(
            Listener(
                id=listener, loadbalancer_id=lb_id, protocol="HTTP", protocol_port=80,
                default_pool_id=pool,
            )
        )  # fmt: skip
        for member in members:
            session.add(Member(id=member, pool_id=pool, address="10.0.1.1", protocol_port=80))
    session.add(Amphora(id=amphora_id(n), loadbalancer_id=lb_id, status="ALLOCATED"))


def describe() -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return f"commit {commit or '?'}, Python {platform.python_version()}, {os.cpu_count()} CPUs"


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def summary(rates: list[Rate]) -> str:
    walls, cpus = [r.wall for r in rates], [r.cpu for r in rates]
    return (
        f"best {max(walls):>7,.0f}/s, median {statistics.median(walls):>7,.0f}/s; "
        f"per CPU-second best {max(cpus):>7,.0f}, median {statistics.median(cpus):>7,.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--amphorae", type=int, default=1_000)
    args = parser.parse_args()
    print(f"heartbeat benchmark: {describe()}; load average {load()} at the start")
    packets = datagrams(args.messages, args.amphorae)
    sizes = sorted(len(p) for p in packets)
    print(
        f"{len(packets)} heartbeats from {args.amphorae} amphorae, {LISTENERS} listeners and "
        f"{LISTENERS * MEMBERS} members each, {sizes[len(sizes) // 2]} bytes (median datagram)"
    )
    pin(0)
    hot: list[Rate] = []
    udp: list[Rate] = []
    dropped: list[int] = []
    for _ in range(REPEATS):
        hot.append(hot_path(packets, args.amphorae))
        rate, lost = end_to_end(packets)
        udp.append(rate)
        dropped.append(lost)
    print(f"1. hot path, one core:  {summary(hot)}")
    print(f"2. end to end over UDP: {summary(udp)}")
    print(f"   (the kernel dropped {min(dropped)}-{max(dropped)} of {len(packets)} per run)")
    changing, steady = writer_flush(args.amphorae)
    print(
        f"3. writer, one flush of {args.amphorae} amphorae into SQLite: "
        f"{changing:.2f} s with every status changing, {steady:.2f} s steady"
    )
    print(f"load average {load()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
