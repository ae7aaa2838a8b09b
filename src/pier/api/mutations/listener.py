"""Listener create, update and delete (spec §4.2, §3.3), with Octavia's validation texts.

Certificate references are stored as opaque strings: Pier has no secret store yet, so they are
not fetched or parsed here (Octavia would 400 on an unreadable reference).
"""

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.mutations.common import lock_loadbalancer, mark, require_active
from pier.api.quota import check_quota
from pier.api.schemas.listener import (
    ALPN_PROTOCOLS,
    DEFAULT_TLS_CIPHERS,
    DEFAULT_TLS_VERSIONS,
    HTTP_HEADERS,
    SSL_HEADERS,
    TLS_ALL_VERSIONS,
)
from pier.api.services import Services
from pier.api.views.common import replace_tags
from pier.db.tables import Listener, LoadBalancer, Pool
from pier.domain.enums import (
    LISTENER_POOL_PROTOCOLS,
    TCP_PORT_FAMILY,
    ListenerProtocol,
    PoolProtocol,
    ProvisioningStatus,
)
from pier.domain.errors import Conflict, InvalidInput, NotFound

TERMINATED_HTTPS = ListenerProtocol.TERMINATED_HTTPS.value
PROMETHEUS = ListenerProtocol.PROMETHEUS.value
DATAGRAM_PROTOCOLS = frozenset({ListenerProtocol.UDP.value, ListenerProtocol.SCTP.value})
HEADER_PROTOCOLS = frozenset({ListenerProtocol.HTTP.value, TERMINATED_HTTPS})
CIPHERS = re.compile(r"^[A-Za-z0-9\-+!:@=_.]+$")
CERT_REFS = ("default_tls_container_ref", "sni_container_refs", "client_ca_tls_container_ref")
# Columns a request may set (protocol, port and load balancer are set once, on create).
COLUMNS = (
    "name", "description", "admin_state_up", "connection_limit", "default_pool_id",
    "default_tls_container_ref", "sni_container_refs", "insert_headers", "timeout_client_data",
    "timeout_member_connect", "timeout_member_data", "timeout_tcp_inspect",
    "client_ca_tls_container_ref", "client_authentication", "client_crl_container_ref",
    "allowed_cidrs", "tls_ciphers", "tls_versions", "alpn_protocols", "hsts_max_age",
    "hsts_include_subdomains", "hsts_preload",
)  # fmt: skip
TLS_DEFAULTS: Mapping[str, Any] = {
    "tls_ciphers": DEFAULT_TLS_CIPHERS,
    "tls_versions": list(DEFAULT_TLS_VERSIONS),
    "alpn_protocols": list(ALPN_PROTOCOLS),
}


def validation(detail: str) -> InvalidInput:
    """Octavia's generic ValidationException text."""
    return InvalidInput(f"Validation failure: {detail}")


def check_pool_protocol(listener_protocol: str, pool_protocol: str) -> None:
    """VALID_LISTENER_POOL_PROTOCOL_MAP (spec §4.3); PROMETHEUS takes no pools at all."""
    if listener_protocol == PROMETHEUS:
        raise InvalidInput(f"Protocol {PROMETHEUS} listeners cannot have child objects.")
    allowed = LISTENER_POOL_PROTOCOLS[ListenerProtocol(listener_protocol)]
    if PoolProtocol(pool_protocol) not in allowed:
        raise validation(
            f"The pool protocol '{pool_protocol}' is invalid while the listener "
            f"protocol is '{listener_protocol}'."
        )


def check_tls_lists(values: Mapping[str, Any]) -> None:
    """Cipher string, TLS versions and ALPN ids, for whichever of them the request sets."""
    ciphers = values.get("tls_ciphers")
    if ciphers and not CIPHERS.match(ciphers):
        raise validation(
            "Invalid characters in cipher string. Only alphanumeric, -, +, !, :, "
            "@, =, _, and . are allowed."
        )
    versions = values.get("tls_versions")
    if versions == []:
        raise validation(
            "Empty TLS version list. Either specify at least one TLS version or "
            "remove this parameter to use the default."
        )
    if bad := [version for version in versions or [] if version not in TLS_ALL_VERSIONS]:
        raise validation("Invalid TLS versions: " + ", ".join(bad))
    if values.get("alpn_protocols") == []:
        raise validation(
            "Empty ALPN protocol list. Either specify at least one ALPN protocol "
            "or remove this parameter to use the default."
        )


def find_pool_on(session: Session, loadbalancer_id: str, pool_id: str) -> Pool:
    pool = session.get(Pool, pool_id)
    if pool is None or pool.loadbalancer_id != loadbalancer_id:
        raise NotFound.of("Pool", pool_id)
    return pool


