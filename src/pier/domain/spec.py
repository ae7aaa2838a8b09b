"""The desired-state tree of one load balancer, as the worker and the config renderer see it.

Built only by `pier.db.snapshot.load_spec` (rows -> spec). Every object keeps its
`provisioning_status` so the worker can tell what is pending and the renderer can omit objects
in PENDING_DELETE (shared/spec/octavia-api.md §11). Amphorae are not here: they are observed,
not desired. Lists are tuples in a stable order (creation time, then id; l7 policies by
position), so the same rows always give the same spec and the same rendered config.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace

from pier.domain.enums import (
    ClientAuthentication,
    HealthMonitorType,
    HttpMethod,
    L7PolicyAction,
    L7RuleCompareType,
    L7RuleType,
    LbAlgorithm,
    ListenerProtocol,
    PoolProtocol,
    ProvisioningStatus,
    SessionPersistenceType,
    Topology,
)


@dataclass(slots=True, frozen=True)
class SessionPersistenceSpec:
    type: SessionPersistenceType
    cookie_name: str | None = None
    persistence_timeout: int | None = None
    persistence_granularity: str | None = None


@dataclass(slots=True, frozen=True)
class HealthMonitorSpec:
    id: str
    provisioning_status: ProvisioningStatus
    admin_state_up: bool
    type: HealthMonitorType
    delay: int
    timeout: int
    max_retries: int
    max_retries_down: int
    http_method: HttpMethod | None = None
    url_path: str | None = None
    expected_codes: str | None = None
    http_version: float | None = None
    domain_name: str | None = None
    name: str | None = None


@dataclass(slots=True, frozen=True)
class MemberSpec:
    id: str
    provisioning_status: ProvisioningStatus
    admin_state_up: bool
    address: str
    protocol_port: int
    weight: int = 1
    backup: bool = False
    subnet_id: str | None = None
    monitor_address: str | None = None
    monitor_port: int | None = None
    name: str | None = None


@dataclass(slots=True, frozen=True)
class PoolSpec:
    id: str
    provisioning_status: ProvisioningStatus
    admin_state_up: bool
    protocol: PoolProtocol
    lb_algorithm: LbAlgorithm
    session_persistence: SessionPersistenceSpec | None = None
    tls_enabled: bool = False
    tls_container_ref: str | None = None
    ca_tls_container_ref: str | None = None
    crl_container_ref: str | None = None
    tls_ciphers: str | None = None
    tls_versions: tuple[str, ...] = ()
    alpn_protocols: tuple[str, ...] = ()
    members: tuple[MemberSpec, ...] = ()
    healthmonitor: HealthMonitorSpec | None = None
    name: str | None = None


@dataclass(slots=True, frozen=True)
class L7RuleSpec:
    id: str
    provisioning_status: ProvisioningStatus
    admin_state_up: bool
    type: L7RuleType
    compare_type: L7RuleCompareType
    value: str
    key: str | None = None
    invert: bool = False


@dataclass(slots=True, frozen=True)
class L7PolicySpec:
    id: str
    provisioning_status: ProvisioningStatus
    admin_state_up: bool
    action: L7PolicyAction
    position: int
    redirect_pool_id: str | None = None
    redirect_url: str | None = None
    redirect_prefix: str | None = None
    redirect_http_code: int | None = None
    rules: tuple[L7RuleSpec, ...] = ()
    name: str | None = None


@dataclass(slots=True, frozen=True)
class ListenerSpec:
    id: str
    provisioning_status: ProvisioningStatus
    admin_state_up: bool
    protocol: ListenerProtocol
    protocol_port: int
    connection_limit: int = -1
    default_pool_id: str | None = None
    default_tls_container_ref: str | None = None
    sni_container_refs: tuple[str, ...] = ()
    # (header, value) pairs sorted by header, e.g. ("X-Forwarded-For", "true").
    insert_headers: tuple[tuple[str, str], ...] = ()
    timeout_client_data: int = 50000
    timeout_member_connect: int = 5000
    timeout_member_data: int = 50000
    timeout_tcp_inspect: int = 0
    client_ca_tls_container_ref: str | None = None
    client_authentication: ClientAuthentication = ClientAuthentication.NONE
    client_crl_container_ref: str | None = None
    allowed_cidrs: tuple[str, ...] = ()
    tls_ciphers: str | None = None
    tls_versions: tuple[str, ...] = ()
    alpn_protocols: tuple[str, ...] = ()
    hsts_max_age: int | None = None
    hsts_include_subdomains: bool = False
    hsts_preload: bool = False
    l7policies: tuple[L7PolicySpec, ...] = ()
    name: str | None = None


@dataclass(slots=True, frozen=True)
class AdditionalVipSpec:
    subnet_id: str
    ip_address: str | None = None


@dataclass(slots=True, frozen=True)
class LoadBalancerSpec:
    id: str
    project_id: str | None
    provisioning_status: ProvisioningStatus
    admin_state_up: bool
    topology: Topology
    vip_address: str | None = None
    vip_subnet_id: str | None = None
    vip_network_id: str | None = None
    vip_port_id: str | None = None
    additional_vips: tuple[AdditionalVipSpec, ...] = ()
    availability_zone: str | None = None
    listeners: tuple[ListenerSpec, ...] = ()
    pools: tuple[PoolSpec, ...] = ()
    name: str | None = None

    def pool(self, pool_id: str) -> PoolSpec | None:
        return next((p for p in self.pools if p.id == pool_id), None)


def provisioning_statuses(spec: LoadBalancerSpec) -> dict[str, ProvisioningStatus]:
    """Every object's id (load balancer included) -> its provisioning status in this spec.

    The worker compares this with the rows before recording, to notice API writes that landed
    while it worked.
    """
    return dict(_walk(spec))


def _walk(spec: LoadBalancerSpec) -> Iterator[tuple[str, ProvisioningStatus]]:
    yield spec.id, spec.provisioning_status
    for listener in spec.listeners:
        yield listener.id, listener.provisioning_status
        for policy in listener.l7policies:
            yield policy.id, policy.provisioning_status
            for rule in policy.rules:
                yield rule.id, rule.provisioning_status
    for pool in spec.pools:
        yield pool.id, pool.provisioning_status
        for member in pool.members:
            yield member.id, member.provisioning_status
        if pool.healthmonitor is not None:
            yield pool.healthmonitor.id, pool.healthmonitor.provisioning_status


def _staying(status: ProvisioningStatus) -> bool:
    return status is not ProvisioningStatus.PENDING_DELETE


def without_leaving(spec: LoadBalancerSpec) -> LoadBalancerSpec:
    """The tree as it will be once every PENDING_DELETE object is gone.

    References to a leaving pool (a listener's default pool) become None, as the worker
    records them; what is rendered from this is what the amphorae run after the pass.
    """
    pools = tuple(_pool_staying(p) for p in spec.pools if _staying(p.provisioning_status))
    kept = {p.id for p in pools}
    listeners = tuple(
        _listener_staying(listener, kept)
        for listener in spec.listeners
        if _staying(listener.provisioning_status)
    )
    return replace(spec, listeners=listeners, pools=pools)


def _pool_staying(pool: PoolSpec) -> PoolSpec:
    monitor = pool.healthmonitor
    if monitor is not None and not _staying(monitor.provisioning_status):
        monitor = None
    members = tuple(m for m in pool.members if _staying(m.provisioning_status))
    return replace(pool, members=members, healthmonitor=monitor)


def _listener_staying(listener: ListenerSpec, pool_ids: set[str]) -> ListenerSpec:
    policies = tuple(
        replace(p, rules=tuple(r for r in p.rules if _staying(r.provisioning_status)))
        for p in listener.l7policies
        if _staying(p.provisioning_status)
    )
    default_pool_id = listener.default_pool_id
    if default_pool_id is not None and default_pool_id not in pool_ids:
        default_pool_id = None
    return replace(listener, l7policies=policies, default_pool_id=default_pool_id)
