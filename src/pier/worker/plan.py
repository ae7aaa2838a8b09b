"""PURE: (desired spec, observed amphorae) -> the actions that make them match.

An empty plan means converged. The plan is complete for one pass: a new amphora is created
with its configuration (`CreateAmphora` carries the text), so no second planning round is
needed. Order: creates, then config pushes, then deletes (make before break), then the VIP.

Amphora rules, per role the topology needs (SINGLE: STANDALONE; ACTIVE_STANDBY: MASTER, BACKUP):
- BOOTING or ALLOCATED and running in compute: keep it; push config if its version differs.
- PENDING_CREATE: a create that crashed midway; resume it under the same amphora id.
- PENDING_DELETE (failover, amphora delete), ERROR, lost in compute, surplus: delete it, and
  create a replacement when its role is then empty.
- FAILOVER_STOPPED: left alone, holding its role (the failover circuit breaker tripped).

A load balancer in PENDING_DELETE loses every amphora, then its VIP. One in ERROR or DELETED
only sheds amphorae already marked PENDING_DELETE: nothing else is desired until the user
fails it over or deletes it. Statuses (ACTIVE, DELETED, removed rows) are not actions:
`pier.worker.record` writes them once the whole plan has been applied.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import assert_never

from pier.amphora.bundle import render_amphora_config
from pier.amphora.haproxy_config import HaproxyLimits
from pier.domain.enums import AmphoraRole, AmphoraStatus, ProvisioningStatus, Topology
from pier.domain.spec import LoadBalancerSpec
from pier.drivers.compute.base import ComputeState

# What an amphora may hold when the caller does not say: HAProxy's global maxconn must fit the
# host's file descriptor limit (two per connection), so not Octavia's 1,000,000.
AMPHORA_LIMITS = HaproxyLimits(max_connections=4000)

ROLES: dict[Topology, tuple[AmphoraRole, ...]] = {
    Topology.SINGLE: (AmphoraRole.STANDALONE,),
    Topology.ACTIVE_STANDBY: (AmphoraRole.MASTER, AmphoraRole.BACKUP),
}

_SERVING = frozenset({AmphoraStatus.BOOTING, AmphoraStatus.ALLOCATED})
# Which of two amphorae claiming one role is kept: the one furthest along.
_PREFERENCE = {
    AmphoraStatus.ALLOCATED: 0,
    AmphoraStatus.BOOTING: 1,
    AmphoraStatus.PENDING_CREATE: 2,
}


@dataclass(frozen=True, slots=True)
class ObservedAmphora:
    """An amphora row of the load balancer, with what compute says about it."""

    id: str
    role: AmphoraRole | None
    status: AmphoraStatus
    compute_id: str | None = None
    compute_state: ComputeState = ComputeState.MISSING
    # The version the amphora reports running (compute.get_config_version), None if unknown.
    config_version: str | None = None


@dataclass(frozen=True, slots=True)
class ObservedLoadBalancer:
    amphorae: tuple[ObservedAmphora, ...] = ()


@dataclass(frozen=True, slots=True)
class CreateAmphora:
    """Create (or, with `amphora_id`, resume creating) an amphora and give it the config."""

    role: AmphoraRole
    config_text: str
    version: str
    amphora_id: str | None = None


@dataclass(frozen=True, slots=True)
class PushConfig:
    amphora_id: str
    compute_id: str
    config_text: str
    version: str


@dataclass(frozen=True, slots=True)
class DeleteAmphora:
    """Delete the instance (found by amphora id when `compute_id` is unknown), mark DELETED."""

    amphora_id: str
    compute_id: str | None


@dataclass(frozen=True, slots=True)
class ReleaseVip:
    port_id: str | None


Action = CreateAmphora | PushConfig | DeleteAmphora | ReleaseVip


def plan(
    spec: LoadBalancerSpec, observed: ObservedLoadBalancer, limits: HaproxyLimits = AMPHORA_LIMITS
) -> list[Action]:
    present = [a for a in observed.amphorae if a.status is not AmphoraStatus.DELETED]
    status = spec.provisioning_status
    if status is ProvisioningStatus.PENDING_DELETE:
        return [*_delete_all(present), ReleaseVip(spec.vip_port_id)]
    if status in (ProvisioningStatus.ERROR, ProvisioningStatus.DELETED):
        return _delete_all(a for a in present if a.status is AmphoraStatus.PENDING_DELETE)
    bundle = render_amphora_config(spec, limits)
    return _converge(ROLES[spec.topology], present, bundle.text, bundle.version)


def _delete_all(amphorae: Iterable[ObservedAmphora]) -> list[Action]:
    return [DeleteAmphora(a.id, a.compute_id) for a in amphorae]


def _usable(amphora: ObservedAmphora) -> bool:
    if amphora.status is AmphoraStatus.PENDING_CREATE:
        return True
    return (
        amphora.status in _SERVING
        and amphora.compute_id is not None
        and amphora.compute_state is ComputeState.RUNNING
    )


def _drifted(amphora: ObservedAmphora, version: str) -> bool:
    return amphora.status in _SERVING and amphora.config_version != version


def _keepers(
    roles: tuple[AmphoraRole, ...], present: list[ObservedAmphora]
) -> dict[AmphoraRole, ObservedAmphora]:
    keep: dict[AmphoraRole, ObservedAmphora] = {}
    for amphora in present:
        if amphora.status is AmphoraStatus.FAILOVER_STOPPED and amphora.role in roles:
            keep.setdefault(amphora.role, amphora)
    ranked = sorted(present, key=lambda a: _PREFERENCE.get(a.status, 9))
    for amphora in ranked:
        if amphora.role in roles and amphora.role not in keep and _usable(amphora):
            keep[amphora.role] = amphora
    return keep


def _converge(
    roles: tuple[AmphoraRole, ...], present: list[ObservedAmphora], config_text: str, version: str
) -> list[Action]:
    keep = _keepers(roles, present)
    creates: list[Action] = []
    pushes: list[Action] = []
    for role in roles:
        amphora = keep.get(role)
        if amphora is None:
            creates.append(CreateAmphora(role, config_text, version))
        elif amphora.status is AmphoraStatus.PENDING_CREATE:
            creates.append(CreateAmphora(role, config_text, version, amphora_id=amphora.id))
        elif _drifted(amphora, version) and amphora.compute_id is not None:
            pushes.append(PushConfig(amphora.id, amphora.compute_id, config_text, version))
    kept_ids = {a.id for a in keep.values()}
    return [*creates, *pushes, *_delete_all(a for a in present if a.id not in kept_ids)]


def describe(action: Action) -> str:
    """One log-friendly line per action (config text left out: it can be large)."""
    match action:
        case CreateAmphora():
            resumed = f" resuming {action.amphora_id}" if action.amphora_id else ""
            return f"create {action.role} amphora{resumed} with config {action.version[:12]}"
        case PushConfig():
            return f"push config {action.version[:12]} to amphora {action.amphora_id}"
        case DeleteAmphora():
            return f"delete amphora {action.amphora_id}"
        case ReleaseVip():
            return f"release VIP port {action.port_id}"
        case _:
            assert_never(action)
