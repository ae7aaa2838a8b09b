"""Amphora responses (spec §4.13): the key is `loadbalancer_id`, not the api-ref's spelling."""

from typing import Any

from pier.api.views.common import timestamp
from pier.db.tables import Amphora, ListenerStatistics

STAT_COLUMNS = (
    "active_connections",
    "bytes_in",
    "bytes_out",
    "request_errors",
    "total_connections",
)


def amphora_view(row: Amphora) -> dict[str, Any]:
    return {
        "id": row.id,
        "loadbalancer_id": row.loadbalancer_id,
        "compute_id": row.compute_id,
        "lb_network_ip": row.lb_network_ip,
        "vrrp_ip": row.vrrp_ip,
        "ha_ip": row.ha_ip,
        "vrrp_port_id": row.vrrp_port_id,
        "ha_port_id": row.ha_port_id,
        "cert_expiration": timestamp(row.cert_expiration),
        "cert_busy": row.cert_busy,
        "role": row.role,
        "status": row.status,
        "vrrp_interface": row.vrrp_interface,
        "vrrp_id": row.vrrp_id,
        "vrrp_priority": row.vrrp_priority,
        "cached_zone": row.cached_zone,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
        "image_id": row.image_id,
        "compute_flavor": row.compute_flavor,
    }


def amphora_stats_view(row: ListenerStatistics, loadbalancer_id: str | None) -> dict[str, Any]:
    """One listener's counters as seen by one amphora."""
    return {
        "id": row.amphora_id,
        "loadbalancer_id": loadbalancer_id,
        "listener_id": row.listener_id,
        **{name: int(getattr(row, name)) for name in STAT_COLUMNS},
    }
