"""Quota checks (spec §4.9): live counts per project against stored or default limits.

Counting live rows instead of keeping in-use counters means nothing can drift; the caller's
transaction holds the write lock (SQLite) or the quota row lock (PostgreSQL/MariaDB).
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pier.api.context import RequestContext
from pier.db.tables import (
    HealthMonitor,
    L7Policy,
    L7Rule,
    Listener,
    LoadBalancer,
    Member,
    Pool,
    Quota,
)
from pier.domain.errors import QuotaExceeded
from pier.settings import QuotaDefaults

RESOURCES: Mapping[str, tuple[Any, str]] = {
    "loadbalancer": (LoadBalancer, "Load Balancer"),
    "listener": (Listener, "Listener"),
    "pool": (Pool, "Pool"),
    "healthmonitor": (HealthMonitor, "Health Monitor"),
    "member": (Member, "Member"),
    "l7policy": (L7Policy, "L7 Policy"),
    "l7rule": (L7Rule, "L7 Rule"),
}


def effective_limit(stored: Quota | None, defaults: QuotaDefaults, resource: str) -> int:
    value = getattr(stored, resource) if stored is not None else None
    return int(getattr(defaults, resource)) if value is None else int(value)


def count_in_use(session: Session, project_id: str, resource: str) -> int:
    table, _ = RESOURCES[resource]
    statement = select(func.count()).select_from(table).where(table.project_id == project_id)
    statement = statement.where(table.provisioning_status != "DELETED")
    return int(session.scalar(statement) or 0)


def lock_quota_row(session: Session, project_id: str) -> Quota:
    """The per-project row creates are serialized on; created on first use as Octavia does."""
    row = session.scalars(
        select(Quota).where(Quota.project_id == project_id).with_for_update()
    ).first()
    if row is None:
        row = Quota(project_id=project_id)
        session.add(row)
        session.flush()
    return row


def check_quota(
    session: Session,
    ctx: RequestContext,
    defaults: QuotaDefaults,
    project_id: str,
    wanted: Mapping[str, int],
) -> None:
    """Raise QuotaExceeded (403) unless `wanted` more objects of each kind fit."""
    stored = lock_quota_row(session, project_id)
    if not ctx.enforce_quota:
        return
    for resource, count in wanted.items():
        if count <= 0:
            continue
        limit = effective_limit(stored, defaults, resource)
        if limit == -1:
            continue
        if count_in_use(session, project_id, resource) + count > limit:
            raise QuotaExceeded(RESOURCES[resource][1])
