"""What the database holds for one flush's amphorae, read in a few queries per flush.

The writer judges a whole batch of heartbeats against this (plain column tuples, no ORM
objects: loading thousands of mapped rows per second would cost more than the judging).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from pier.amphora.haproxy_config import FRONTEND_MODES
from pier.db.tables.lbaas import (
    Amphora,
    AmphoraHealth,
    Listener,
    ListenerStatistics,
    LoadBalancer,
    Member,
    Pool,
)
from pier.domain.enums import PoolProtocol
from pier.health.status import StoredListener, StoredLoadBalancer, StoredMember, StoredPool

# Pool protocols HAProxy never serves (UDP runs in nginx; SCTP nowhere yet).
NOT_IN_HAPROXY = frozenset({PoolProtocol.UDP, PoolProtocol.SCTP})
CHUNK = 500  # ids per IN (...): far below every database's limit on bound parameters


def table_of(model: type[Any]) -> Table:
    """The Core table of a mapped class, for statements that bypass the ORM's unit of work."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


def chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


@dataclass(slots=True)
class Snapshot:
    """The rows a batch is judged against, read once per flush."""

    amphorae: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # lb id, status
    trees: dict[str, StoredLoadBalancer] = field(default_factory=dict)
    stats_rows: set[tuple[str, str]] = field(default_factory=set)  # (listener id, amphora id)
    health: set[str] = field(default_factory=set)  # amphorae with a health row
    config_versions: dict[str, str] = field(default_factory=dict)  # as last pushed

    @classmethod
    def read(cls, session: Session, amphora_ids: Sequence[str]) -> "Snapshot":
        snapshot = cls()
        for chunk in chunks(amphora_ids):
            query = select(
                Amphora.id, Amphora.loadbalancer_id, Amphora.status, Amphora.config_version
            )
            for amphora_id, lb_id, status, version in session.execute(
                query.where(Amphora.id.in_(chunk))
            ):
                snapshot.amphorae[amphora_id] = (lb_id, status)
                if version is not None:
                    snapshot.config_versions[amphora_id] = version
            keys = select(ListenerStatistics.listener_id, ListenerStatistics.amphora_id)
            for listener_id, stats_amphora_id in session.execute(
                keys.where(ListenerStatistics.amphora_id.in_(chunk))
            ):
                snapshot.stats_rows.add((listener_id, stats_amphora_id))
            snapshot.health.update(
                session.scalars(
                    select(AmphoraHealth.amphora_id).where(AmphoraHealth.amphora_id.in_(chunk))
                )
            )
        lb_ids = sorted({lb_id for lb_id, _ in snapshot.amphorae.values() if lb_id})
        for chunk in chunks(lb_ids):
            snapshot.trees.update(_read_trees(session, chunk))
        return snapshot


def _read_trees(session: Session, lb_ids: Sequence[str]) -> dict[str, StoredLoadBalancer]:
    def rows(query: Executable) -> list[Any]:
        return list(session.execute(query))

    members: dict[str, list[StoredMember]] = {}
    for member_id, pool_id, status in rows(
        select(Member.id, Member.pool_id, Member.operating_status)
        .join(Pool, Pool.id == Member.pool_id)
        .where(Pool.loadbalancer_id.in_(lb_ids))
        .order_by(Member.created_at, Member.id)
    ):
        members.setdefault(pool_id, []).append(StoredMember(member_id, status))
    pools: dict[str, list[StoredPool]] = {}
    for pool_id, lb_id, status, protocol in rows(
        select(Pool.id, Pool.loadbalancer_id, Pool.operating_status, Pool.protocol)
        .where(Pool.loadbalancer_id.in_(lb_ids))
        .order_by(Pool.created_at, Pool.id)
    ):
        reported = protocol not in NOT_IN_HAPROXY
        pools.setdefault(lb_id, []).append(
            StoredPool(pool_id, status, tuple(members.get(pool_id, ())), reported)
        )
    listeners: dict[str, list[StoredListener]] = {}
    for listener_id, lb_id, enabled, status, protocol in rows(
        select(
            Listener.id,
            Listener.loadbalancer_id,
            Listener.admin_state_up,
            Listener.operating_status,
            Listener.protocol,
        )
        .where(Listener.loadbalancer_id.in_(lb_ids))
        .order_by(Listener.created_at, Listener.id)
    ):
        # Only what HAProxy serves can appear in a heartbeat (UDP runs in nginx).
        reported = protocol in FRONTEND_MODES
        listeners.setdefault(lb_id, []).append(
            StoredListener(listener_id, enabled, status, reported)
        )
    return {
        lb_id: StoredLoadBalancer(
            lb_id,
            enabled,
            provisioning,
            status,
            tuple(listeners.get(lb_id, ())),
            tuple(pools.get(lb_id, ())),
        )
        for lb_id, enabled, provisioning, status in rows(
            select(
                LoadBalancer.id,
                LoadBalancer.admin_state_up,
                LoadBalancer.provisioning_status,
                LoadBalancer.operating_status,
            ).where(LoadBalancer.id.in_(lb_ids))
        )
    }
