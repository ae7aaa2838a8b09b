"""Pool create, update and delete (spec §4.3, §3.3), with Octavia's validation texts.

TLS references (`tls_container_ref`, `ca_tls_container_ref`, `crl_container_ref`) are stored
as opaque strings: there is no secret store yet to fetch them from.
"""

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.mutations.common import lock_loadbalancer, mark, require_active
from pier.api.mutations.listener import (
    check_pool_protocol,
    check_tls_lists,
    find_listener,
    validation,
)
from pier.api.quota import check_quota
from pier.api.schemas.fields import UNSET, invalid
from pier.api.schemas.listener import ALPN_PROTOCOLS, DEFAULT_TLS_CIPHERS, DEFAULT_TLS_VERSIONS
from pier.api.services import Services
from pier.api.views.common import replace_tags
from pier.api.views.pool import load_pool_listeners
from pier.db.tables import L7Policy, Listener, LoadBalancer, Pool
from pier.domain.enums import ProvisioningStatus, SessionPersistenceType
from pier.domain.errors import Conflict, NotFound

DATAGRAM_PROTOCOLS = frozenset({"UDP", "SCTP"})
SOURCE_IP = SessionPersistenceType.SOURCE_IP.value
APP_COOKIE = SessionPersistenceType.APP_COOKIE.value
HTTP_COOKIE = SessionPersistenceType.HTTP_COOKIE.value
# Octavia's check_session_persistence: separators and controls are not cookie-name characters.
BAD_COOKIE_NAME = re.compile(r"[\x00-\x20\x22\x28-\x29\x2c\x2f\x3a-\x40\x5b-\x5d\x7b\x7d\x7f]+")
PERSISTENCE_KEYS = ("type", "cookie_name", "persistence_timeout", "persistence_granularity")
# Columns a request may set (protocol and load balancer are set once, on create).
COLUMNS = (
    "name", "description", "admin_state_up", "lb_algorithm", "session_persistence",
    "tls_enabled", "tls_container_ref", "ca_tls_container_ref", "crl_container_ref",
    "tls_ciphers", "tls_versions", "alpn_protocols",
)  # fmt: skip
TLS_DEFAULTS: Mapping[str, Any] = {
    "tls_ciphers": DEFAULT_TLS_CIPHERS,
    "tls_versions": list(DEFAULT_TLS_VERSIONS),
    "alpn_protocols": list(ALPN_PROTOCOLS),
}


def _check_datagram_persistence(kind: str | None, cookie: str | None) -> None:
    if kind == SOURCE_IP and cookie:
        raise validation(
            f"session_persistence {SOURCE_IP} type for UDP and SCTP protocols "
            "only accepts: type, persistence_timeout, persistence_granularity."
        )
    if cookie:
        raise validation("Cookie names are not supported for UDP/SCTP pools.")
    if kind in (HTTP_COOKIE, APP_COOKIE):
        raise validation(
            f"Session persistence of type {kind} is not supported for UDP/SCTP protocol pools."
        )


def check_session_persistence(
    protocol: str, persistence: Mapping[str, Any] | None, stream_message: str
) -> None:
    """APP_COOKIE needs a cookie name, others reject it; timeout/granularity and SOURCE_IP
    only rules for UDP/SCTP. `stream_message` differs between POST and PUT in Octavia.
    """
    if not persistence:
        return
    kind, cookie = persistence.get("type"), persistence.get("cookie_name")
    if protocol in DATAGRAM_PROTOCOLS:
        _check_datagram_persistence(kind, cookie)
    elif persistence.get("persistence_timeout") or persistence.get("persistence_granularity"):
        raise validation(stream_message)
    if cookie and kind != APP_COOKIE:
        raise validation(
            'Field "cookie_name" can only be specified with session persistence '
            'of type "APP_COOKIE".'
        )
    if cookie and BAD_COOKIE_NAME.search(cookie):
        raise validation('Supplied "cookie_name" is invalid.')
    if kind == APP_COOKIE and not cookie:
        raise validation(
            'Field "cookie_name" must be specified when using the "APP_COOKIE" '
            "session persistence type."
        )


