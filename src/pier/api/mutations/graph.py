"""Single-call ("fully populated") load balancer create (spec §4.1.1).

Pools given inline (a listener's `default_pool`, a policy's `redirect_pool`) are moved to the
pool list and replaced by their name; then pools (with monitor and members) are created before
listeners (with L7 policies and rules), every object PENDING_CREATE, inside the caller's
transaction: any error rolls back the whole tree, load balancer included.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pier.api.context import RequestContext
from pier.api.mutations import l7policy, l7rule, member
from pier.api.mutations.healthmonitor import UPDATABLE, validate_healthmonitor_values
from pier.api.mutations.listener import add_listener, validation
from pier.api.mutations.pool import add_pool
from pier.api.quota import check_quota
from pier.api.schemas.listener import (
    LISTENER_SINGLE_CREATE,
    l7policy_single_create,
    l7rule_single_create,
)
from pier.api.schemas.pool import (
    POOL_SINGLE_CREATE,
    healthmonitor_single_create,
    member_single_create,
)
from pier.api.services import Services
from pier.api.views.common import load_tags, replace_tags
from pier.api.views.listener import listener_full_view
from pier.api.views.pool import load_pool_listeners, pool_full_view
from pier.db.base import new_id
from pier.db.tables import HealthMonitor, L7Policy, Listener, LoadBalancer, Pool
from pier.domain.enums import OperatingStatus, ProvisioningStatus
from pier.domain.errors import Conflict, InvalidInput

ARGUMENT = "loadbalancer_.loadbalancer"
PENDING_CREATE = ProvisioningStatus.PENDING_CREATE.value
OFFLINE = OperatingStatus.OFFLINE.value


@dataclass(frozen=True)
class CreatedChildren:
    """Ids of what the graph created, in creation order, for the response."""

    listener_ids: list[str]
    pool_ids: list[str]


def _hoist(
    owner: dict[str, Any], key: str, pools: list[dict[str, Any]], required: set[str]
) -> None:
    """Replace an inline pool by its name: a full spec joins `pools`, a bare `{"name"}` is a
    reference that some top-level pool must define.
    """
    raw = owner.get(key)
    if not raw:
        owner.pop(key, None)
        return
    parsed = POOL_SINGLE_CREATE.parse_create(raw, argument=f"{ARGUMENT}.listeners.{key}")
    name = parsed.get("name")
    if not name:
        raise validation("Pools must be named when creating a fully populated loadbalancer.")
    if set(raw) - {"name"}:
        pools.append(parsed)
    else:
        required.add(name)
    owner[key] = name


def _parse(
    raw_listeners: list[Any], raw_pools: list[Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    pools = [
        POOL_SINGLE_CREATE.parse_create(raw, argument=f"{ARGUMENT}.pools") for raw in raw_pools
    ]
    if any(not pool.get("name") for pool in pools):
        raise InvalidInput("Missing details for Pool object: name")
    listeners = [
        LISTENER_SINGLE_CREATE.parse_create(raw, argument=f"{ARGUMENT}.listeners")
        for raw in raw_listeners
    ]
    required: set[str] = set()
    for listener in listeners:
        _hoist(listener, "default_pool", pools, required)
        listener["l7policies"] = [
            l7policy_single_create().parse_create(raw, argument=f"{ARGUMENT}.l7policies")
            for raw in listener["l7policies"]
        ]
        for policy in listener["l7policies"]:
            _hoist(policy, "redirect_pool", pools, required)
    names = [pool["name"] for pool in pools]
    if len(set(names)) != len(names):
        raise validation("Pool names must be unique when creating a fully populated loadbalancer.")
    if missing := sorted(required - set(names)):
        raise validation(f"Pool '{missing[0]}' was referenced but no full definition was found.")
    return listeners, pools


def _check_quotas(
    session: Session,
    services: Services,
    ctx: RequestContext,
    project_id: str,
    listeners: list[dict[str, Any]],
    pools: list[dict[str, Any]],
) -> None:
    """One check for the whole batch of each kind (spec §4.1.1)."""
    policies = [policy for listener in listeners for policy in listener["l7policies"]]
    wanted = {
        "pool": len(pools),
        "healthmonitor": sum(1 for pool in pools if pool.get("healthmonitor")),
        "member": sum(len(pool.get("members") or []) for pool in pools),
        "listener": len(listeners),
        "l7policy": len(policies),
        "l7rule": sum(len(policy.get("rules") or []) for policy in policies),
    }
    check_quota(session, ctx, services.settings.quota_defaults, project_id, wanted)


def _add_healthmonitor(
    session: Session, services: Services, pool: Pool, raw: Mapping[str, Any]
) -> None:
    values = healthmonitor_single_create().parse_create(
        raw, argument=f"{ARGUMENT}.pools.healthmonitor"
    )
    checked = validate_healthmonitor_values(values, pool.protocol, services.settings)
    row = HealthMonitor(
        pool_id=pool.id,
        project_id=pool.project_id,
        type=checked["type"],
        provisioning_status=PENDING_CREATE,
        operating_status=OFFLINE,
        created_at=services.clock(),
        **{key: checked.get(key) for key in UPDATABLE},
    )
    session.add(row)
    session.flush()
    pool.healthmonitor = row
    replace_tags(session, row.id, checked.get("tags") or [])


def _add_members(
    session: Session,
    services: Services,
    loadbalancer: LoadBalancer,
    pool: Pool,
    raw_members: list[Any],
) -> None:
    settings = services.settings
    for raw in raw_members:
        values = member_single_create().parse_create(raw, argument=f"{ARGUMENT}.pools.members")
        member.validate_member_values(values, pool.protocol, settings.reserved_ips)
        member.require_subnet(session, settings, values.get("subnet_id"))
        vnic_type = member.vnic_type_for(session, loadbalancer, values["request_sriov"])
        member.require_unique_address(session, pool, values["address"], values["protocol_port"])
        member.add_member(session, services, pool, values, vnic_type)


def _create_pool(
    session: Session, services: Services, loadbalancer: LoadBalancer, values: dict[str, Any]
) -> Pool:
    for attribute in ("protocol", "lb_algorithm"):
        if not values.get(attribute):
            raise validation(
                f"Pool definition for '{values['name']}' missing required attribute: {attribute}"
            )
    monitor, members = values.pop("healthmonitor", None), values.pop("members", None) or []
    pool = add_pool(session, services, loadbalancer, values)
    if monitor:
        _add_healthmonitor(session, services, pool, monitor)
    _add_members(session, services, loadbalancer, pool, members)
    return pool


def _insert_l7policy(
    session: Session, services: Services, listener: Listener, values: dict[str, Any]
) -> L7Policy:
    row = L7Policy(
        id=new_id(),
        listener_id=listener.id,
        project_id=listener.project_id,
        name=values.get("name"),
        description=values.get("description"),
        admin_state_up=values["admin_state_up"],
        action=values["action"],
        provisioning_status=PENDING_CREATE,
        operating_status=OFFLINE,
        created_at=services.clock(),
        **{key: values.get(key) for key in l7policy.REDIRECT_FIELDS},
    )
    session.add(row)
    session.flush()
    l7policy.place_l7policy(session, row, values["position"])
    replace_tags(session, row.id, values.get("tags") or [])
    return row


def _add_l7policy(
    session: Session,
    services: Services,
    loadbalancer: LoadBalancer,
    listener: Listener,
    values: dict[str, Any],
    pool_ids: Mapping[str, str],
) -> None:
    """A policy with its rules; `redirect_pool` is the name of a pool of this graph."""
    rule_schema = l7rule_single_create()
    rules = [
        l7rule.validate_l7rule_values(
            rule_schema.parse_create(raw, argument=f"{ARGUMENT}.l7policies.rules")
        )
        for raw in values.pop("rules", None) or []
    ]
    if "redirect_pool" in values:
        values["redirect_pool_id"] = pool_ids[values.pop("redirect_pool")]
    checked = l7policy.validate_l7policy_values(
        values, listener.protocol, provider=loadbalancer.provider or "octavia"
    )
    if len(rules) > l7rule.MAX_RULES_PER_POLICY:
        raise Conflict(f"Too many rules on L7 policy {new_id()}")
    if checked.get("redirect_pool_id"):
        l7policy.check_redirect_pool(session, listener, checked["redirect_pool_id"])
    row = _insert_l7policy(session, services, listener, checked)
    for rule in rules:
        l7rule.add_l7rule(session, services, row, rule)


def _create_listener(
    session: Session,
    services: Services,
    loadbalancer: LoadBalancer,
    values: dict[str, Any],
    pool_ids: Mapping[str, str],
) -> Listener:
    if "default_pool" in values:
        values["default_pool_id"] = pool_ids[values.pop("default_pool")]
    policies = values.pop("l7policies")
    listener = add_listener(session, services, loadbalancer, values)
    for policy_values in policies:
        _add_l7policy(session, services, loadbalancer, listener, policy_values, pool_ids)
    return listener


def create_children(
    session: Session,
    services: Services,
    ctx: RequestContext,
    loadbalancer: LoadBalancer,
    listeners: list[dict[str, Any]],
    pools: list[dict[str, Any]],
) -> Any:
    """Create the listeners and pools of a new load balancer (already PENDING_CREATE)."""
    if not listeners and not pools:
        return None
    parsed_listeners, parsed_pools = _parse(listeners, pools)
    _check_quotas(
        session, services, ctx, str(loadbalancer.project_id), parsed_listeners, parsed_pools
    )
    pool_ids: dict[str, str] = {}
    for values in parsed_pools:
        pool_ids[values["name"]] = _create_pool(session, services, loadbalancer, values).id
    listener_ids = [
        _create_listener(session, services, loadbalancer, values, pool_ids).id
        for values in parsed_listeners
    ]
    return CreatedChildren(listener_ids=listener_ids, pool_ids=list(pool_ids.values()))


def _loaded(session: Session, table: Any, ids: list[str], *options: Any) -> list[Any]:
    """Rows in `ids` order, reloaded (collections filled after the inserts above)."""
    statement = (
        select(table)
        .where(table.id.in_(ids))
        .options(*options)
        .execution_options(populate_existing=True)
    )
    rows = {row.id: row for row in session.scalars(statement)}
    return [rows[ident] for ident in ids]


def children_view(session: Session, created: Any) -> dict[str, Any]:
    """Full listeners (full L7 policies and rules) and full pools (monitor, members)."""
    if not isinstance(created, CreatedChildren):
        return {"listeners": [], "pools": []}
    listeners = _loaded(
        session,
        Listener,
        created.listener_ids,
        selectinload(Listener.l7policies).selectinload(L7Policy.rules),
    )
    pools = _loaded(
        session,
        Pool,
        created.pool_ids,
        selectinload(Pool.members),
        selectinload(Pool.healthmonitor),
    )
    ids = [*created.listener_ids, *created.pool_ids]
    ids += [
        item.id
        for row in listeners
        for policy in row.l7policies
        for item in (policy, *policy.rules)
    ]
    ids += [item.id for row in pools for item in (*row.members, *filter(None, [row.healthmonitor]))]
    tags = load_tags(session, ids)
    users = load_pool_listeners(session, created.pool_ids)
    return {
        "listeners": [listener_full_view(row, tags) for row in listeners],
        "pools": [pool_full_view(row, tags, users.get(row.id, [])) for row in pools],
    }
