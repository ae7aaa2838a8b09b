"""The health manager as one object `pier up` (or `pier health`) runs in a thread:

    manager = HealthManager(sessions, settings, clock)
    port = manager.start()          # binds settings.health_bind:settings.health_port (0: any)
    thread = Thread(target=manager.run, args=(stop,))
    ...
    stop.set(); thread.join(); manager.close()

`run` receives in the calling thread and flushes from a second one, so a slow database never
delays reading the socket. Given the worker's queue, a third thread starts failovers
(`pier.health.failover`): of silent amphorae, found in the `amphora_health` rows the writer
keeps, and of amphorae whose heartbeat says their HAProxy died, as soon as it arrives.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from pier.db.engine import SessionFactory
from pier.health.failover import FailoverPolicy, FailoverScanner
from pier.health.keys import load_or_create_key
from pier.health.receiver import HeartbeatReceiver
from pier.health.writer import HeartbeatWriter
from pier.queue.base import ReconcileQueue
from pier.settings import Settings

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 1.0


class HealthManager:
    def __init__(
        self,
        sessions: SessionFactory,
        settings: Settings,
        clock: Callable[[], datetime],
        *,
        queue: ReconcileQueue | None = None,
        flush_interval: float = FLUSH_INTERVAL_S,
    ) -> None:
        """Without a `queue` there is no automatic failover (it is the worker's queue that
        the failovers go to): statuses and statistics only.
        """
        self._flush_interval = flush_interval
        self.failover = (
            None
            if queue is None
            else FailoverScanner(sessions, queue, clock, FailoverPolicy.of(settings))
        )
        self.receiver = HeartbeatReceiver(
            load_or_create_key(settings),
            clock,
            bind=settings.health_bind,
            port=settings.health_port,
            on_down=None if self.failover is None else self.failover.report_down,
        )
        # §9.3 ignores heartbeats processed more than one interval after receipt. Heartbeats
        # here wait up to one flush before they are written, so the bound is never below two
        # flushes, or a short interval (tests, demos) would make every heartbeat stale.
        stale_after = max(settings.heartbeat_interval_seconds, 2 * flush_interval)
        self.writer = HeartbeatWriter(sessions, clock, stale_after=timedelta(seconds=stale_after))
        self._flushes = 0

    def start(self) -> int:
        """Bind the UDP socket; returns the bound port."""
        return self.receiver.start()

    @property
    def port(self) -> int:
        return self.receiver.port

    @property
    def counters(self) -> dict[str, int]:
        """Receiver, writer and failover counters in one snapshot (drops, writes, flushes,
        failovers, breaker trips).
        """
        failover = {} if self.failover is None else self.failover.counters
        return {
            **self.receiver.counters,
            **self.writer.counters,
            **failover,
            "flushes": self._flushes,
        }

    def run(self, stop: threading.Event) -> None:
        """Receive and flush until `stop` is set, then flush what is left."""
        self.start()
        finished = threading.Event()
        writer = threading.Thread(
            target=self._flush_loop, args=(stop, finished), name="health-writer", daemon=True
        )
        writer.start()
        failover = None
        if self.failover is not None:
            failover = threading.Thread(
                target=self.failover.run, args=(finished,), name="health-failover", daemon=True
            )
            failover.start()
        try:
            self.receiver.serve(stop)
        finally:
            finished.set()  # also when serving failed: the writer flushes what came, and ends
            writer.join()
            if failover is not None:
                failover.join()

    def _flush_loop(self, stop: threading.Event, finished: threading.Event) -> None:
        while not (finished.wait(self._flush_interval) or stop.is_set()):
            self.flush()
        self.flush()

    def flush(self) -> None:
        """Write every pending heartbeat; on a database error they wait for the next flush."""
        batch = self.receiver.take()
        try:
            self.writer.write(batch)
        except Exception:
            log.exception("heartbeat flush failed; retrying at the next flush")
            self.receiver.give_back(batch)
        self._flushes += 1

    def close(self) -> None:
        self.receiver.close()
