"""Load balancer responses (spec §4.1, §3.5, §3.6)."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api.views.common import audit_times, id_list, load_tags, ownership, statuses, text
from pier.db.tables import Listener, LoadBalancer, Pool


def load_children(
    session: Session, ids: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Listener and pool ids of many load balancers in two queries, in creation order."""
    listeners: dict[str, list[str]] = defaultdict(list)
    pools: dict[str, list[str]] = defaultdict(list)
    if ids:
        for table, found in ((Listener, listeners), (Pool, pools)):
            statement = (
                select(table.loadbalancer_id, table.id)
                .where(table.loadbalancer_id.in_(ids))
                .order_by(table.created_at, table.id)
            )
            for loadbalancer_id, child_id in session.execute(statement):
                found[loadbalancer_id].append(child_id)
    return listeners, pools


def loadbalancer_view(session: Session, row: LoadBalancer) -> dict[str, Any]:
    """One load balancer, its tags and children loaded on the way."""
    listeners, pools = load_children(session, [row.id])
    tags = load_tags(session, [row.id])
    return loadbalancer_row_view(row, tags[row.id], listeners[row.id], pools[row.id])


def loadbalancer_row_view(
    row: Any, tags: list[str], listener_ids: list[str], pool_ids: list[str]
) -> dict[str, Any]:
    """Works on an ORM object or a plain row of the loadbalancer table's columns."""
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
        "listeners": id_list(listener_ids),
        "pools": id_list(pool_ids),
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
