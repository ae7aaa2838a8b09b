"""The worker loop: resync at start and on a timer, take ids from the queue, reconcile each.

Retries wait in an in-memory heap until due, then go back on the queue. Losing that heap (a
crash, a restart) loses nothing: the trees are still PENDING_* and the next resync finds them.
One load balancer's failure is logged with its id and the loop goes on.
"""

import heapq
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from pier.amphora.haproxy_config import HaproxyLimits
from pier.db.engine import SessionFactory
from pier.drivers.compute.base import Compute
from pier.drivers.network.base import Network
from pier.queue.base import ReconcileQueue
from pier.settings import Settings
from pier.worker.reconcile import Outcome, Reconciler

logger = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        queue: ReconcileQueue,
        compute: Compute,
        network: Network,
        settings: Settings,
        clock: Callable[[], datetime],
        reconciler: Reconciler | None = None,
        poll_seconds: float = 0.5,
        crash_retry_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`reconciler` replaces the one built from the other arguments (tests pass their own)."""
        self.queue = queue
        self.reconciler = reconciler or Reconciler(
            sessions,
            compute,
            network,
            clock,
            max_attempts=settings.reconcile_max_attempts,
            limits=HaproxyLimits(max_connections=settings.haproxy_max_connections),
        )
        self.resync_interval_seconds = settings.resync_interval_seconds
        self.poll_seconds = poll_seconds
        self.crash_retry_seconds = crash_retry_seconds
        self._monotonic = monotonic
        self._retries: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set; a pass in progress finishes first."""
        logger.info("worker started", extra={"owner": self.reconciler.owner})
        next_resync = self._monotonic()
        while not stop.is_set():
            now = self._monotonic()
            if now >= next_resync:
                self.resync()
                next_resync = now + self.resync_interval_seconds
            self.requeue_due()
            loadbalancer_id = self.queue.get(self._wait(now, next_resync))
            if loadbalancer_id is not None:
                self.handle(loadbalancer_id)
        logger.info("worker stopped")

    def resync(self) -> int:
        """Drop the leases of dead workers of this host, delete orphan amphorae and stray
        instances, and enqueue every tree still PENDING_*; returns how many were enqueued.

        Each step may fail on its own (an agent not answering yet must not keep the pending
        trees from being enqueued); a failed step is tried again at the next interval.
        """
        cleanups = (
            ("release dead leases", self.reconciler.release_dead_leases),
            ("delete orphan amphorae", self.reconciler.delete_orphan_amphorae),
            ("delete stray instances", self.reconciler.delete_stray_instances),
        )
        for step, cleanup in cleanups:
            try:
                cleanup()
            except Exception:
                logger.exception(
                    "resync step failed; trying again at the next interval", extra={"step": step}
                )
        try:
            pending = self.reconciler.find_pending()
        except Exception:
            logger.exception("resync failed; trying again at the next interval")
            return 0
        for loadbalancer_id in pending:
            self.queue.enqueue(loadbalancer_id)
        if pending:
            logger.info("resync found %d load balancers to reconcile", len(pending))
        return len(pending)

    def handle(self, loadbalancer_id: str) -> Outcome | None:
        """One reconcile pass, with its retry scheduled; never raises."""
        try:
            outcome = self.reconciler.reconcile(loadbalancer_id)
        except Exception:
            logger.exception("reconcile crashed", extra={"loadbalancer_id": loadbalancer_id})
            self._schedule(loadbalancer_id, self.crash_retry_seconds)
            return None
        if outcome.retry_after is not None:
            self._schedule(loadbalancer_id, outcome.retry_after)
        return outcome

    def pending_retries(self) -> list[str]:
        """Ids waiting for their backoff to pass, soonest first."""
        return [loadbalancer_id for _, loadbalancer_id in sorted(self._retries)]

    def start_in_thread(self) -> threading.Thread:
        """Run in a daemon thread (for `pier up`); stop it with `stop()`."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the worker is already running")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name="pier-worker", daemon=True
        )
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for the pass in progress to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _schedule(self, loadbalancer_id: str, delay: float) -> None:
        if delay <= 0:
            self.queue.enqueue(loadbalancer_id)
        else:
            heapq.heappush(self._retries, (self._monotonic() + delay, loadbalancer_id))

    def requeue_due(self) -> int:
        """Put every retry whose backoff has passed back on the queue; returns how many."""
        now, count = self._monotonic(), 0
        while self._retries and self._retries[0][0] <= now:
            _, loadbalancer_id = heapq.heappop(self._retries)
            self.queue.enqueue(loadbalancer_id)
            count += 1
        return count

    def _wait(self, now: float, next_resync: float) -> float:
        deadlines = [next_resync, *(due for due, _ in self._retries[:1])]
        return max(0.0, min(self.poll_seconds, *(d - now for d in deadlines)))
