"""Status rules every write shares (spec §3.3)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.db.tables import LoadBalancer
from pier.domain.enums import ProvisioningStatus
from pier.domain.errors import Conflict, ImmutableWhilePending, NotFound

ACTIVE = ProvisioningStatus.ACTIVE.value


def lock_loadbalancer(session: Session, loadbalancer_id: str) -> LoadBalancer:
    """The row every write on a tree test-and-sets (SELECT ... FOR UPDATE where supported)."""
    row = session.scalars(
        select(LoadBalancer).where(LoadBalancer.id == loadbalancer_id).with_for_update()
    ).first()
    if row is None or row.provisioning_status == ProvisioningStatus.DELETED:
        raise NotFound.of("Load Balancer", loadbalancer_id)
    return row


def require_active(row: Any, resource: str) -> None:
    """409 `<Resource> <id> is immutable and cannot be updated.` unless ACTIVE."""
    if row.provisioning_status != ACTIVE:
        raise ImmutableWhilePending(resource, row.id)


def require_loadbalancer_state(row: LoadBalancer, allowed: tuple[str, ...]) -> None:
    """409 `Invalid state <s> of loadbalancer resource <id>` (LB PUT, DELETE, failover)."""
    if row.provisioning_status not in allowed:
        raise Conflict(f"Invalid state {row.provisioning_status} of loadbalancer resource {row.id}")


def mark(rows: list[Any], status: ProvisioningStatus, clock: Callable[[], datetime]) -> None:
    now = clock()
    for row in rows:
        row.provisioning_status = status.value
        row.updated_at = now
