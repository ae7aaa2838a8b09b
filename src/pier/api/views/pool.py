"""Pool responses (spec §4.3) and the full form a single-call create returns (§4.1.1)."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from pier.api.views.common import audit_times, id_list, ownership, statuses, text
from pier.api.views.healthmonitor import healthmonitor_view
from pier.api.views.member import member_view
from pier.db.tables import L7Policy, L7Rule, Listener, Pool

PERSISTENCE_KEYS = ("type", "cookie_name", "persistence_timeout", "persistence_granularity")


def load_pool_listeners(session: Session, pool_ids: Iterable[str]) -> dict[str, list[str]]:
    """A pool's `listeners`: those using it as default pool, or redirecting to it through an
    enabled L7 policy that has rules (Octavia's `Pool.listeners`).

    Two queries for any number of pools; ids in listener creation order, each once.
    """
    wanted = list(pool_ids)
    if not wanted:
        return {}
    defaults = select(Listener.default_pool_id, Listener.id, Listener.created_at).where(
        Listener.default_pool_id.in_(wanted)
    )
    has_rules = exists().where(L7Rule.l7policy_id == L7Policy.id)
    redirects = (
        select(L7Policy.redirect_pool_id, Listener.id, Listener.created_at)
        .join(Listener, Listener.id == L7Policy.listener_id)
        .where(L7Policy.redirect_pool_id.in_(wanted), L7Policy.admin_state_up.is_(True), has_rules)
    )
    found: dict[str, dict[str, Any]] = defaultdict(dict)
    for statement in (defaults, redirects):
        for pool_id, listener_id, created_at in session.execute(statement):
            found[str(pool_id)][listener_id] = created_at
    return {
        pool_id: [ident for ident, _ in sorted(users.items(), key=lambda item: (item[1], item[0]))]
        for pool_id, users in found.items()
    }


def session_persistence_view(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """All four keys, or null when the pool has none."""
    if not value:
        return None
    return {key: value.get(key) for key in PERSISTENCE_KEYS}


def pool_view(row: Pool, tags: list[str], listener_ids: list[str]) -> dict[str, Any]:
    """`healthmonitor_id` is left out, not null, when the pool has no monitor (spec §15.7)."""
    view: dict[str, Any] = {
        "id": row.id,
        "name": text(row.name),
        "description": text(row.description),
        **statuses(row),
        "admin_state_up": row.admin_state_up,
        "protocol": row.protocol,
        "lb_algorithm": row.lb_algorithm,
        "session_persistence": session_persistence_view(row.session_persistence),
        **ownership(row),
        "loadbalancers": id_list([row.loadbalancer_id]),
        "listeners": id_list(listener_ids),
        **audit_times(row),
        "members": id_list(member.id for member in row.members),
        "tags": tags,
        "tls_container_ref": row.tls_container_ref,
        "ca_tls_container_ref": row.ca_tls_container_ref,
        "crl_container_ref": row.crl_container_ref,
        "tls_enabled": row.tls_enabled,
        "tls_ciphers": row.tls_ciphers,
        "tls_versions": list(row.tls_versions) if row.tls_versions is not None else None,
        "alpn_protocols": (list(row.alpn_protocols) if row.alpn_protocols is not None else None),
    }
    if row.healthmonitor is not None:
        view["healthmonitor_id"] = row.healthmonitor.id
    return view


def pool_full_view(
    row: Pool, tags: Mapping[str, list[str]], listener_ids: list[str]
) -> dict[str, Any]:
    """Single-call form: full monitor (or null, without its `pools`) and full members, and
    neither `loadbalancers` nor `healthmonitor_id`.
    """
    view = pool_view(row, tags.get(row.id, []), listener_ids)
    del view["loadbalancers"]
    view.pop("healthmonitor_id", None)
    monitor = None
    if row.healthmonitor is not None:
        monitor = healthmonitor_view(row.healthmonitor, tags.get(row.healthmonitor.id, []))
        monitor.pop("pools", None)
    view["healthmonitor"] = monitor
    view["members"] = [member_view(member, tags.get(member.id, [])) for member in row.members]
    return view