def _validate_new(loadbalancer: LoadBalancer, values: dict[str, Any]) -> None:
    check_session_persistence(
        values["protocol"],
        values.get("session_persistence"),
        "persistence_timeout and persistence_granularity is only for UDP and SCTP protocol pools.",
    )
    if values.get("crl_container_ref") and not values.get("ca_tls_container_ref"):
        raise validation("A CA certificate reference is required to specify a revocation list.")
    if values.get("tls_enabled"):
        for key, default in TLS_DEFAULTS.items():
            if values.get(key) is None:
                values[key] = default
    check_tls_lists(values)


def _persistence_row(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if not value else {key: value.get(key) for key in PERSISTENCE_KEYS}


def add_pool(
    session: Session, services: Services, loadbalancer: LoadBalancer, values: dict[str, Any]
) -> Pool:
    """Validate and insert one PENDING_CREATE pool; the caller owns locks, quota and the
    parents' statuses (standalone and single-call create share this).
    """
    _validate_new(loadbalancer, values)
    columns = {key: values.get(key) for key in COLUMNS}
    columns["session_persistence"] = _persistence_row(values.get("session_persistence"))
    row = Pool(
        loadbalancer_id=loadbalancer.id,
        project_id=loadbalancer.project_id,
        protocol=values["protocol"],
        provisioning_status=ProvisioningStatus.PENDING_CREATE.value,
        operating_status="OFFLINE",
        created_at=services.clock(),
        **columns,
    )
    session.add(row)
    session.flush()
    replace_tags(session, row.id, values.get("tags") or [])
    return row


def _parents(session: Session, values: Mapping[str, Any]) -> tuple[LoadBalancer, Listener | None]:
    listener = find_listener(session, values["listener_id"]) if values.get("listener_id") else None
    loadbalancer_id = values.get("loadbalancer_id") or (
        listener.loadbalancer_id if listener is not None else None
    )
    if loadbalancer_id is None:
        raise validation("Must provide at least one of: loadbalancer_id, listener_id")
    loadbalancer = lock_loadbalancer(session, loadbalancer_id)
    if listener is not None and listener.loadbalancer_id != loadbalancer.id:
        raise validation(f"Listener {listener.id} is not on load balancer {loadbalancer.id}.")
    return loadbalancer, listener


def create_pool(
    session: Session, services: Services, ctx: RequestContext, values: dict[str, Any]
) -> Pool:
    """With `listener_id` the pool becomes that listener's default pool (409 if it has one)."""
    loadbalancer, listener = _parents(session, values)
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    if values.get("healthmonitor") or values.get("members"):
        raise validation(
            "healthmonitor and members are only accepted inside a fully "
            "populated load balancer create."
        )
    if listener is not None:
        check_pool_protocol(listener.protocol, values["protocol"])
    check_quota(
        session, ctx, services.settings.quota_defaults, str(loadbalancer.project_id), {"pool": 1}
    )
    if listener is not None and listener.default_pool_id is not None:
        raise Conflict("This listener already has a default pool")
    require_active(loadbalancer, "Load Balancer")
    row = add_pool(session, services, loadbalancer, values)
    parents: list[Any] = [loadbalancer]
    if listener is not None:
        listener.default_pool_id = row.id
        parents.append(listener)
    mark(parents, ProvisioningStatus.PENDING_UPDATE, services.clock)
    return row


def find_pool(session: Session, pool_id: str) -> Pool:
    row = session.get(Pool, pool_id)
    if row is None:
        raise NotFound.of("Pool", pool_id)
    return row


def lock_pool(session: Session, pool_id: str) -> tuple[Pool, LoadBalancer]:
    """Lock the pool's load balancer, then read the pool afresh under that lock."""
    loadbalancer = lock_loadbalancer(session, find_pool(session, pool_id).loadbalancer_id)
    row = session.get(Pool, pool_id, populate_existing=True)
    if row is None:
        raise NotFound.of("Pool", pool_id)
    return row, loadbalancer


def _listeners_of(session: Session, pool: Pool) -> list[Listener]:
    ids = load_pool_listeners(session, [pool.id]).get(pool.id, [])
    return [listener for ident in ids if (listener := session.get(Listener, ident))]


def _merge_persistence(row: Pool, values: dict[str, Any]) -> None:
    """PUT replaces the persistence object, but an omitted `type` keeps the stored one."""
    given = values.get("session_persistence")
    if not given or given.get("type"):
        return
    stored = row.session_persistence or {}
    if not stored.get("type"):
        raise invalid("type", UNSET, "Mandatory field missing.")
    values["session_persistence"] = {**given, "type": stored["type"]}


def _check_ca_and_crl(row: Pool, values: Mapping[str, Any]) -> None:
    crl = (
        values.get("crl_container_ref")
        if "crl_container_ref" in values
        else (row.crl_container_ref)
    )
    stored_ca = row.ca_tls_container_ref
    if "ca_tls_container_ref" in values:
        if not values["ca_tls_container_ref"] and crl:
            raise validation(
                "A CA reference cannot be removed when a certificate revocation list is present."
                if stored_ca
                else "A CA reference is required to specify a certificate revocation list."
            )
    elif crl and not stored_ca:
        raise validation("A CA reference is required to specify a certificate revocation list.")


def _validate_update(row: Pool, loadbalancer: LoadBalancer, values: dict[str, Any]) -> None:
    _merge_persistence(row, values)
    check_session_persistence(
        row.protocol,
        values.get("session_persistence"),
        "persistence_timeout and persistence_granularity is only for UDP protocol pools.",
    )
    _check_ca_and_crl(row, values)
    for key in ("tls_ciphers", "tls_versions"):
        if key in values and values[key] is None:
            values[key] = TLS_DEFAULTS[key]
    check_tls_lists(values)
    if values.get("tls_enabled"):
        for key, default in TLS_DEFAULTS.items():
            if values.get(key, getattr(row, key)) is None:
                values[key] = default


def update_pool(
    session: Session, services: Services, ctx: RequestContext, pool_id: str, values: dict[str, Any]
) -> Pool:
    row, loadbalancer = lock_pool(session, pool_id)
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    _validate_update(row, loadbalancer, values)
    require_active(loadbalancer, "Load Balancer")
    if "session_persistence" in values:
        values["session_persistence"] = _persistence_row(values["session_persistence"])
    for key in COLUMNS:
        if key in values:
            setattr(row, key, values[key])
    replace_tags(session, row.id, values.get("tags"))
    mark(
        [row, loadbalancer, *_listeners_of(session, row)],
        ProvisioningStatus.PENDING_UPDATE,
        services.clock,
    )
    return row


def delete_pool(session: Session, services: Services, ctx: RequestContext, pool_id: str) -> str:
    """Mark the pool for removal and detach it from the listeners that default to it (a
    pool on its way out is nobody's default); returns the load balancer id for the queue.
    """
    row, loadbalancer = lock_pool(session, pool_id)
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    redirect = session.scalars(
        select(L7Policy)
        .where(L7Policy.redirect_pool_id == row.id)
        .order_by(L7Policy.created_at, L7Policy.id)
    ).first()
    if redirect is not None:
        raise Conflict(f"Pool {row.id} is in use by L7 policy {redirect.id}")
    require_active(loadbalancer, "Load Balancer")
    users = list(session.scalars(select(Listener).where(Listener.default_pool_id == row.id)))
    for listener in users:
        listener.default_pool_id = None
    mark([loadbalancer, *users], ProvisioningStatus.PENDING_UPDATE, services.clock)
    mark([row], ProvisioningStatus.PENDING_DELETE, services.clock)
    return loadbalancer.id
