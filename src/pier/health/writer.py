"""What heartbeats leave in the database, written in one transaction per flush (~1 s):
liveness (`amphora_health.last_update`), operating statuses that changed, statistics.

Per amphora, following Octavia's health and stats drivers (octavia-api.md §9.3):
- not in the database, DELETED, or without a live load balancer: counted and ignored (zombie
  clean-up belongs to failover, later);
- liveness when the listener count matches (`status.refreshes_liveness`) and the heartbeat
  is not stale by the time it is written; `last_update` is when it was received, and never
  moves backwards (two health managers may write the same amphora);
- statuses from `status.derive_statuses`, written only where they change, skipped with
  liveness for a stale heartbeat;
- statistics always: version 3 deltas are added to the (listener, amphora) row, earlier
  versions replace it; `active_connections` is overwritten. Only listeners of the amphora's
  load balancer get rows (a late heartbeat must not resurrect a deleted listener's row).

Each amphora is written in a savepoint: one that fails is logged and skipped, the rest commit.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.amphora.haproxy_config import FRONTEND_MODES
from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import (
    Amphora,
    AmphoraHealth,
    Listener,
    ListenerStatistics,
    LoadBalancer,
    Member,
    Pool,
)
from pier.domain.enums import AmphoraStatus, ProvisioningStatus
from pier.health.receiver import Received
from pier.health.status import (
    StatusChanges,
    StoredListener,
    StoredLoadBalancer,
    StoredMember,
    StoredPool,
    derive_statuses,
    refreshes_liveness,
)

log = logging.getLogger(__name__)

COUNTERS = (
    "written",  # heartbeats whose amphora was found and processed
    "unknown_amphora",
    "no_loadbalancer",  # amphora DELETED, or its load balancer missing or DELETED
    "stale",  # too old when written: statistics only
    "listener_count_mismatch",  # no liveness refresh
    "status_changes",  # rows whose operating status changed
    "failed",  # an error writing one amphora (logged)
)


class _Tree:
    """The rows of one load balancer that a heartbeat updates."""

    def __init__(self, session: Session, loadbalancer: LoadBalancer) -> None:
        lb_id = loadbalancer.id
        self.loadbalancer = loadbalancer
        self.listeners = list(
            session.scalars(
                select(Listener)
                .where(Listener.loadbalancer_id == lb_id)
                .order_by(Listener.created_at, Listener.id)
            )
        )
        self.pools = list(
            session.scalars(
                select(Pool).where(Pool.loadbalancer_id == lb_id).order_by(Pool.created_at, Pool.id)
            )
        )
        self.members = list(
            session.scalars(
                select(Member)
                .join(Pool, Pool.id == Member.pool_id)
                .where(Pool.loadbalancer_id == lb_id)
                .order_by(Member.created_at, Member.id)
            )
        )

    def stored(self) -> StoredLoadBalancer:
        lb = self.loadbalancer
        members: dict[str, list[StoredMember]] = {}
        for member in self.members:
            members.setdefault(member.pool_id, []).append(
                StoredMember(member.id, member.operating_status)
            )
        return StoredLoadBalancer(
            id=lb.id,
            admin_state_up=lb.admin_state_up,
            provisioning_status=lb.provisioning_status,
            operating_status=lb.operating_status,
            listeners=tuple(
                StoredListener(
                    listener.id,
                    listener.admin_state_up,
                    listener.operating_status,
                    reported=listener.protocol in FRONTEND_MODES,
                )
                for listener in self.listeners
            ),
            pools=tuple(
                StoredPool(pool.id, pool.operating_status, tuple(members.get(pool.id, ())))
                for pool in self.pools
            ),
        )

    def apply(self, changes: StatusChanges, now: datetime) -> int:
        """Write the changed statuses; returns how many rows changed."""
        changed = 0
        if changes.loadbalancer is not None:
            _set(self.loadbalancer, changes.loadbalancer, now)
            changed += 1
        for rows, wanted in (
            (self.listeners, changes.listeners),
            (self.pools, changes.pools),
            (self.members, changes.members),
        ):
            for row in _by_id(rows, wanted):
                _set(row, wanted[row.id], now)
                changed += 1
        return changed


def _by_id(
    rows: Sequence[Listener | Pool | Member], wanted: Mapping[str, object]
) -> list[Listener | Pool | Member]:
    return [row for row in rows if row.id in wanted]


def _set(row: LoadBalancer | Listener | Pool | Member, status: str, now: datetime) -> None:
    row.operating_status = status
    row.updated_at = now


class HeartbeatWriter:
    def __init__(
        self, sessions: SessionFactory, clock: Callable[[], datetime], *, stale_after: timedelta
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._stale_after = stale_after
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)

    def write(self, batch: Mapping[str, Received]) -> None:
        """Raises what the database raises when the transaction as a whole fails (the caller
        keeps the batch for the next flush); an error confined to one amphora is logged.
        """
        if not batch:
            return
        now = self._clock()
        with transaction(self._sessions) as session:
            for amphora_id, received in batch.items():
                try:
                    with session.begin_nested():
                        self._write_one(session, amphora_id, received, now)
                except Exception:
                    self.counters["failed"] += 1
                    log.exception("heartbeat not written", extra={"amphora_id": amphora_id})

    def _write_one(
        self, session: Session, amphora_id: str, received: Received, now: datetime
    ) -> None:
        loadbalancer = self._loadbalancer_of(session, amphora_id)
        if loadbalancer is None:
            return
        self.counters["written"] += 1
        tree = _Tree(session, loadbalancer)
        _write_stats(session, amphora_id, {listener.id for listener in tree.listeners}, received)
        context = {"amphora_id": amphora_id, "loadbalancer_id": loadbalancer.id}
        if now - received.received_at > self._stale_after:
            # §9.3: a heartbeat processed this late says little about the amphora now.
            self.counters["stale"] += 1
            log.warning(
                "heartbeat too old to vouch for the amphora",
                extra={**context, "age": str(now - received.received_at)},
            )
            return
        stored = tree.stored()
        if refreshes_liveness(stored, received.message):
            _touch_health(session, amphora_id, received.received_at)
        else:
            self.counters["listener_count_mismatch"] += 1
            log.warning(
                "heartbeat reports a different number of listeners: liveness not refreshed",
                extra={**context, "reported": len(received.message.listeners)},
            )
        changes = derive_statuses(stored, received.message)
        for note in changes.unknown:
            log.warning("unknown status in heartbeat", extra={**context, "detail": note})
        if not changes.empty:
            self.counters["status_changes"] += tree.apply(changes, now)
            log.info("operating statuses changed", extra={**context, "changes": _describe(changes)})

    def _loadbalancer_of(self, session: Session, amphora_id: str) -> LoadBalancer | None:
        amphora = session.get(Amphora, amphora_id)
        if amphora is None:
            self.counters["unknown_amphora"] += 1
            log.warning(
                "heartbeat from an amphora not in the database", extra={"amphora_id": amphora_id}
            )
            return None
        loadbalancer = (
            session.get(LoadBalancer, amphora.loadbalancer_id) if amphora.loadbalancer_id else None
        )
        if (
            amphora.status == AmphoraStatus.DELETED
            or loadbalancer is None
            or loadbalancer.provisioning_status == ProvisioningStatus.DELETED
        ):
            self.counters["no_loadbalancer"] += 1
            log.info(
                "heartbeat from an amphora without a load balancer",
                extra={"amphora_id": amphora_id},
            )
            return None
        return loadbalancer


def _touch_health(session: Session, amphora_id: str, received_at: datetime) -> None:
    health = session.get(AmphoraHealth, amphora_id)
    if health is None:
        session.add(AmphoraHealth(amphora_id=amphora_id, last_update=received_at, busy=False))
    elif health.last_update < received_at:
        health.last_update = received_at


def _write_stats(
    session: Session, amphora_id: str, listener_ids: set[str], received: Received
) -> None:
    for listener_id, stats in received.stats.items():
        if listener_id not in listener_ids:
            continue
        row = session.get(ListenerStatistics, (listener_id, amphora_id))
        if row is None:
            row = ListenerStatistics(
                listener_id=listener_id,
                amphora_id=amphora_id,
                bytes_in=0,
                bytes_out=0,
                active_connections=0,
                total_connections=0,
                request_errors=0,
            )
            session.add(row)
        if received.stats_are_deltas:
            row.bytes_in += stats.rx
            row.bytes_out += stats.tx
            row.total_connections += stats.totconns
            row.request_errors += stats.ereq
        else:
            row.bytes_in, row.bytes_out = stats.rx, stats.tx
            row.total_connections, row.request_errors = stats.totconns, stats.ereq
        row.active_connections = stats.conns


def _describe(changes: StatusChanges) -> str:
    parts = [f"loadbalancer={changes.loadbalancer}"] if changes.loadbalancer else []
    for kind, statuses in (
        ("listener", changes.listeners),
        ("pool", changes.pools),
        ("member", changes.members),
    ):
        parts += [f"{kind}:{object_id}={status}" for object_id, status in statuses.items()]
    return ",".join(parts)
