"""Rows -> `LoadBalancerSpec`: the only place a table becomes a domain object.

One query per table (selectin loading), whatever the size of the tree. Children are sorted by
(created_at, id), l7 policies by (position, id): rows created in the same microsecond by a
single-call create still give one stable order, so the rendered config does not flap.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pier.db.tables.lbaas import (
    HealthMonitor,
    L7Policy,
    L7Rule,
    Listener,
    LoadBalancer,
    Member,
    Pool,
)
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
from pier.domain.spec import (
    AdditionalVipSpec,
    HealthMonitorSpec,
    L7PolicySpec,
    L7RuleSpec,
    ListenerSpec,
    LoadBalancerSpec,
    MemberSpec,
    PoolSpec,
    SessionPersistenceSpec,
)


def load_spec(session: Session, loadbalancer_id: str) -> LoadBalancerSpec | None:
    query = (
        select(LoadBalancer)
        .where(LoadBalancer.id == loadbalancer_id)
        .options(
            selectinload(LoadBalancer.listeners)
            .selectinload(Listener.l7policies)
            .selectinload(L7Policy.rules),
            selectinload(LoadBalancer.pools).selectinload(Pool.members),
            selectinload(LoadBalancer.pools).selectinload(Pool.healthmonitor),
        )
    )
    row = session.scalars(query).one_or_none()
    if row is None:
        return None
    return LoadBalancerSpec(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        provisioning_status=ProvisioningStatus(row.provisioning_status),
        admin_state_up=row.admin_state_up,
        topology=Topology(row.topology),
        vip_address=row.vip_address,
        vip_subnet_id=row.vip_subnet_id,
        vip_network_id=row.vip_network_id,
        vip_port_id=row.vip_port_id,
        additional_vips=tuple(_additional_vip(v) for v in row.additional_vips or ()),
        availability_zone=row.availability_zone,
        listeners=tuple(_listener(r) for r in sorted(row.listeners, key=_created)),
        pools=tuple(_pool(r) for r in sorted(row.pools, key=_created)),
    )


def _created(row: Listener | Pool | Member | L7Rule) -> tuple[Any, str]:
    return (row.created_at, row.id)


def _additional_vip(value: dict[str, Any]) -> AdditionalVipSpec:
    return AdditionalVipSpec(subnet_id=value["subnet_id"], ip_address=value.get("ip_address"))


def _listener(row: Listener) -> ListenerSpec:
    policies = sorted(row.l7policies, key=lambda p: (p.position, p.id))
    return ListenerSpec(
        id=row.id,
        name=row.name,
        provisioning_status=ProvisioningStatus(row.provisioning_status),
        admin_state_up=row.admin_state_up,
        protocol=ListenerProtocol(row.protocol),
        protocol_port=row.protocol_port,
        connection_limit=row.connection_limit,
        default_pool_id=row.default_pool_id,
        default_tls_container_ref=row.default_tls_container_ref,
        sni_container_refs=tuple(row.sni_container_refs or ()),
        insert_headers=tuple(sorted((row.insert_headers or {}).items())),
        timeout_client_data=row.timeout_client_data,
        timeout_member_connect=row.timeout_member_connect,
        timeout_member_data=row.timeout_member_data,
        timeout_tcp_inspect=row.timeout_tcp_inspect,
        client_ca_tls_container_ref=row.client_ca_tls_container_ref,
        client_authentication=ClientAuthentication(row.client_authentication),
        client_crl_container_ref=row.client_crl_container_ref,
        allowed_cidrs=tuple(row.allowed_cidrs or ()),
        tls_ciphers=row.tls_ciphers,
        tls_versions=tuple(row.tls_versions or ()),
        alpn_protocols=tuple(row.alpn_protocols or ()),
        hsts_max_age=row.hsts_max_age,
        hsts_include_subdomains=row.hsts_include_subdomains,
        hsts_preload=row.hsts_preload,
        l7policies=tuple(_l7policy(p) for p in policies),
    )


def _l7policy(row: L7Policy) -> L7PolicySpec:
    return L7PolicySpec(
        id=row.id,
        name=row.name,
        provisioning_status=ProvisioningStatus(row.provisioning_status),
        admin_state_up=row.admin_state_up,
        action=L7PolicyAction(row.action),
        position=row.position,
        redirect_pool_id=row.redirect_pool_id,
        redirect_url=row.redirect_url,
        redirect_prefix=row.redirect_prefix,
        redirect_http_code=row.redirect_http_code,
        rules=tuple(_l7rule(r) for r in sorted(row.rules, key=_created)),
    )


def _l7rule(row: L7Rule) -> L7RuleSpec:
    return L7RuleSpec(
        id=row.id,
        provisioning_status=ProvisioningStatus(row.provisioning_status),
        admin_state_up=row.admin_state_up,
        type=L7RuleType(row.type),
        compare_type=L7RuleCompareType(row.compare_type),
        key=row.key,
        value=row.value,
        invert=row.invert,
    )


def _pool(row: Pool) -> PoolSpec:
    return PoolSpec(
        id=row.id,
        name=row.name,
        provisioning_status=ProvisioningStatus(row.provisioning_status),
        admin_state_up=row.admin_state_up,
        protocol=PoolProtocol(row.protocol),
        lb_algorithm=LbAlgorithm(row.lb_algorithm),
        session_persistence=_session_persistence(row.session_persistence),
        tls_enabled=row.tls_enabled,
        tls_container_ref=row.tls_container_ref,
        ca_tls_container_ref=row.ca_tls_container_ref,
        crl_container_ref=row.crl_container_ref,
        tls_ciphers=row.tls_ciphers,
        tls_versions=tuple(row.tls_versions or ()),
        alpn_protocols=tuple(row.alpn_protocols or ()),
        members=tuple(_member(m) for m in sorted(row.members, key=_created)),
        healthmonitor=None if row.healthmonitor is None else _healthmonitor(row.healthmonitor),
    )


def _session_persistence(value: dict[str, Any] | None) -> SessionPersistenceSpec | None:
    if not value:
        return None
    return SessionPersistenceSpec(
        type=SessionPersistenceType(value["type"]),
        cookie_name=value.get("cookie_name"),
        persistence_timeout=value.get("persistence_timeout"),
        persistence_granularity=value.get("persistence_granularity"),
    )


def _member(row: Member) -> MemberSpec:
    return MemberSpec(
        id=row.id,
        name=row.name,
        provisioning_status=ProvisioningStatus(row.provisioning_status),
        admin_state_up=row.admin_state_up,
        address=row.address,
        protocol_port=row.protocol_port,
        weight=row.weight,
        backup=row.backup,
        subnet_id=row.subnet_id,
        monitor_address=row.monitor_address,
        monitor_port=row.monitor_port,
    )


def _healthmonitor(row: HealthMonitor) -> HealthMonitorSpec:
    return HealthMonitorSpec(
        id=row.id,
        name=row.name,
        provisioning_status=ProvisioningStatus(row.provisioning_status),
        admin_state_up=row.admin_state_up,
        type=HealthMonitorType(row.type),
        delay=row.delay,
        timeout=row.timeout,
        max_retries=row.max_retries,
        max_retries_down=row.max_retries_down,
        http_method=None if row.http_method is None else HttpMethod(row.http_method),
        url_path=row.url_path,
        expected_codes=row.expected_codes,
        http_version=row.http_version,
        domain_name=row.domain_name,
    )
