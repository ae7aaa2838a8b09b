"""Amphora failover, config refresh and delete (spec §4.13); admin-only.

The API only marks intent; the worker's reconcile of the owning load balancer does the work
(a PENDING_DELETE amphora is deleted and its role refilled; a config refresh is a re-push).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.mutations.common import lock_loadbalancer, mark, require_active
from pier.api.services import Services
from pier.db.tables import Amphora
from pier.domain.enums import AmphoraStatus, ProvisioningStatus
from pier.domain.errors import ImmutableWhilePending, NotFound


def find_amphora(session: Session, amphora_id: str, lock: bool = False) -> Amphora:
    """DELETED amphorae do not exist for clients (`Amphora <id> not found.`)."""
    statement = select(Amphora).where(
        Amphora.id == amphora_id, Amphora.status != AmphoraStatus.DELETED.value
    )
    row = session.scalars(statement.with_for_update() if lock else statement).first()
    if row is None:
        raise NotFound.of("Amphora", amphora_id)
    return row


def failover_amphora(
    session: Session, services: Services, ctx: RequestContext, amphora_id: str
) -> str:
    """Mark the amphora for replacement; returns the load balancer to reconcile.

    The load balancer must be ACTIVE (409 `Load Balancer <id> is immutable...`) and becomes
    PENDING_UPDATE until the worker has built the replacement.
    """
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    amphora = find_amphora(session, amphora_id)
    if amphora.loadbalancer_id is None:  # a spare serves nothing there is to fail over
        raise ImmutableWhilePending("amphora", amphora.id)
    loadbalancer = lock_loadbalancer(session, amphora.loadbalancer_id)
    require_active(loadbalancer, "Load Balancer")
    mark([loadbalancer], ProvisioningStatus.PENDING_UPDATE, services.clock)
    amphora.status = AmphoraStatus.PENDING_DELETE.value
    amphora.updated_at = services.clock()
    return loadbalancer.id


def refresh_amphora_config(session: Session, ctx: RequestContext, amphora_id: str) -> str | None:
    """Nothing changes in the database: the worker re-pushes what the amphora should run."""
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    return find_amphora(session, amphora_id).loadbalancer_id


def delete_amphora(
    session: Session, services: Services, ctx: RequestContext, amphora_id: str
) -> str | None:
    """Only an amphora in ERROR may be deleted (409 `amphora <id> is immutable...`)."""
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    amphora = find_amphora(session, amphora_id, lock=True)
    if amphora.status != AmphoraStatus.ERROR.value:
        raise ImmutableWhilePending("amphora", amphora.id)
    amphora.status = AmphoraStatus.PENDING_DELETE.value
    amphora.updated_at = services.clock()
    return amphora.loadbalancer_id