def _check_insert_headers(headers: Mapping[str, str], protocol: str) -> None:
    if protocol not in HEADER_PROTOCOLS:
        raise InvalidInput(
            f"insert-headers is not a valid option for a {protocol} protocol listener."
        )
    names = list(headers)
    if any(name not in HTTP_HEADERS + SSL_HEADERS for name in names):
        raise InvalidInput(f"{names} is not a valid option for insert_headers")
    ssl = [name for name in names if name in SSL_HEADERS]
    if ssl and protocol != TERMINATED_HTTPS:
        raise InvalidInput(f"{ssl} is not a valid option for {protocol} protocol listener.")


def _has_cert_refs(values: Mapping[str, Any]) -> bool:
    return any(values.get(key) for key in CERT_REFS)


def _can_offload_tls(protocol: str, values: Mapping[str, Any]) -> bool:
    return protocol == TERMINATED_HTTPS or (protocol == PROMETHEUS and _has_cert_refs(values))


def _check_client_auth(values: Mapping[str, Any]) -> None:
    """Client CA needs a server cert; client auth and a CRL need a client CA."""
    has_cert = values.get("default_tls_container_ref") or values.get("sni_container_refs")
    if values.get("client_ca_tls_container_ref") and not has_cert:
        raise validation(
            "An SNI or default certificate container reference must be provided "
            "with a client CA container reference."
        )
    mode = values.get("client_authentication") or "NONE"
    if mode != "NONE" and not values.get("client_ca_tls_container_ref"):
        raise validation(
            f"Client authentication setting {mode} requires a client CA container reference."
        )
    if values.get("client_crl_container_ref") and not values.get("client_ca_tls_container_ref"):
        raise validation(
            "A client authentication CA reference is required to specify a "
            "client authentication revocation list."
        )


def _check_server_cert(protocol: str, values: Mapping[str, Any]) -> None:
    if not _can_offload_tls(protocol, values):
        return
    if not (values.get("default_tls_container_ref") or values.get("sni_container_refs")):
        shown = f"{protocol} with TLS" if protocol == PROMETHEUS else protocol
        raise validation(
            "An SNI or default certificate container reference must be provided "
            f"for {shown} protocol listeners."
        )


def _check_hsts(protocol: str, values: Mapping[str, Any], message: str) -> None:
    max_age = values.get("hsts_max_age")
    if (values.get("hsts_include_subdomains") or values.get("hsts_preload")) and max_age is None:
        raise validation(message)
    if max_age is not None and protocol != TERMINATED_HTTPS:
        raise validation(
            "The HSTS feature can only be used for listeners using the TERMINATED_HTTPS protocol."
        )


def _vip_addresses(loadbalancer: LoadBalancer) -> list[str]:
    extra = [vip.get("ip_address") for vip in loadbalancer.additional_vips or []]
    return [address for address in [loadbalancer.vip_address, *extra] if address]


def _check_allowed_cidrs(loadbalancer: LoadBalancer, cidrs: list[str] | None) -> None:
    if not cidrs:
        return
    if loadbalancer.vip_sg_ids:
        raise validation("Allowed CIDRs are not allowed when using custom VIP Security Groups.")
    vips = _vip_addresses(loadbalancer)
    families = {ipaddress.ip_address(vip).version for vip in vips}
    for cidr in cidrs:
        if ipaddress.ip_network(cidr).version not in families:
            raise validation(
                f"CIDR {cidr} IP version incompatible with all VIPs {vips} IP version."
            )


def _port_family(protocol: str) -> str:
    return "TCP" if ListenerProtocol(protocol) in TCP_PORT_FAMILY else protocol


def check_port_free(session: Session, loadbalancer_id: str, protocol: str, port: int) -> None:
    """One listener per (L4 protocol, port) on a load balancer (409, spec §4.2)."""
    same_port = select(Listener).where(
        Listener.loadbalancer_id == loadbalancer_id, Listener.protocol_port == port
    )
    for other in session.scalars(same_port):
        if _port_family(other.protocol) == _port_family(protocol):
            raise Conflict(
                f"Another Listener on this Load Balancer is already using protocol "
                f"{other.protocol} and protocol_port {port}"
            )


def _validate_new(loadbalancer: LoadBalancer, values: dict[str, Any]) -> None:
    protocol = values["protocol"]
    if values.get("insert_headers"):
        _check_insert_headers(values["insert_headers"], protocol)
    if protocol in DATAGRAM_PROTOCOLS and _has_cert_refs(values):
        raise validation(f"{protocol} protocol listener does not support TLS.")
    if not _can_offload_tls(protocol, values) and _has_cert_refs(values):
        raise validation(
            f"Certificate container references are not allowed on {protocol} protocol listeners."
        )
    _check_client_auth(values)
    _check_server_cert(protocol, values)
    _check_allowed_cidrs(loadbalancer, values.get("allowed_cidrs"))
    if protocol == TERMINATED_HTTPS:
        for key, default in TLS_DEFAULTS.items():
            if values.get(key) is None:
                values[key] = default
    check_tls_lists(values)
    _check_hsts(
        protocol,
        values,
        "HSTS configuration options hsts_include_subdomains and "
        "hsts_preload only make sense if hsts_max_age is set as well.",
    )


