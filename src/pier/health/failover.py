"""Automatic failover: which amphorae to replace, and the circuit breaker that stops a mass
failover when the trouble is the controller's, not the amphorae's (octavia-api.md §9.5).

Two signals start a failover:
- *silence*: an amphora that sent heartbeats has sent none for `heartbeat_timeout`. Looked
  for every `health_check_interval`, and only once the manager has itself run for
  `heartbeat_timeout` (after a restart or a database outage every row looks old, so amphorae
  get one timeout to check in first);
- *a dead service*: a heartbeat whose `down` names a service the amphora's configuration
  needs (its HAProxy died). The agent sends that heartbeat the moment HAProxy exits, and the
  failover starts as soon as it arrives, without waiting for a timeout or a scan.

Starting a failover is the API's amphora failover, done by the health manager: one
transaction test-and-sets the load balancer ACTIVE/ERROR -> PENDING_UPDATE (a load balancer
that is busy is left for the next look), marks the amphora PENDING_DELETE and its health row
busy; then the load balancer is queued, and the worker builds the replacement (same VIP, same
configuration) before deleting the old amphora, and records ACTIVE.

The breaker (on by default; Octavia's is off): when at least `breaker_min` amphorae, and more
than `breaker_share` of those that send heartbeats, are silent at once, none is failed over.
They become FAILOVER_STOPPED (seen in the amphora API), one error line says why, and the
counters show it; each goes back to ALLOCATED when its heartbeats resume. A dead-service
report is not silence: it comes from a live agent, so the breaker does not hold it.
"""

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Executable, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import Amphora, AmphoraHealth, LoadBalancer
from pier.domain.enums import AmphoraStatus, ProvisioningStatus
from pier.queue.base import ReconcileQueue
from pier.settings import Settings

log = logging.getLogger(__name__)

# Amphorae a failover may start from: serving, or held by the breaker.
FAILABLE = (AmphoraStatus.ALLOCATED.value, AmphoraStatus.FAILOVER_STOPPED.value)
# A load balancer in any other state is being changed; its failover waits for the next look.
LOCKABLE = (ProvisioningStatus.ACTIVE.value, ProvisioningStatus.ERROR.value)
COUNTERS = (
    "failovers",  # started (either signal)
    "failovers_deferred",  # the load balancer was busy: tried again at the next look
    "breaker_trips",  # the breaker opened
    "stopped_by_breaker",  # amphorae marked FAILOVER_STOPPED
    "recovered",  # FAILOVER_STOPPED amphorae back to ALLOCATED
    "scan_errors",
)
IDLE_WAIT_S = 0.5  # how soon the loop notices `stop` with nothing to do


@dataclass(frozen=True, slots=True)
class FailoverPolicy:
    heartbeat_timeout: timedelta
    check_interval: float
    breaker_share: float
    breaker_min: int

    @classmethod
    def of(cls, settings: Settings) -> "FailoverPolicy":
        return cls(
            heartbeat_timeout=timedelta(seconds=settings.heartbeat_timeout_seconds),
            check_interval=settings.health_check_interval_seconds,
            breaker_share=settings.failover_breaker_share,
            breaker_min=settings.failover_breaker_min_amphorae,
        )

    def breaker_trips(self, silent: int, watched: int) -> bool:
        """PURE: whether `silent` of `watched` amphorae going quiet together is the
        controller's problem rather than theirs.
        """
        return (
            self.breaker_share > 0
            and silent >= self.breaker_min
            and silent > self.breaker_share * watched
        )


@dataclass(frozen=True, slots=True)
class Started:
    """`loadbalancer_id` to queue when the failover started; `busy` when it could not start
    because the load balancer was being changed (the next look tries again).
    """

    loadbalancer_id: str | None
    busy: bool = False


def start_failover(session: Session, amphora_id: str, now: datetime) -> Started:
    """Mark the amphora for replacement, unless it is gone or already being replaced."""
    row = session.execute(
        select(Amphora.loadbalancer_id, Amphora.status).where(Amphora.id == amphora_id)
    ).first()
    if row is None or row.loadbalancer_id is None or row.status not in FAILABLE:
        return Started(None)
    locked = _rowcount(
        session,
        update(LoadBalancer)
        .where(LoadBalancer.id == row.loadbalancer_id)
        .where(LoadBalancer.provisioning_status.in_(LOCKABLE))
        .values(provisioning_status=ProvisioningStatus.PENDING_UPDATE.value, updated_at=now),
    )
    if locked != 1:
        return Started(None, busy=True)
    session.execute(
        update(Amphora)
        .where(Amphora.id == amphora_id, Amphora.status.in_(FAILABLE))
        .values(status=AmphoraStatus.PENDING_DELETE.value, updated_at=now)
    )
    session.execute(
        update(AmphoraHealth).where(AmphoraHealth.amphora_id == amphora_id).values(busy=True)
    )
    return Started(str(row.loadbalancer_id))


def _rowcount(session: Session, statement: Executable) -> int:
    result = session.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError("expected a cursor result from an UPDATE")
    return result.rowcount


@dataclass(frozen=True, slots=True)
class _Watched:
    amphora_id: str
    status: str
    silent: bool


