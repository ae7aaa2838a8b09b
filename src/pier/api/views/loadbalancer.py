"""Load balancer responses (spec §4.1, §3.5, §3.6)."""

from typing import Any

from pier.api.views.common import audit_times, id_list, ownership, statuses, text
from pier.db.tables import LoadBalancer


def loadbalancer_view(row: LoadBalancer, tags: list[str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": text(row.name),
        "description": text(row.description),
        "admin_state_up": row.admin_state_up,
        **ownership(row),
        **statuses(row),
        **audit_times(row),
        "vip_address": row.vip_address,
        "vip_port_id": row.vip_port_id,
        "vip_subnet_id": row.vip_subnet_id,
        "vip_network_id": row.vip_network_id,
        "vip_qos_policy_id": row.vip_qos_policy_id,
        "vip_vnic_type": row.vip_vnic_type,
        "vip_sg_ids": list(row.vip_sg_ids or []),
        "additional_vips": list(row.additional_vips or []),
        "provider": row.provider or "octavia",
        "flavor_id": row.flavor_id,
        "availability_zone": row.availability_zone,
        "listeners": id_list(listener.id for listener in row.listeners),
        "pools": id_list(pool.id for pool in row.pools),
        "tags": tags,
    }


def _member_status(member: Any) -> dict[str, Any]:
    return {
        "id": member.id,
        "name": text(member.name),
        "address": member.address,
        "protocol_port": member.protocol_port,
        **statuses(member),
    }


def _pool_status(pool: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"id": pool.id, "name": text(pool.name), **statuses(pool)}
    monitor = pool.healthmonitor
    if monitor is not None:
        result["health_monitor"] = {
            "id": monitor.id,
            "name": text(monitor.name),
            "type": monitor.type,
            **statuses(monitor),
        }
    result["members"] = [_member_status(member) for member in pool.members]
    return result


def status_tree_view(row: LoadBalancer) -> dict[str, Any]:
    """A listener's pools are its default pool and its L7 redirect pools (spec §3.5)."""
    listeners = []
    for listener in row.listeners:
        pools = {}
        if listener.default_pool is not None:
            pools[listener.default_pool.id] = listener.default_pool
        for policy in listener.l7policies:
            if policy.redirect_pool is not None:
                pools.setdefault(policy.redirect_pool.id, policy.redirect_pool)
        listeners.append(
            {
                "id": listener.id,
                "name": text(listener.name),
                **statuses(listener),
                "pools": [_pool_status(pool) for pool in pools.values()],
            }
        )
    return {
        "statuses": {
            "loadbalancer": {
                "id": row.id,
                "name": text(row.name),
                **statuses(row),
                "listeners": listeners,
            }
        }
    }
