"""What a pass leaves in the database: statuses after success (ACTIVE, rows removed, DELETED)
and after failure (ERROR with a reason). Each function runs inside the caller's transaction.

Operating statuses follow Octavia for amphorae that send no heartbeats yet (octavia-api.md
§3.2): health monitors, l7 policies and l7 rules become ONLINE (OFFLINE when disabled); the
load balancer, listeners and pools stay as they are (OFFLINE until heartbeats say otherwise);
members show NO_MONITOR in a pool without a health monitor and OFFLINE in one with a monitor.
`updated_at` moves only on rows whose status changed.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pier.db.tables.lbaas import (
    Amphora,
    HealthMonitor,
    L7Policy,
    L7Rule,
    Listener,
    ListenerStatistics,
    LoadBalancer,
    Member,
    Pool,
    Tag,
)
from pier.domain.enums import AmphoraRole, AmphoraStatus, OperatingStatus, ProvisioningStatus
from pier.domain.spec import LoadBalancerSpec, provisioning_statuses
from pier.worker.actions import VRRP_PRIORITY

Child = Listener | Pool | Member | HealthMonitor | L7Policy | L7Rule
PENDING = frozenset(s.value for s in ProvisioningStatus if s.is_pending)
DELETING = ProvisioningStatus.PENDING_DELETE.value


@dataclass(slots=True)
class Tree:
    """Every row of one load balancer, one query per table."""

    loadbalancer: LoadBalancer
    listeners: list[Listener]
    pools: list[Pool]
    members: list[Member]
    healthmonitors: list[HealthMonitor]
    l7policies: list[L7Policy]
    l7rules: list[L7Rule]
    amphorae: list[Amphora]

    def children(self) -> Iterator[Child]:
        yield from self.listeners
        yield from self.pools
        yield from self.members
        yield from self.healthmonitors
        yield from self.l7policies
        yield from self.l7rules


def load_tree(session: Session, loadbalancer_id: str) -> Tree | None:
    lb = session.get(LoadBalancer, loadbalancer_id)
    if lb is None:
        return None
    of_lb = Pool.loadbalancer_id == loadbalancer_id
    on_listener = Listener.loadbalancer_id == loadbalancer_id
    return Tree(
        loadbalancer=lb,
        listeners=list(session.scalars(select(Listener).where(on_listener))),
        pools=list(session.scalars(select(Pool).where(of_lb))),
        members=list(session.scalars(select(Member).join(Pool).where(of_lb))),
        healthmonitors=list(session.scalars(select(HealthMonitor).join(Pool).where(of_lb))),
        l7policies=list(session.scalars(select(L7Policy).join(Listener).where(on_listener))),
        l7rules=list(
            session.scalars(select(L7Rule).join(L7Policy).join(Listener).where(on_listener))
        ),
        amphorae=list(
            session.scalars(select(Amphora).where(Amphora.loadbalancer_id == loadbalancer_id))
        ),
    )


def is_stale(tree: Tree, spec: LoadBalancerSpec) -> bool:
    """True when rows changed since `spec` was loaded (an API write landed mid-pass)."""
    rows = [tree.loadbalancer, *tree.children()]
    if {row.id: row.provisioning_status for row in rows} != provisioning_statuses(spec):
        return True
    return any(a.status == AmphoraStatus.PENDING_DELETE for a in tree.amphorae)


def _set_status(row: LoadBalancer | Child, status: ProvisioningStatus, now: datetime) -> None:
    if row.provisioning_status != status:
        row.provisioning_status = status.value
        row.updated_at = now


def _set_operating(row: LoadBalancer | Child, status: OperatingStatus, now: datetime) -> None:
    if row.operating_status != status:
        row.operating_status = status.value
        row.updated_at = now


def record_converged(session: Session, tree: Tree, spec: LoadBalancerSpec, now: datetime) -> None:
    lb = tree.loadbalancer
    if lb.provisioning_status == DELETING:
        _remove(session, tree, list(tree.children()))
        for amphora in tree.amphorae:
            _set_amphora_status(amphora, AmphoraStatus.DELETED, now)
        _set_status(lb, ProvisioningStatus.DELETED, now)
        return
    kept = _remove(session, tree, _leaving(tree))
    for row in kept:
        if row.provisioning_status in PENDING:
            _activate(row, now)
    _member_statuses(tree, {row.id for row in kept}, now)
    _allocate_amphorae(tree.amphorae, spec, now)
    if lb.provisioning_status in PENDING:
        _set_status(lb, ProvisioningStatus.ACTIVE, now)
    if lb.provisioning_status == ProvisioningStatus.ACTIVE:
        lb.status_reason = None


def _leaving(tree: Tree) -> list[Child]:
    """PENDING_DELETE rows and everything under them."""
    gone: set[str] = {row.id for row in tree.children() if row.provisioning_status == DELETING}
    parents = (
        [(p, p.listener_id) for p in tree.l7policies]
        + [(r, r.l7policy_id) for r in tree.l7rules]
        + [(m, m.pool_id) for m in tree.members]
        + [(h, h.pool_id) for h in tree.healthmonitors]
    )
    for row, parent_id in parents:  # policies precede their rules, so one sweep suffices
        if parent_id in gone:
            gone.add(row.id)
    return [row for row in tree.children() if row.id in gone]


def _remove(session: Session, tree: Tree, leaving: list[Child]) -> list[Child]:
    """Delete `leaving` (children before parents), returning the rows that stay."""
    ids = {row.id for row in leaving}
    for listener in tree.listeners:
        if listener.id not in ids and listener.default_pool_id in ids:
            listener.default_pool_id = None
    for policy in tree.l7policies:
        if policy.id not in ids and policy.redirect_pool_id in ids:
            policy.redirect_pool_id = None
    session.flush()
    listener_ids = [r.id for r in tree.listeners if r.id in ids]
    session.execute(delete(Tag).where(Tag.resource_id.in_(ids)))
    session.execute(
        delete(ListenerStatistics).where(ListenerStatistics.listener_id.in_(listener_ids))
    )
    for table in (L7Rule, L7Policy, Member, HealthMonitor, Listener, Pool):
        session.execute(delete(table).where(table.id.in_(_ids_of(leaving, table))))
    return [row for row in tree.children() if row.id not in ids]


def _ids_of(rows: Iterable[Child], table: type[Child]) -> list[str]:
    return [row.id for row in rows if isinstance(row, table)]


def _activate(row: Child, now: datetime) -> None:
    _set_status(row, ProvisioningStatus.ACTIVE, now)
    if isinstance(row, HealthMonitor | L7Policy | L7Rule):
        online = OperatingStatus.ONLINE if row.admin_state_up else OperatingStatus.OFFLINE
        _set_operating(row, online, now)


def _member_statuses(tree: Tree, kept: set[str], now: datetime) -> None:
    monitored = {h.pool_id for h in tree.healthmonitors if h.id in kept}
    unobserved = {OperatingStatus.NO_MONITOR, OperatingStatus.OFFLINE}
    for member in tree.members:
        if member.id in kept and member.operating_status in unobserved:
            target = (
                OperatingStatus.OFFLINE
                if member.pool_id in monitored
                else OperatingStatus.NO_MONITOR
            )
            _set_operating(member, target, now)


def _set_amphora_status(amphora: Amphora, status: AmphoraStatus, now: datetime) -> None:
    if amphora.status != status:
        amphora.status = status.value
        amphora.updated_at = now


def _allocate_amphorae(amphorae: list[Amphora], spec: LoadBalancerSpec, now: datetime) -> None:
    for amphora in amphorae:
        if amphora.status not in (AmphoraStatus.BOOTING, AmphoraStatus.ALLOCATED):
            continue
        _set_amphora_status(amphora, AmphoraStatus.ALLOCATED, now)
        role = AmphoraRole(amphora.role) if amphora.role else None
        wanted = {
            "ha_ip": spec.vip_address,
            "ha_port_id": spec.vip_port_id,
            "vrrp_priority": VRRP_PRIORITY.get(role) if role else None,
        }
        for column, value in wanted.items():
            if getattr(amphora, column) != value:
                setattr(amphora, column, value)


def record_failed(session: Session, tree: Tree, reason: str, now: datetime) -> None:
    """Pending objects -> ERROR. The load balancer goes back to ACTIVE only when it was being
    updated (or was ACTIVE) and an ALLOCATED amphora still serves the last good config.
    """
    for row in tree.children():
        if row.provisioning_status in PENDING:
            _set_status(row, ProvisioningStatus.ERROR, now)
    lb = tree.loadbalancer
    serving = any(a.status == AmphoraStatus.ALLOCATED for a in tree.amphorae)
    if lb.provisioning_status in (ProvisioningStatus.PENDING_UPDATE, ProvisioningStatus.ACTIVE):
        _set_status(lb, ProvisioningStatus.ACTIVE if serving else ProvisioningStatus.ERROR, now)
    elif lb.provisioning_status in PENDING:
        _set_status(lb, ProvisioningStatus.ERROR, now)
    lb.status_reason = reason