class FailoverScanner:
    """Run by the health manager in a thread of its own (`run`); `report_down` is called
    from the receiving thread and only records the report.
    """

    def __init__(
        self,
        sessions: SessionFactory,
        queue: ReconcileQueue,
        clock: Callable[[], datetime],
        policy: FailoverPolicy,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._queue = queue
        self._clock = clock
        self._policy = policy
        self._monotonic = monotonic
        self._rng = rng or random.Random()  # noqa: S311 - an order, not a secret
        self._lock = threading.Lock()
        self._down: dict[str, tuple[str, ...]] = {}
        self._wake = threading.Event()
        self._next_scan = monotonic() + policy.heartbeat_timeout.total_seconds()
        self.breaker_open = False
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)

    def report_down(self, amphora_id: str, services: Sequence[str]) -> None:
        """A verified heartbeat said these services of the amphora do not run."""
        with self._lock:
            self._down[amphora_id] = tuple(services)
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            wait = min(IDLE_WAIT_S, max(0.0, self._next_scan - self._monotonic()))
            self._wake.wait(wait)
            self._wake.clear()
            self.step()

    def step(self) -> None:
        """Act on dead-service reports, then look for silent amphorae if it is time."""
        self.handle_down_reports()
        if self._monotonic() >= self._next_scan:
            try:
                self.scan()
            except Exception:
                # §9.5: after a database outage, give amphorae a timeout to check in again.
                self.counters["scan_errors"] += 1
                log.exception("looking for silent amphorae failed")
                self._next_scan = self._monotonic() + self._policy.heartbeat_timeout.total_seconds()
            else:
                self._next_scan = self._monotonic() + self._policy.check_interval

    def handle_down_reports(self) -> None:
        with self._lock:
            reports, self._down = self._down, {}
        for amphora_id, services in reports.items():
            try:
                self._fail_over(amphora_id, f"{', '.join(services)} not running")
            except Exception:
                log.exception("failover not started", extra={"amphora_id": amphora_id})

    def scan(self) -> None:
        """One look for silent amphorae (§9.5 steps 1-4)."""
        now = self._clock()
        cutoff = now - self._policy.heartbeat_timeout
        with transaction(self._sessions) as session:
            recovered = self._release_recovered(session, cutoff, now)
            watched = self._watched(session, cutoff)
        silent = [w for w in watched if w.silent]
        if recovered:
            self.counters["recovered"] += recovered
            log.info("silent amphorae report again", extra={"amphorae": recovered})
        if self._policy.breaker_trips(len(silent), len(watched)):
            self._hold(silent, len(watched), now)
            return
        if self.breaker_open:
            self.breaker_open = False
            log.warning("failover circuit breaker closed", extra={"silent": len(silent)})
        self._rng.shuffle(silent)  # one troubled load balancer must not starve the others
        timeout = self._policy.heartbeat_timeout.total_seconds()
        for amphora in silent:
            self._fail_over(amphora.amphora_id, f"no heartbeat for over {timeout:g} s")

    def _release_recovered(self, session: Session, cutoff: datetime, now: datetime) -> int:
        fresh = select(AmphoraHealth.amphora_id).where(AmphoraHealth.last_update >= cutoff)
        return _rowcount(
            session,
            update(Amphora)
            .where(Amphora.status == AmphoraStatus.FAILOVER_STOPPED.value)
            .where(Amphora.id.in_(fresh))
            .values(status=AmphoraStatus.ALLOCATED.value, updated_at=now),
        )

    def _watched(self, session: Session, cutoff: datetime) -> list[_Watched]:
        """Every amphora that sends heartbeats and could be failed over; silent ones marked.
        A busy health row is one whose failover already started.
        """
        query = (
            select(AmphoraHealth.amphora_id, Amphora.status, AmphoraHealth.last_update)
            .join(Amphora, Amphora.id == AmphoraHealth.amphora_id)
            .where(Amphora.status.in_(FAILABLE))
            .where(AmphoraHealth.busy.is_(False))
        )
        return [
            _Watched(amphora_id, status, last_update < cutoff)
            for amphora_id, status, last_update in session.execute(query)
        ]

    def _hold(self, silent: list[_Watched], watched: int, now: datetime) -> None:
        to_stop = [w.amphora_id for w in silent if w.status == AmphoraStatus.ALLOCATED.value]
        if to_stop:
            with transaction(self._sessions) as session:
                stopped = _rowcount(
                    session,
                    update(Amphora)
                    .where(Amphora.id.in_(to_stop))
                    .where(Amphora.status == AmphoraStatus.ALLOCATED.value)
                    .values(status=AmphoraStatus.FAILOVER_STOPPED.value, updated_at=now),
                )
            self.counters["stopped_by_breaker"] += stopped
        if not self.breaker_open:
            self.breaker_open = True
            self.counters["breaker_trips"] += 1
            log.error(
                "failover circuit breaker open: too many amphorae silent at once to be their "
                "own fault; no automatic failover until they report again or fewer are silent",
                extra={
                    "silent": len(silent),
                    "watched": watched,
                    "share": round(len(silent) / watched, 3),
                    "breaker_share": self._policy.breaker_share,
                    "breaker_min": self._policy.breaker_min,
                },
            )

    def _fail_over(self, amphora_id: str, reason: str) -> None:
        with transaction(self._sessions) as session:
            started = start_failover(session, amphora_id, self._clock())
        loadbalancer_id = started.loadbalancer_id
        if loadbalancer_id is None:
            self.counters["failovers_deferred"] += started.busy
            return
        self._queue.enqueue(loadbalancer_id)
        self.counters["failovers"] += 1
        log.warning(
            "amphora failover started",
            extra={"amphora_id": amphora_id, "loadbalancer_id": loadbalancer_id, "reason": reason},
        )
