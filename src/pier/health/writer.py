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
- statistics always: version 3 deltas are added to the (listener, amphora) row in SQL, so
  concurrent writers cannot lose increments; earlier versions replace it;
  `active_connections` is overwritten. Only listeners of the amphora's load balancer get rows
  (a late heartbeat must not resurrect a deleted listener's row).

The cost is per flush, not per heartbeat: a handful of reads for the whole batch (plain
column tuples, no ORM objects), then every amphora judged in memory (one that fails is logged
and skipped), then one executemany per kind of write. A write that fails fails the flush,
and the manager hands the batch back for the next one.
"""

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import (
    AmphoraHealth,
    Listener,
    ListenerStatistics,
    LoadBalancer,
    Member,
    Pool,
)
from pier.domain.enums import AmphoraStatus, ProvisioningStatus
from pier.health.receiver import Received
from pier.health.snapshot import Snapshot, table_of
from pier.health.status import (
    StatusChanges,
    StoredLoadBalancer,
    StoredPool,
    derive_statuses,
    refreshes_liveness,
)
from pier.wire.heartbeat import ListenerStats

log = logging.getLogger(__name__)

COUNTERS = (
    "written",  # heartbeats whose amphora was found and processed
    "unknown_amphora",
    "no_loadbalancer",  # amphora DELETED, or its load balancer missing or DELETED
    "spare",  # a READY amphora of the spare pool
    "stale",  # too old when written: statistics only
    "other_config",  # built before the last push: statistics only
    "listener_count_mismatch",  # no liveness refresh
    "status_changes",  # operating status changes derived (rows written: at most as many)
    "failed",  # an error judging one amphora (logged)
)
StatusTable = type[LoadBalancer] | type[Listener] | type[Pool] | type[Member]


@dataclass(slots=True)
class _Writes:
    """Everything a batch will write, gathered while judging it."""

    statuses: dict[StatusTable, dict[str, str]] = field(
        default_factory=lambda: {LoadBalancer: {}, Listener: {}, Pool: {}, Member: {}}
    )
    liveness: dict[str, datetime] = field(default_factory=dict)
    # (listener id, amphora id, deltas?, {rx, tx, conns, tot, ereq})
    stats: list[tuple[str, str, bool, dict[str, int]]] = field(default_factory=list)
    # The stored status of each row before this batch changed it: a later amphora of the
    # same load balancer may change it back, and then there is nothing to write.
    originals: dict[tuple[StatusTable, str], str] = field(default_factory=dict)
    # Added to the writer's counters once the transaction commits: they count what is stored.
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))


def _with_changes(tree: StoredLoadBalancer, changes: StatusChanges) -> StoredLoadBalancer:
    """The stored tree after `changes`, so a second amphora of the same load balancer in
    this batch is judged against what the first one leaves.
    """

    def pool(stored: StoredPool) -> StoredPool:
        members = tuple(
            replace(m, operating_status=changes.members.get(m.id, m.operating_status))
            for m in stored.members
        )
        status = changes.pools.get(stored.id, stored.operating_status)
        return replace(stored, operating_status=status, members=members)

    return replace(
        tree,
        operating_status=changes.loadbalancer or tree.operating_status,
        listeners=tuple(
            replace(lst, operating_status=changes.listeners.get(lst.id, lst.operating_status))
            for lst in tree.listeners
        ),
        pools=tuple(pool(p) for p in tree.pools),
    )


class HeartbeatWriter:
    def __init__(
        self, sessions: SessionFactory, clock: Callable[[], datetime], *, stale_after: timedelta
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._stale_after = stale_after
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)

    def write(self, batch: Mapping[str, Received]) -> None:
        """Raises what the database raises (the caller keeps the batch for the next flush);
        an error judging one amphora is logged and skips only that amphora.
        """
        if not batch:
            return
        now = self._clock()
        with transaction(self._sessions) as session:
            snapshot = Snapshot.read(session, sorted(batch))
            writes = _Writes()
            for amphora_id, received in batch.items():
                try:
                    self._judge(snapshot, writes, amphora_id, received, now)
                except Exception:
                    writes.counts["failed"] += 1
                    log.exception("heartbeat not written", extra={"amphora_id": amphora_id})
            _execute(session, snapshot, writes, now)
        for name, count in writes.counts.items():
            self.counters[name] += count

    def _judge(
        self,
        snapshot: Snapshot,
        writes: _Writes,
        amphora_id: str,
        received: Received,
        now: datetime,
    ) -> None:
        tree = self._tree_of(snapshot, writes, amphora_id)
        if tree is None:
            return
        listener_ids = {listener.id for listener in tree.listeners}
        stats = [
            (lid, amphora_id, received.stats_are_deltas, _stat_values(s))
            for lid, s in received.stats.items()
            if lid in listener_ids
        ]
        context = {"amphora_id": amphora_id, "loadbalancer_id": tree.id}
        if now - received.received_at > self._stale_after:
            # §9.3: a heartbeat processed this late says little about the amphora now.
            writes.stats += stats
            writes.counts["written"] += 1
            writes.counts["stale"] += 1
            log.warning(
                "heartbeat too old to vouch for the amphora",
                extra={**context, "age": str(now - received.received_at)},
            )
            return
        message = received.message
        pushed = snapshot.config_versions.get(amphora_id)
        if message.config_version is not None and pushed and message.config_version != pushed:
            # Built before the last push finished: its listeners and pools are the old ones.
            writes.stats += stats
            writes.counts["written"] += 1
            writes.counts["other_config"] += 1
            return
        live = refreshes_liveness(tree, message)
        changes = derive_statuses(tree, message)
        # Nothing above writes; from here on the amphora's writes are recorded together.
        writes.stats += stats
        writes.counts["written"] += 1
        if live:
            writes.liveness[amphora_id] = received.received_at
        else:
            writes.counts["listener_count_mismatch"] += 1
            log.warning(
                "heartbeat reports a different number of listeners: liveness not refreshed",
                extra={**context, "reported": len(message.listeners)},
            )
        for note in changes.unknown:
            log.warning("unknown status in heartbeat", extra={**context, "detail": note})
        if not changes.empty:
            self._record(writes, tree, changes)
            snapshot.trees[tree.id] = _with_changes(tree, changes)
            log.info("operating statuses changed", extra={**context, "changes": _describe(changes)})

    def _record(self, writes: _Writes, tree: StoredLoadBalancer, changes: StatusChanges) -> None:
        stored = _statuses_of(tree)
        wanted: list[tuple[StatusTable, str, str]] = [
            *((Listener, i, s) for i, s in changes.listeners.items()),
            *((Pool, i, s) for i, s in changes.pools.items()),
            *((Member, i, s) for i, s in changes.members.items()),
        ]
        if changes.loadbalancer is not None:
            wanted.append((LoadBalancer, tree.id, changes.loadbalancer))
        for table, row_id, status in wanted:
            writes.counts["status_changes"] += 1
            original = writes.originals.setdefault((table, row_id), stored[row_id])
            if status == original:
                writes.statuses[table].pop(row_id, None)
            else:
                writes.statuses[table][row_id] = status

    def _tree_of(
        self, snapshot: Snapshot, writes: _Writes, amphora_id: str
    ) -> StoredLoadBalancer | None:
        found = snapshot.amphorae.get(amphora_id)
        if found is None:
            writes.counts["unknown_amphora"] += 1
            log.warning(
                "heartbeat from an amphora not in the database", extra={"amphora_id": amphora_id}
            )
            return None
        lb_id, status = found
        if lb_id is None and status == AmphoraStatus.READY:
            writes.counts["spare"] += 1  # a spare serves nothing yet: nothing to judge
            return None
        tree = snapshot.trees.get(lb_id) if lb_id else None
        if (
            status == AmphoraStatus.DELETED
            or tree is None
            or tree.provisioning_status == ProvisioningStatus.DELETED
        ):
            writes.counts["no_loadbalancer"] += 1
            log.info(
                "heartbeat from an amphora without a load balancer",
                extra={"amphora_id": amphora_id},
            )
            return None
        return tree


def _execute(session: Session, snapshot: Snapshot, writes: _Writes, now: datetime) -> None:
    for model, statuses in writes.statuses.items():
        if statuses:
            # Core, not the ORM's bulk update: a row deleted meanwhile is simply not updated.
            table = table_of(model)
            session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(operating_status=bindparam("b_status"), updated_at=now),
                [{"b_id": row_id, "b_status": status} for row_id, status in statuses.items()],
            )
    _write_liveness(session, snapshot, writes.liveness)
    _write_stats(session, snapshot, writes.stats)


def _write_liveness(session: Session, snapshot: Snapshot, liveness: Mapping[str, datetime]) -> None:
    new = [(a, t) for a, t in liveness.items() if a not in snapshot.health]
    if new:
        session.execute(
            insert(table_of(AmphoraHealth)),
            [{"amphora_id": a, "last_update": t, "busy": False} for a, t in new],
        )
    existing = [(a, t) for a, t in liveness.items() if a in snapshot.health]
    if existing:
        health = table_of(AmphoraHealth)
        # Never backwards: another health manager may have written a later heartbeat.
        session.execute(
            update(health)
            .where(health.c.amphora_id == bindparam("b_amphora"))
            .where(health.c.last_update < bindparam("b_time"))
            .values(last_update=bindparam("b_time")),
            [{"b_amphora": a, "b_time": t} for a, t in existing],
        )


def _stat_values(stats: ListenerStats) -> dict[str, int]:
    return {
        "rx": int(stats.rx),
        "tx": int(stats.tx),
        "conns": int(stats.conns),
        "tot": int(stats.totconns),
        "ereq": int(stats.ereq),
    }


def _statuses_of(tree: StoredLoadBalancer) -> dict[str, str]:
    statuses = {tree.id: tree.operating_status}
    statuses.update((listener.id, listener.operating_status) for listener in tree.listeners)
    for pool in tree.pools:
        statuses[pool.id] = pool.operating_status
        statuses.update((member.id, member.operating_status) for member in pool.members)
    return statuses


# listener_statistics column -> key in the values of `_stat_values`, apart from `conns`.
STAT_COLUMNS = {
    "bytes_in": "rx",
    "bytes_out": "tx",
    "total_connections": "tot",
    "request_errors": "ereq",
}


def _write_stats(
    session: Session, snapshot: Snapshot, stats: Iterable[tuple[str, str, bool, dict[str, int]]]
) -> None:
    inserts: list[dict[str, Any]] = []
    adds: list[dict[str, Any]] = []
    sets: list[dict[str, Any]] = []
    for listener_id, amphora_id, deltas, values in stats:
        if (listener_id, amphora_id) not in snapshot.stats_rows:
            inserts.append(
                {
                    "listener_id": listener_id,
                    "amphora_id": amphora_id,
                    "active_connections": values["conns"],
                    **{column: values[name] for column, name in STAT_COLUMNS.items()},
                }
            )
        else:
            target = adds if deltas else sets
            target.append({"b_listener": listener_id, "b_amphora": amphora_id, **values})
    if inserts:
        session.execute(insert(table_of(ListenerStatistics)), inserts)
    table = table_of(ListenerStatistics)
    keyed = (
        update(table)
        .where(table.c.listener_id == bindparam("b_listener"))
        .where(table.c.amphora_id == bindparam("b_amphora"))
    )
    if adds:  # in SQL, so a concurrent writer's increments are never lost
        increments = {c: table.c[c] + bindparam(name) for c, name in STAT_COLUMNS.items()}
        session.execute(keyed.values(active_connections=bindparam("conns"), **increments), adds)
    if sets:
        replaced: dict[str, Any] = {c: bindparam(name) for c, name in STAT_COLUMNS.items()}
        session.execute(keyed.values(active_connections=bindparam("conns"), **replaced), sets)


def _describe(changes: StatusChanges) -> str:
    parts = [f"loadbalancer={changes.loadbalancer}"] if changes.loadbalancer else []
    for kind, statuses in (
        ("listener", changes.listeners),
        ("pool", changes.pools),
        ("member", changes.members),
    ):
        parts += [f"{kind}:{object_id}={status}" for object_id, status in statuses.items()]
    return ",".join(parts)
