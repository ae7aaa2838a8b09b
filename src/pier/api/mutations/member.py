"""Member create, update, delete and batch update (spec §4.4, §3.3).

Also home of the pool-tree locking that member and health monitor writes share: the pool must
be ACTIVE, then its load balancer; both, plus the listeners using the pool, become
PENDING_UPDATE.
"""

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.mutations.common import lock_loadbalancer, mark, require_active
from pier.api.network.vip import find_subnet
from pier.api.quota import check_quota
from pier.api.services import Services
from pier.api.views.common import replace_tags
from pier.api.views.pool import load_pool_listeners
from pier.db.tables import Flavor, FlavorProfile, Listener, LoadBalancer, Member, Pool
from pier.domain.enums import OperatingStatus, ProvisioningStatus
from pier.domain.errors import Conflict, InvalidInput, NotFound
from pier.settings import Settings

SRIOV_DISABLED = "The load balancer flavor does not allow SR-IOV member ports."
UPDATABLE = ("name", "admin_state_up", "weight", "backup", "monitor_address", "monitor_port")


def validate_member_values(
    values: dict[str, Any], pool_protocol: str, reserved_ips: Iterable[str]
) -> None:
    """Rules a parsed member must pass whatever its pool's protocol (none depend on it yet).

    Raises InvalidInput `<ip> is not a valid option for member address` for a reserved address.
    """
    address = ipaddress.ip_address(values["address"])
    if any(address == ipaddress.ip_address(reserved) for reserved in reserved_ips):
        raise InvalidInput(f"{address.exploded.upper()} is not a valid option for member address")


def require_subnet(session: Session, settings: Settings, subnet_id: str | None) -> None:
    """400 `Subnet <id> not found.` (Octavia's InvalidSubresource) for an unknown subnet."""
    if subnet_id is None or settings.accept_any_subnet:
        return
    if find_subnet(session, subnet_id) is None:
        raise InvalidInput(f"Subnet {subnet_id} not found.")


def lock_pool_tree(session: Session, pool_id: str) -> tuple[Pool, LoadBalancer]:
    """The pool (404 `Pool <id> not found.`) and its load balancer, row-locked."""
    pool = session.get(Pool, pool_id)
    if pool is None or pool.provisioning_status == ProvisioningStatus.DELETED:
        raise NotFound.of("Pool", pool_id)
    loadbalancer = lock_loadbalancer(session, pool.loadbalancer_id)
    session.refresh(pool)  # read again under the lock: it may have changed meanwhile
    return pool, loadbalancer


def require_pool_tree_mutable(pool: Pool, loadbalancer: LoadBalancer) -> None:
    require_active(pool, "Pool")
    require_active(loadbalancer, "Load Balancer")


def mark_pool_tree(
    session: Session, services: Services, pool: Pool, loadbalancer: LoadBalancer
) -> None:
    """The pool, the listeners using it (Octavia's `Pool.listeners`) and the LB: PENDING_UPDATE."""
    listener_ids = load_pool_listeners(session, [pool.id]).get(pool.id, [])
    listeners = [session.get(Listener, ident) for ident in listener_ids]
    mark([pool, *listeners, loadbalancer], ProvisioningStatus.PENDING_UPDATE, services.clock)


def find_member(session: Session, pool: Pool, member_id: str) -> Member:
    """404 `Member <id> not found.`, also for a member of another pool."""
    row = session.get(Member, member_id)
    if row is None or row.pool_id != pool.id or row.provisioning_status == "DELETED":
        raise NotFound.of("Member", member_id)
    return row


def vnic_type_for(session: Session, loadbalancer: LoadBalancer, request_sriov: bool) -> str:
    """`direct` when SR-IOV is requested, which the LB's flavor must allow (spec §4.4)."""
    if not request_sriov:
        return "normal"
    flavor = session.get(Flavor, loadbalancer.flavor_id) if loadbalancer.flavor_id else None
    profile = session.get(FlavorProfile, flavor.flavor_profile_id) if flavor else None
    data = json.loads(profile.flavor_data) if profile is not None else {}
    if data.get("allow_member_sriov") is not True:
        raise InvalidInput(SRIOV_DISABLED)
    return "direct"


def require_unique_address(session: Session, pool: Pool, address: str, port: int) -> None:
    clash = session.scalar(
        select(Member.id).where(
            Member.pool_id == pool.id, Member.address == address, Member.protocol_port == port
        )
    )
    if clash is not None:
        raise Conflict(
            f"Another member on this pool is already using ip {address} on protocol_port {port}"
        )


def add_member(
    session: Session, services: Services, pool: Pool, values: dict[str, Any], vnic_type: str
) -> Member:
    """Insert a validated member PENDING_CREATE; NO_MONITOR unless the pool has a monitor."""
    monitored = pool.healthmonitor is not None
    row = Member(
        pool_id=pool.id,
        project_id=pool.project_id,
        name=values.get("name"),
        address=values["address"],
        protocol_port=values["protocol_port"],
        admin_state_up=values["admin_state_up"],
        weight=values["weight"],
        backup=values["backup"],
        subnet_id=values.get("subnet_id"),
        monitor_address=values.get("monitor_address"),
        monitor_port=values.get("monitor_port"),
        vnic_type=vnic_type,
        provisioning_status=ProvisioningStatus.PENDING_CREATE.value,
        operating_status=(
            OperatingStatus.OFFLINE if monitored else OperatingStatus.NO_MONITOR
        ).value,
        created_at=services.clock(),
    )
    session.add(row)
    session.flush()
    replace_tags(session, row.id, values.get("tags") or [])
    return row