def add_listener(
    session: Session, services: Services, loadbalancer: LoadBalancer, values: dict[str, Any]
) -> Listener:
    """Validate and insert one PENDING_CREATE listener; the caller owns the locks, the
    quota and the load balancer's status (standalone and single-call create share this).
    """
    _validate_new(loadbalancer, values)
    if values.get("default_pool_id"):
        pool = find_pool_on(session, loadbalancer.id, values["default_pool_id"])
        check_pool_protocol(values["protocol"], pool.protocol)
    check_port_free(session, loadbalancer.id, values["protocol"], values["protocol_port"])
    row = Listener(
        loadbalancer_id=loadbalancer.id,
        project_id=loadbalancer.project_id,
        protocol=values["protocol"],
        protocol_port=values["protocol_port"],
        provisioning_status=ProvisioningStatus.PENDING_CREATE.value,
        operating_status="OFFLINE",
        created_at=services.clock(),
        **{key: values.get(key) for key in COLUMNS},
    )
    session.add(row)
    session.flush()
    replace_tags(session, row.id, values.get("tags") or [])
    return row


def create_listener(
    session: Session, services: Services, ctx: RequestContext, values: dict[str, Any]
) -> Listener:
    loadbalancer = lock_loadbalancer(session, values["loadbalancer_id"])
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    if values.get("default_pool") or values.get("l7policies"):
        raise validation(
            "default_pool and l7policies are only accepted inside a fully "
            "populated load balancer create."
        )
    require_active(loadbalancer, "Load Balancer")
    check_quota(
        session,
        ctx,
        services.settings.quota_defaults,
        str(loadbalancer.project_id),
        {"listener": 1},
    )
    row = add_listener(session, services, loadbalancer, values)
    mark([loadbalancer], ProvisioningStatus.PENDING_UPDATE, services.clock)
    return row


def find_listener(session: Session, listener_id: str) -> Listener:
    row = session.get(Listener, listener_id)
    if row is None:
        raise NotFound.of("Listener", listener_id)
    return row


def lock_listener(session: Session, listener_id: str) -> tuple[Listener, LoadBalancer]:
    """Lock the listener's load balancer, then read the listener afresh under that lock."""
    loadbalancer = lock_loadbalancer(session, find_listener(session, listener_id).loadbalancer_id)
    row = session.get(Listener, listener_id, populate_existing=True)
    if row is None:
        raise NotFound.of("Listener", listener_id)
    return row, loadbalancer


def _merged(row: Listener, values: Mapping[str, Any]) -> dict[str, Any]:
    current = {key: getattr(row, key) for key in COLUMNS}
    return {**current, **values}


def _validate_update(row: Listener, loadbalancer: LoadBalancer, values: dict[str, Any]) -> None:
    protocol = row.protocol
    if protocol in DATAGRAM_PROTOCOLS and (_has_cert_refs(values) or values.get("insert_headers")):
        raise validation(f"{protocol} protocol listener does not support TLS or header insertion.")
    if not _can_offload_tls(protocol, _merged(row, values)) and _has_cert_refs(values):
        raise validation(
            f"Certificate container references are not allowed on {protocol} protocol listeners."
        )
    if values.get("insert_headers"):
        _check_insert_headers(values["insert_headers"], protocol)
    merged = _merged(row, values)
    _check_client_auth(merged)
    _check_server_cert(protocol, merged)
    _check_allowed_cidrs(loadbalancer, values.get("allowed_cidrs"))
    for key, default in TLS_DEFAULTS.items():
        if key in values and values[key] is None and _can_offload_tls(protocol, merged):
            values[key] = default
    check_tls_lists(values)
    _check_hsts(
        protocol,
        {**values, "hsts_max_age": merged["hsts_max_age"]},
        "Cannot enable hsts_include_subdomains or hsts_preload if hsts_max_age was "
        "not set as well.",
    )


def update_listener(
    session: Session,
    services: Services,
    ctx: RequestContext,
    listener_id: str,
    values: dict[str, Any],
) -> Listener:
    row, loadbalancer = lock_listener(session, listener_id)
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    _validate_update(row, loadbalancer, values)
    if values.get("default_pool_id"):
        pool = find_pool_on(session, loadbalancer.id, values["default_pool_id"])
        check_pool_protocol(row.protocol, pool.protocol)
    require_active(loadbalancer, "Load Balancer")
    for key in COLUMNS:
        if key in values:
            setattr(row, key, values[key])
    replace_tags(session, row.id, values.get("tags"))
    mark([row, loadbalancer], ProvisioningStatus.PENDING_UPDATE, services.clock)
    return row


def delete_listener(
    session: Session, services: Services, ctx: RequestContext, listener_id: str
) -> str:
    """Mark the listener for removal; returns its load balancer id for the queue."""
    row, loadbalancer = lock_listener(session, listener_id)
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    require_active(loadbalancer, "Load Balancer")
    mark([row], ProvisioningStatus.PENDING_DELETE, services.clock)
    mark([loadbalancer], ProvisioningStatus.PENDING_UPDATE, services.clock)
    return loadbalancer.id
