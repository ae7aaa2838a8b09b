"""Carry out one planned action through the drivers. Every action is idempotent.

Crash safety comes from the order of writes: an amphora row is written (PENDING_CREATE) before
compute is asked for an instance, and the instance is named after the amphora id, so a pass that
resumes after a crash finds both the row and the instance instead of leaking a second one.
Each database write is its own short transaction; nothing is held open across a driver call.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, assert_never

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult

from pier.db.base import new_id
from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import Amphora, AmphoraHealth
from pier.domain.enums import AmphoraRole, AmphoraStatus
from pier.domain.spec import LoadBalancerSpec
from pier.drivers.compute.base import AmphoraRequest, Compute, ComputeInstance
from pier.drivers.network.base import Network
from pier.worker.plan import Action, CreateAmphora, DeleteAmphora, PushConfig, ReleaseVip

# The agent's server certificate lifetime (octavia-api.md §7: 30 days), recorded for drivers
# that cannot tell the real expiry (the fake one).
CERT_VALIDITY = timedelta(days=30)
VRRP_PRIORITY = {AmphoraRole.MASTER: 100, AmphoraRole.BACKUP: 90}
VRRP_ID = 1


@dataclass(frozen=True, slots=True)
class ActionContext:
    spec: LoadBalancerSpec
    sessions: SessionFactory
    compute: Compute
    network: Network
    clock: Callable[[], datetime]


def apply(action: Action, context: ActionContext) -> None:
    match action:
        case CreateAmphora():
            _create_amphora(action, context)
        case PushConfig():
            _push_config(action, context)
        case DeleteAmphora():
            delete_amphora(
                context.sessions,
                context.compute,
                context.network,
                context.clock,
                action.amphora_id,
                action.compute_id,
            )
        case ReleaseVip():
            context.network.release_vip(context.spec.id, action.port_id)
        case _:
            assert_never(action)


def _create_amphora(action: CreateAmphora, context: ActionContext) -> None:
    amphora_id = (
        action.amphora_id
        or _claim_spare(action.role, context)
        or _insert_amphora(action.role, context)
    )
    compute = context.compute
    instance = compute.find_amphora(amphora_id) or compute.create_amphora(
        AmphoraRequest(
            amphora_id=amphora_id,
            loadbalancer_id=context.spec.id,
            role=action.role,
            vip_address=context.spec.vip_address,
            availability_zone=context.spec.availability_zone,
        )
    )
    _record_instance(amphora_id, instance, context)
    port = context.network.ensure_vrrp_port(amphora_id, context.spec.vip_subnet_id)
    _update_amphora(context.sessions, amphora_id, vrrp_port_id=port.port_id, vrrp_ip=port.address)
    context.network.ensure_vip(context.spec.id, context.spec.vip_address)
    version = compute.push_config(instance.compute_id, action.config_text)
    _update_amphora(context.sessions, amphora_id, config_version=version)


def _new_amphora_columns(spec: LoadBalancerSpec, role: AmphoraRole) -> dict[str, Any]:
    """What an amphora row holds from the moment it serves this load balancer in this role,
    whether it is inserted new or a spare is claimed.
    """
    return {
        "loadbalancer_id": spec.id,
        "role": role.value,
        "status": AmphoraStatus.PENDING_CREATE.value,
        "ha_ip": spec.vip_address,
        "ha_port_id": spec.vip_port_id,
        "vrrp_priority": VRRP_PRIORITY.get(role),
        "vrrp_id": VRRP_ID if role in VRRP_PRIORITY else None,
    }


def _claim_spare(role: AmphoraRole, context: ActionContext) -> str | None:
    """A READY spare made this load balancer's, or None when there is none. The UPDATE only
    matches a spare still unclaimed, so two workers never get the same one; the claimed row
    is PENDING_CREATE, which a pass resumed after a crash finishes like any create.
    """
    spec = context.spec
    with transaction(context.sessions) as session:
        candidates = session.scalars(
            select(Amphora.id)
            .where(Amphora.status == AmphoraStatus.READY.value)
            .where(Amphora.loadbalancer_id.is_(None))
            .order_by(Amphora.created_at, Amphora.id)
            .limit(3)
        ).all()
        for amphora_id in candidates:
            claimed = session.execute(
                update(Amphora)
                .where(Amphora.id == amphora_id)
                .where(Amphora.status == AmphoraStatus.READY.value)
                .where(Amphora.loadbalancer_id.is_(None))
                .values(**_new_amphora_columns(spec, role), updated_at=context.clock())
            )
            if isinstance(claimed, CursorResult) and claimed.rowcount == 1:
                return str(amphora_id)
    return None


def _insert_amphora(role: AmphoraRole, context: ActionContext) -> str:
    spec = context.spec
    amphora_id = new_id()
    with transaction(context.sessions) as session:
        session.add(
            Amphora(
                id=amphora_id,
                **_new_amphora_columns(spec, role),
                cached_zone=spec.availability_zone,
                created_at=context.clock(),
            )
        )
    return amphora_id


def _record_instance(amphora_id: str, instance: ComputeInstance, context: ActionContext) -> None:
    now = context.clock()
    _update_amphora(
        context.sessions,
        amphora_id,
        compute_id=instance.compute_id,
        lb_network_ip=instance.lb_network_ip,
        status=AmphoraStatus.BOOTING.value,
        cert_expiration=instance.cert_expiration or now + CERT_VALIDITY,
        now=now,
    )


def _update_amphora(
    sessions: SessionFactory, amphora_id: str, now: datetime | None = None, **values: Any
) -> None:
    """Set columns that differ; `updated_at` moves only when the status changes."""
    with transaction(sessions) as session:
        row = session.get(Amphora, amphora_id)
        if row is None:
            return
        if now is not None and values.get("status", row.status) != row.status:
            row.updated_at = now
        for column, value in values.items():
            if getattr(row, column) != value:
                setattr(row, column, value)


def _push_config(action: PushConfig, context: ActionContext) -> None:
    context.network.ensure_vip(context.spec.id, context.spec.vip_address)
    version = context.compute.push_config(action.compute_id, action.config_text)
    _update_amphora(context.sessions, action.amphora_id, config_version=version)


def delete_amphora(
    sessions: SessionFactory,
    compute: Compute,
    network: Network,
    clock: Callable[[], datetime],
    amphora_id: str,
    compute_id: str | None,
) -> None:
    """Delete the instance (by id, or found by amphora name) and its VRRP port, and mark the
    row DELETED.
    """
    if compute_id is None:
        found = compute.find_amphora(amphora_id)
        compute_id = None if found is None else found.compute_id
    if compute_id is not None:
        compute.delete_amphora(compute_id)
    network.release_vrrp_port(amphora_id)
    _update_amphora(sessions, amphora_id, status=AmphoraStatus.DELETED.value, now=clock())
    with transaction(sessions) as session:
        session.execute(delete(AmphoraHealth).where(AmphoraHealth.amphora_id == amphora_id))
