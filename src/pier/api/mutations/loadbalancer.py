"""Load balancer create, update, delete and failover (spec §4.1, §3.3)."""

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.mutations.common import lock_loadbalancer, mark, require_loadbalancer_state
from pier.api.network.vip import allocate_vip
from pier.api.quota import check_quota
from pier.api.services import Services
from pier.api.views.common import replace_tags
from pier.db.tables import Amphora, AvailabilityZone, Flavor, FlavorProfile, LoadBalancer
from pier.domain.enums import AmphoraStatus, ProvisioningStatus, Topology
from pier.domain.errors import InvalidInput

MISSING_PROJECT = (
    "Validation failure: Missing project ID in request where one is required. "
    "An administrator should check the keystone settings in the Octavia "
    "configuration."
)
ENABLED_PROVIDERS = ("amphora", "octavia")


def resolve_project(ctx: RequestContext, values: dict[str, Any]) -> str:
    project_id = values.pop("project_id", None) or ctx.project_id
    if not project_id:
        raise InvalidInput(MISSING_PROJECT)
    return str(project_id)


def _check_provider(values: dict[str, Any], default: str) -> str:
    provider = values.get("provider") or default
    if provider not in ENABLED_PROVIDERS:
        raise InvalidInput(f"Provider '{provider}' is not enabled.")
    return str(provider)


def _topology_from_flavor(session: Session, flavor_id: str | None, provider: str) -> str:
    if flavor_id is None:
        return Topology.SINGLE.value
    flavor = session.get(Flavor, flavor_id)
    if flavor is None:
        raise InvalidInput(f"Validation failure: Invalid flavor_id {flavor_id}.")
    if not flavor.enabled:
        raise InvalidInput(f"The selected flavor is not allowed in this deployment: {flavor_id}")
    profile = session.get(FlavorProfile, flavor.flavor_profile_id)
    if profile is not None and profile.provider_name not in (provider, *ENABLED_PROVIDERS):
        raise InvalidInput(f"Flavor '{flavor_id}' is not compatible with provider '{provider}'")
    data = json.loads(profile.flavor_data) if profile is not None else {}
    return str(data.get("loadbalancer_topology", Topology.SINGLE.value))


def _check_availability_zone(session: Session, name: str | None) -> None:
    if name is None:
        return
    zone = session.get(AvailabilityZone, name)
    if zone is None:
        raise InvalidInput(f"Validation failure: Invalid availability zone {name}.")
    if not zone.enabled:
        raise InvalidInput(
            f"The selected availability_zone is not allowed in this deployment: {name}"
        )


def _require_vip(values: dict[str, Any]) -> None:
    if not any(values.get(key) for key in ("vip_port_id", "vip_network_id", "vip_subnet_id")):
        raise InvalidInput(
            "Validation failure: VIP must contain one of: vip_port_id, "
            "vip_network_id, vip_subnet_id."
        )


def create_loadbalancer(
    session: Session, services: Services, ctx: RequestContext, values: dict[str, Any]
) -> LoadBalancer:
    """Insert the load balancer PENDING_CREATE with its VIP allocated; children are the
    caller's (single-call create).
    """
    project_id = resolve_project(ctx, values)
    policy.authorize(ctx, policy.Rule.WRITE, project_id)
    _require_vip(values)
    provider = _check_provider(values, services.settings.default_provider)
    topology = _topology_from_flavor(session, values.get("flavor_id"), provider)
    _check_availability_zone(session, values.get("availability_zone"))
    check_quota(session, ctx, services.settings.quota_defaults, project_id, {"loadbalancer": 1})
    row = LoadBalancer(
        project_id=project_id,
        name=values.get("name"),
        description=values.get("description"),
        admin_state_up=values["admin_state_up"],
        provisioning_status=ProvisioningStatus.PENDING_CREATE.value,
        operating_status="OFFLINE",
        vip_qos_policy_id=values.get("vip_qos_policy_id"),
        vip_sg_ids=values.get("vip_sg_ids") or [],
        provider=provider,
        flavor_id=values.get("flavor_id"),
        availability_zone=values.get("availability_zone"),
        topology=topology,
        created_at=services.clock(),
    )
    session.add(row)
    session.flush()
    vip = allocate_vip(
        session,
        project_id=project_id,
        subnet_id=values.get("vip_subnet_id"),
        network_id=values.get("vip_network_id"),
        port_id=values.get("vip_port_id"),
        address=values.get("vip_address"),
        loadbalancer_id=row.id,
        accept_any_subnet=services.settings.accept_any_subnet,
        caller_is_admin=policy.is_admin(ctx),
    )
    row.vip_address = vip.address
    row.vip_subnet_id = vip.subnet_id
    row.vip_network_id = vip.network_id
    row.vip_port_id = vip.port_id
    row.additional_vips = values.get("additional_vips") or []
    replace_tags(session, row.id, values.get("tags") or [])
    return row


def update_loadbalancer(
    session: Session,
    services: Services,
    ctx: RequestContext,
    loadbalancer_id: str,
    values: dict[str, Any],
) -> LoadBalancer:
    row = lock_loadbalancer(session, loadbalancer_id)
    policy.authorize(ctx, policy.Rule.WRITE, row.project_id)
    require_loadbalancer_state(row, (ProvisioningStatus.ACTIVE.value,))
    for key in ("name", "description", "admin_state_up", "vip_qos_policy_id", "vip_sg_ids"):
        if key in values:
            setattr(row, key, values[key])
    replace_tags(session, row.id, values.get("tags"))
    mark([row], ProvisioningStatus.PENDING_UPDATE, services.clock)
    return row


def delete_loadbalancer(
    session: Session, services: Services, ctx: RequestContext, loadbalancer_id: str, cascade: bool
) -> None:
    row = lock_loadbalancer(session, loadbalancer_id)
    policy.authorize(ctx, policy.Rule.WRITE, row.project_id)
    require_loadbalancer_state(
        row, (ProvisioningStatus.ACTIVE.value, ProvisioningStatus.ERROR.value)
    )
    if (row.listeners or row.pools) and not cascade:
        raise InvalidInput(
            f"Validation failure: Cannot delete Load Balancer {row.id} - it has children"
        )
    mark([row], ProvisioningStatus.PENDING_DELETE, services.clock)


def failover_loadbalancer(
    session: Session, services: Services, ctx: RequestContext, loadbalancer_id: str
) -> None:
    """Every amphora of the tree is marked for replacement; the worker builds new ones."""
    row = lock_loadbalancer(session, loadbalancer_id)
    policy.authorize(ctx, policy.Rule.ADMIN, row.project_id)
    require_loadbalancer_state(
        row, (ProvisioningStatus.ACTIVE.value, ProvisioningStatus.ERROR.value)
    )
    mark([row], ProvisioningStatus.PENDING_UPDATE, services.clock)
    replaceable = select(Amphora).where(
        Amphora.loadbalancer_id == row.id,
        Amphora.status.not_in([AmphoraStatus.DELETED.value, AmphoraStatus.PENDING_DELETE.value]),
    )
    for amphora in session.scalars(replaceable):
        amphora.status = AmphoraStatus.PENDING_DELETE.value
        amphora.updated_at = services.clock()
