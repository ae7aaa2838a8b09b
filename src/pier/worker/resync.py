"""Find every tree that still needs the worker: at start-up and on a timer.

This is what makes a crash harmless: queue messages may be lost, but a PENDING_* row is not,
and every load balancer with one is simply reconciled again.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import (
    Amphora,
    HealthMonitor,
    L7Policy,
    L7Rule,
    Listener,
    LoadBalancer,
    Member,
    Pool,
)
from pier.domain.enums import AmphoraStatus, ProvisioningStatus
from pier.drivers.compute.base import Compute
from pier.drivers.network.base import Network
from pier.worker.actions import delete_amphora

logger = logging.getLogger(__name__)

PENDING = [s.value for s in ProvisioningStatus if s.is_pending]


def _pending_queries() -> list[Select[Any]]:
    """One query per table, each answering "which load balancers": no N+1."""
    by_pool = select(Pool.loadbalancer_id)
    by_listener = select(Listener.loadbalancer_id)
    return [
        select(LoadBalancer.id).where(LoadBalancer.provisioning_status.in_(PENDING)),
        by_listener.where(Listener.provisioning_status.in_(PENDING)),
        by_pool.where(Pool.provisioning_status.in_(PENDING)),
        by_pool.join(Member).where(Member.provisioning_status.in_(PENDING)),
        by_pool.join(HealthMonitor).where(HealthMonitor.provisioning_status.in_(PENDING)),
        by_listener.join(L7Policy).where(L7Policy.provisioning_status.in_(PENDING)),
        by_listener.join(L7Policy).join(L7Rule).where(L7Rule.provisioning_status.in_(PENDING)),
        select(Amphora.loadbalancer_id).where(
            Amphora.status == AmphoraStatus.PENDING_DELETE.value,
            Amphora.loadbalancer_id.is_not(None),
        ),
    ]


def find_pending(session: Session) -> list[str]:
    """Ids of every load balancer whose own or any child's status is PENDING_*, or that has an
    amphora waiting for deletion; each id once, in the order found.
    """
    found: dict[str, None] = {}
    for query in _pending_queries():
        for loadbalancer_id in session.scalars(query.distinct()):
            if loadbalancer_id is not None:
                found[loadbalancer_id] = None
    return list(found)


def find_orphan_amphorae(session: Session) -> list[tuple[str, str | None]]:
    """(amphora id, compute id) of amphorae in PENDING_DELETE that belong to no load balancer."""
    query = select(Amphora.id, Amphora.compute_id).where(
        Amphora.status == AmphoraStatus.PENDING_DELETE.value,
        Amphora.loadbalancer_id.is_(None),
    )
    return [(amphora_id, compute_id) for amphora_id, compute_id in session.execute(query)]


def delete_orphan_amphorae(
    sessions: SessionFactory, compute: Compute, network: Network, clock: Callable[[], datetime]
) -> int:
    """Delete them through compute and mark them DELETED; returns how many succeeded.

    A failure is logged and left for the next resync: the row stays PENDING_DELETE.
    """
    with transaction(sessions, write=False) as session:
        orphans = find_orphan_amphorae(session)
    deleted = 0
    for amphora_id, compute_id in orphans:
        try:
            delete_amphora(sessions, compute, network, clock, amphora_id, compute_id)
        except Exception:
            logger.exception("could not delete amphora", extra={"amphora_id": amphora_id})
        else:
            deleted += 1
    return deleted


def delete_stray_instances(sessions: SessionFactory, compute: Compute) -> int:
    """Delete every instance compute runs that no live amphora row wants; returns how many.

    An amphora row is committed before compute is asked for its instance, so an instance
    without a row (or with a DELETED one) is left over: by a crash between an instance's
    deletion and its row's, a database restored from an older copy, or a hand-made test.
    """
    instances = compute.inventory()
    if not instances:
        return 0
    with transaction(sessions, write=False) as session:
        wanted = set(
            session.scalars(
                select(Amphora.id)
                .where(Amphora.id.in_(list(instances)))
                .where(Amphora.status != AmphoraStatus.DELETED.value)
            )
        )
    deleted = 0
    for amphora_id, compute_id in instances.items():
        if amphora_id in wanted:
            continue
        try:
            compute.delete_amphora(compute_id)
        except Exception:
            logger.exception("could not delete a stray instance", extra={"amphora_id": amphora_id})
        else:
            logger.warning("stray instance deleted", extra={"amphora_id": amphora_id})
            deleted += 1
    return deleted
