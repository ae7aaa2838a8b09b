"""Listener responses (spec §4.2) and the full form a single-call create returns (§4.1.1)."""

from collections.abc import Mapping
from typing import Any

from pier.api.views.common import audit_times, id_list, ownership, statuses, text
from pier.api.views.l7policy import l7policy_view
from pier.api.views.l7rule import l7rule_view
from pier.db.tables import Listener


def listener_view(row: Listener, tags: list[str]) -> dict[str, Any]:
    """Octavia renders `{}` for no insert headers and `null` (not `[]`) for no CIDRs."""
    return {
        "id": row.id,
        "name": text(row.name),
        "description": text(row.description),
        **statuses(row),
        "admin_state_up": row.admin_state_up,
        "protocol": row.protocol,
        "protocol_port": row.protocol_port,
        "connection_limit": row.connection_limit,
        "default_tls_container_ref": row.default_tls_container_ref,
        "sni_container_refs": list(row.sni_container_refs or []),
        **ownership(row),
        "default_pool_id": row.default_pool_id,
        "l7policies": id_list(policy.id for policy in row.l7policies),
        "insert_headers": dict(row.insert_headers or {}),
        **audit_times(row),
        "loadbalancers": id_list([row.loadbalancer_id]),
        "timeout_client_data": row.timeout_client_data,
        "timeout_member_connect": row.timeout_member_connect,
        "timeout_member_data": row.timeout_member_data,
        "timeout_tcp_inspect": row.timeout_tcp_inspect,
        "tags": tags,
        "client_ca_tls_container_ref": row.client_ca_tls_container_ref,
        "client_authentication": row.client_authentication,
        "client_crl_container_ref": row.client_crl_container_ref,
        "allowed_cidrs": list(row.allowed_cidrs) if row.allowed_cidrs else None,
        "tls_ciphers": row.tls_ciphers,
        "tls_versions": list(row.tls_versions) if row.tls_versions is not None else None,
        "alpn_protocols": (list(row.alpn_protocols) if row.alpn_protocols is not None else None),
        "hsts_max_age": row.hsts_max_age,
        "hsts_include_subdomains": row.hsts_include_subdomains,
        "hsts_preload": row.hsts_preload,
    }


def listener_full_view(row: Listener, tags: Mapping[str, list[str]]) -> dict[str, Any]:
    """Single-call form: full L7 policies with full rules, and no `loadbalancers` key."""
    view = listener_view(row, tags.get(row.id, []))
    del view["loadbalancers"]
    policies = []
    for policy in row.l7policies:
        policy_view = l7policy_view(policy, tags.get(policy.id, []))
        policy_view["rules"] = [l7rule_view(rule, tags.get(rule.id, [])) for rule in policy.rules]
        policies.append(policy_view)
    view["l7policies"] = policies
    return view
