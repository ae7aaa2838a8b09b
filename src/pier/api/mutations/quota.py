"""Quota set and reset (spec §4.9). Checking quotas on create lives in `pier.api.quota`."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.quota import RESOURCES, lock_quota_row
from pier.db.tables import Quota
from pier.domain.errors import NotFound


def update_quota(
    session: Session, ctx: RequestContext, project_id: str, values: dict[str, Any]
) -> Quota:
    """Set the given limits; a null brings that limit back to the configured default."""
    policy.authorize(ctx, policy.Rule.WRITE_QUOTA, project_id)
    row = lock_quota_row(session, project_id)
    for resource, limit in values.items():
        setattr(row, resource, limit)
    return row


def reset_quota(session: Session, ctx: RequestContext, project_id: str) -> None:
    """Every limit back to null (the defaults). The record stays, as in Octavia, so the
    project keeps appearing in `GET /quotas`.
    """
    policy.authorize(ctx, policy.Rule.WRITE_QUOTA, project_id)
    row = session.scalars(
        select(Quota).where(Quota.project_id == project_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound.of("Quotas", project_id)
    for resource in RESOURCES:
        setattr(row, resource, None)
