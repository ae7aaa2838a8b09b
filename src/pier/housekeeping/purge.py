"""Purge DELETED rows once they are old (octavia-api.md §10): a deleted load balancer stays
readable to operators for `load_balancer_expiry_age`, an amphora for `amphora_expiry_age`
(and only once its health row, if any, is as old: a late heartbeat must find nothing to
revive). DELETED rows are hidden from the API already; this keeps the tables from growing.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from pier.db.tables.lbaas import Amphora, AmphoraHealth, LoadBalancer, Tag
from pier.db.tables.worker import ReconcileLease
from pier.domain.enums import AmphoraStatus, ProvisioningStatus

log = logging.getLogger(__name__)

BATCH = 500  # rows per statement: bounded transactions, far below any parameter limit


@dataclass(frozen=True, slots=True)
class Purged:
    loadbalancers: int
    amphorae: int


def purge_deleted(
    session: Session, now: datetime, *, loadbalancer_age: timedelta, amphora_age: timedelta
) -> Purged:
    amphorae = _purge_amphorae(session, now - amphora_age)
    loadbalancers = _purge_loadbalancers(session, now - loadbalancer_age)
    if amphorae or loadbalancers:
        log.info(
            "purged deleted rows", extra={"loadbalancers": loadbalancers, "amphorae": amphorae}
        )
    return Purged(loadbalancers, amphorae)


def _purge_amphorae(session: Session, cutoff: datetime) -> int:
    recent_health = select(AmphoraHealth.amphora_id).where(AmphoraHealth.last_update >= cutoff)
    ids = list(
        session.scalars(
            select(Amphora.id)
            .where(Amphora.status == AmphoraStatus.DELETED.value)
            .where(or_(Amphora.updated_at < cutoff, Amphora.updated_at.is_(None)))
            .where(Amphora.id.not_in(recent_health))
            .limit(BATCH)
        )
    )
    if ids:
        session.execute(delete(AmphoraHealth).where(AmphoraHealth.amphora_id.in_(ids)))
        session.execute(delete(Amphora).where(Amphora.id.in_(ids)))
    return len(ids)


def _purge_loadbalancers(session: Session, cutoff: datetime) -> int:
    ids = list(
        session.scalars(
            select(LoadBalancer.id)
            .where(LoadBalancer.provisioning_status == ProvisioningStatus.DELETED.value)
            .where(LoadBalancer.updated_at < cutoff)
            .limit(BATCH)
        )
    )
    if not ids:
        return 0
    # Amphora rows outlive their load balancer's by design (their own age above); they only
    # lose the reference.
    session.execute(
        update(Amphora).where(Amphora.loadbalancer_id.in_(ids)).values(loadbalancer_id=None)
    )
    session.execute(delete(Tag).where(Tag.resource_id.in_(ids)))
    session.execute(delete(ReconcileLease).where(ReconcileLease.loadbalancer_id.in_(ids)))
    session.execute(delete(LoadBalancer).where(LoadBalancer.id.in_(ids)))
    return len(ids)
