"""Health monitor create, update and delete (spec §4.5, §3.3): one monitor per pool."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.mutations.common import mark
from pier.api.mutations.member import lock_pool_tree, mark_pool_tree, require_pool_tree_mutable
from pier.api.quota import check_quota
from pier.api.schemas.healthmonitor import (
    DEFAULT_EXPECTED_CODES,
    DEFAULT_HTTP_METHOD,
    DEFAULT_URL_PATH,
)
from pier.api.services import Services
from pier.api.views.common import replace_tags
from pier.db.tables import HealthMonitor
from pier.domain.enums import HealthMonitorType, OperatingStatus, PoolProtocol, ProvisioningStatus
from pier.domain.errors import Conflict, InvalidInput, NotFound
from pier.settings import Settings

HTTP_TYPES = frozenset({HealthMonitorType.HTTP.value, HealthMonitorType.HTTPS.value})
HTTP_DEFAULTS = {
    "http_method": DEFAULT_HTTP_METHOD,
    "url_path": DEFAULT_URL_PATH,
    "expected_codes": DEFAULT_EXPECTED_CODES,
}
DATAGRAM_POOLS = frozenset({PoolProtocol.UDP.value, PoolProtocol.SCTP.value})
DATAGRAM_TYPES = ("UDP-CONNECT", "SCTP", "TCP", "HTTP")
REQUIRED_ON_UPDATE = ("delay", "max_retries", "timeout")
UPDATABLE = (
    "name",
    "delay",
    "timeout",
    "max_retries",
    "max_retries_down",
    "http_method",
    "url_path",
    "expected_codes",
    "http_version",
    "domain_name",
    "admin_state_up",
)


def _not_valid_option(value: Any, option: str) -> InvalidInput:
    return InvalidInput(f"{value} is not a valid option for {option}")


def _check_type_for_pool(
    hm_type: str, delay: int | None, pool_protocol: str, settings: Settings
) -> None:
    """UDP/SCTP pools take only some types; UDP-CONNECT has a minimum delay."""
    if pool_protocol not in DATAGRAM_POOLS:
        if hm_type in ("UDP-CONNECT", "SCTP"):
            raise InvalidInput(
                f"Validation failure: The {hm_type} type is only supported for "
                "pools of type UDP/SCTP."
            )
        return
    if hm_type not in DATAGRAM_TYPES:
        raise InvalidInput(
            f"Validation failure: The associated pool protocol is "
            f"{pool_protocol}, so only a {'/'.join(DATAGRAM_TYPES)} health "
            "monitor is supported."
        )
    minimum = settings.udp_connect_min_interval_health_monitor
    if hm_type == "UDP-CONNECT" and delay is not None and delay < minimum:
        raise InvalidInput(
            f"Validation failure: The request delay value {delay} should be "
            f"larger than {minimum} for UDP-CONNECT health monitor type."
        )


def _reject_http_fields(hm_type: str, values: dict[str, Any], given: bool) -> None:
    """HTTP-only fields on another type: on POST when set, on PUT whenever present."""
    if hm_type in HTTP_TYPES:
        return
    for name in HTTP_DEFAULTS:
        if (name in values) if given else values.get(name):
            raise _not_valid_option(name, f"health monitors of type {hm_type}")


def _check_domain_name(http_version: float | None, domain_name: str | None) -> None:
    """A Host header needs HTTP/1.1 (spec §4.5)."""
    if not domain_name:
        return
    if not http_version:
        raise InvalidInput(
            "Validation failure: 'http_version' must be specified when 'domain_name' is provided."
        )
    if http_version < 1.1:
        raise _not_valid_option(
            f"http_version {http_version}", "health monitors HTTP 1.1 domain name health check"
        )


def validate_healthmonitor_values(
    values: dict[str, Any], pool_protocol: str, settings: Settings
) -> dict[str, Any]:
    """A parsed POST body checked against the pool's protocol, with the HTTP defaults filled
    in for HTTP/HTTPS monitors. Raises InvalidInput with Octavia's messages.
    """
    result = dict(values)
    hm_type = result["type"]
    if hm_type == HealthMonitorType.PING and not settings.allow_ping_health_monitors:
        raise InvalidInput("The selected type is not allowed in this deployment: PING")
    _check_type_for_pool(hm_type, result.get("delay"), pool_protocol, settings)
    _reject_http_fields(hm_type, result, given=False)
    if hm_type in HTTP_TYPES:
        for name, default in HTTP_DEFAULTS.items():
            result[name] = result.get(name) or default
    else:
        result.update(dict.fromkeys(HTTP_DEFAULTS))
    _check_domain_name(result.get("http_version"), result.get("domain_name"))
    return result


def _validate_update(
    row: HealthMonitor, values: dict[str, Any], pool_protocol: str, settings: Settings
) -> None:
    _reject_http_fields(row.type, values, given=True)
    for name in REQUIRED_ON_UPDATE:
        if name in values and values[name] is None:
            raise _not_valid_option(None, name)
    _check_domain_name(
        values.get("http_version", row.http_version), values.get("domain_name", row.domain_name)
    )
    if pool_protocol in DATAGRAM_POOLS:
        _check_type_for_pool(row.type, values.get("delay"), pool_protocol, settings)


def find_healthmonitor(session: Session, healthmonitor_id: str) -> HealthMonitor:
    row = session.get(HealthMonitor, healthmonitor_id)
    if row is None or row.provisioning_status == ProvisioningStatus.DELETED:
        raise NotFound.of("Health Monitor", healthmonitor_id)
    return row


def create_healthmonitor(
    session: Session, services: Services, ctx: RequestContext, values: dict[str, Any]
) -> HealthMonitor:
    pool, loadbalancer = lock_pool_tree(session, values["pool_id"])
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    checked = validate_healthmonitor_values(values, pool.protocol, services.settings)
    check_quota(
        session,
        ctx,
        services.settings.quota_defaults,
        str(loadbalancer.project_id),
        {"healthmonitor": 1},
    )
    require_pool_tree_mutable(pool, loadbalancer)
    taken = session.scalar(select(HealthMonitor.id).where(HealthMonitor.pool_id == pool.id))
    if taken is not None:
        raise Conflict("This pool already has a health monitor")
    row = HealthMonitor(
        pool_id=pool.id,
        project_id=loadbalancer.project_id,
        type=checked["type"],
        provisioning_status=ProvisioningStatus.PENDING_CREATE.value,
        operating_status=OperatingStatus.OFFLINE.value,
        created_at=services.clock(),
        **{key: checked.get(key) for key in UPDATABLE},
    )
    session.add(row)
    session.flush()
    replace_tags(session, row.id, checked.get("tags") or [])
    mark_pool_tree(session, services, pool, loadbalancer)
    return row


def update_healthmonitor(
    session: Session,
    services: Services,
    ctx: RequestContext,
    healthmonitor_id: str,
    values: dict[str, Any],
) -> HealthMonitor:
    row = find_healthmonitor(session, healthmonitor_id)
    pool, loadbalancer = lock_pool_tree(session, row.pool_id)
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    _validate_update(row, values, pool.protocol, services.settings)
    require_pool_tree_mutable(pool, loadbalancer)
    for key in UPDATABLE:
        if key in values:
            setattr(row, key, values[key])
    replace_tags(session, row.id, values.get("tags"))
    mark([row], ProvisioningStatus.PENDING_UPDATE, services.clock)
    mark_pool_tree(session, services, pool, loadbalancer)
    return row


def delete_healthmonitor(
    session: Session, services: Services, ctx: RequestContext, healthmonitor_id: str
) -> str:
    """Mark the monitor PENDING_DELETE; returns its load balancer's id for the queue."""
    row = find_healthmonitor(session, healthmonitor_id)
    pool, loadbalancer = lock_pool_tree(session, row.pool_id)
    policy.authorize(ctx, policy.Rule.WRITE, loadbalancer.project_id)
    require_pool_tree_mutable(pool, loadbalancer)
    mark([row], ProvisioningStatus.PENDING_DELETE, services.clock)
    mark_pool_tree(session, services, pool, loadbalancer)
    return loadbalancer.id