def create_member(
    session: Session, services: Services, ctx: RequestContext, pool_id: str, values: dict[str, Any]
) -> Member:
    pool, loadbalancer = lock_pool_tree(session, pool_id)
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    validate_member_values(values, pool.protocol, services.settings.reserved_ips)
    require_subnet(session, services.settings, values.get("subnet_id"))
    vnic_type = vnic_type_for(session, loadbalancer, values["request_sriov"])
    check_quota(
        session, ctx, services.settings.quota_defaults, str(loadbalancer.project_id), {"member": 1}
    )
    require_pool_tree_mutable(pool, loadbalancer)
    require_unique_address(session, pool, values["address"], values["protocol_port"])
    row = add_member(session, services, pool, values, vnic_type)
    mark_pool_tree(session, services, pool, loadbalancer)
    return row


def apply_member_update(session: Session, row: Member, values: dict[str, Any]) -> None:
    for key in UPDATABLE:
        if key in values:
            setattr(row, key, values[key])
    replace_tags(session, row.id, values.get("tags"))


def update_member(
    session: Session,
    services: Services,
    ctx: RequestContext,
    pool_id: str,
    member_id: str,
    values: dict[str, Any],
) -> Member:
    pool, loadbalancer = lock_pool_tree(session, pool_id)
    row = find_member(session, pool, member_id)
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    require_pool_tree_mutable(pool, loadbalancer)
    apply_member_update(session, row, values)
    mark([row], ProvisioningStatus.PENDING_UPDATE, services.clock)
    mark_pool_tree(session, services, pool, loadbalancer)
    return row


def delete_member(
    session: Session, services: Services, ctx: RequestContext, pool_id: str, member_id: str
) -> str:
    """Mark the member PENDING_DELETE; returns its load balancer's id for the queue."""
    pool, loadbalancer = lock_pool_tree(session, pool_id)
    row = find_member(session, pool, member_id)
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    require_pool_tree_mutable(pool, loadbalancer)
    mark([row], ProvisioningStatus.PENDING_DELETE, services.clock)
    mark_pool_tree(session, services, pool, loadbalancer)
    return loadbalancer.id


DUPLICATE_IN_BATCH = "Validation failure: Member must be updated only once in the same request."
BATCH_RESETS: dict[str, Any] = {"monitor_address": None, "monitor_port": None}


@dataclass
class BatchPlan:
    """What a batch PUT does: members matched by (address, protocol_port)."""

    new: list[dict[str, Any]] = field(default_factory=list)
    updated: list[tuple[Member, dict[str, Any]]] = field(default_factory=list)
    unmatched: list[Member] = field(default_factory=list)

    @property
    def is_noop(self) -> bool:
        return not (self.new or self.updated or self.unmatched)


def plan_batch(existing: list[Member], requested: list[dict[str, Any]]) -> BatchPlan:
    """Pure diff of the pool's members against the request (spec §4.4 batch update)."""
    by_key = {(row.address, row.protocol_port): row for row in existing}
    plan, seen = BatchPlan(), set()
    for values in requested:
        key = (values["address"], values["protocol_port"])
        if key in seen:
            raise InvalidInput(DUPLICATE_IN_BATCH)
        seen.add(key)
        if key in by_key:
            plan.updated.append((by_key[key], values))
        else:
            plan.new.append(values)
    plan.unmatched = [row for key, row in by_key.items() if key not in seen]
    return plan


def _check_batch(
    session: Session,
    services: Services,
    ctx: RequestContext,
    pool: Pool,
    loadbalancer: LoadBalancer,
    plan: BatchPlan,
    additive_only: bool,
) -> list[str]:
    """Validate the new members; return their vnic types. Quota counts the net increase."""
    settings = services.settings
    for values in plan.new:
        validate_member_values(values, pool.protocol, settings.reserved_ips)
    increase = len(plan.new) - (0 if additive_only else len(plan.unmatched))
    if increase > 0:
        check_quota(
            session,
            ctx,
            settings.quota_defaults,
            str(loadbalancer.project_id),
            {"member": increase},
        )
    for subnet_id in dict.fromkeys(values.get("subnet_id") for values in plan.new):
        require_subnet(session, settings, subnet_id)
    return [vnic_type_for(session, loadbalancer, values["request_sriov"]) for values in plan.new]


def batch_update_members(
    session: Session,
    services: Services,
    ctx: RequestContext,
    pool_id: str,
    requested: list[dict[str, Any]],
    additive_only: bool,
) -> str | None:
    """Create, update and (unless additive_only) delete so the pool holds `requested`.

    Returns the load balancer to reconcile, or None for a no-op, which changes nothing but
    still needs the tree mutable.
    """
    pool, loadbalancer = lock_pool_tree(session, pool_id)
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    require_pool_tree_mutable(pool, loadbalancer)
    existing = list(session.scalars(select(Member).where(Member.pool_id == pool.id)))
    plan = plan_batch(existing, requested)
    if plan.is_noop:
        return None
    vnic_types = _check_batch(session, services, ctx, pool, loadbalancer, plan, additive_only)
    for values, vnic_type in zip(plan.new, vnic_types, strict=True):
        add_member(session, services, pool, values, vnic_type)
    for row, values in plan.updated:
        # Octavia's batch body is a POST body: omitted monitor fields mean "none" here.
        apply_member_update(session, row, {**BATCH_RESETS, **values})
    mark([row for row, _ in plan.updated], ProvisioningStatus.PENDING_UPDATE, services.clock)
    if not additive_only:
        mark(plan.unmatched, ProvisioningStatus.PENDING_DELETE, services.clock)
    mark_pool_tree(session, services, pool, loadbalancer)
    return loadbalancer.id
