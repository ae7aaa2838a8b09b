"""Who may see and change network objects.

Admins see everything. Everyone else sees their own project's objects, plus networks that
are `shared` or `router:external` and those networks' subnets. Networks and subnets are
changed by admins only; members manage their own ports, floating IPs and security groups.
Objects a caller may not see are reported as missing (404), as Neutron does.
"""

from typing import Any

from sqlalchemy import ColumnElement, false, or_

from pier.api.context import RequestContext
from pier.api.network.neutron_errors import PolicyNotAuthorized, invalid_attribute
from pier.db.tables.network import Network, Subnet


def is_admin(context: RequestContext) -> bool:
    return context.is_admin or "admin" in context.roles


def require_admin(context: RequestContext, action: str) -> None:
    if not is_admin(context):
        raise PolicyNotAuthorized(action)


def require_member(context: RequestContext, action: str) -> None:
    """Writes need the `member` role (readers and observers may only look)."""
    if not (is_admin(context) or "member" in context.roles):
        raise PolicyNotAuthorized(action)


def owns(context: RequestContext, project_id: str | None) -> bool:
    if is_admin(context):
        return True
    return context.project_id is not None and project_id == context.project_id


def can_see_network(context: RequestContext, network: Network) -> bool:
    return network.shared or network.router_external or owns(context, network.project_id)


def can_see_subnet(context: RequestContext, subnet: Subnet) -> bool:
    return owns(context, subnet.project_id) or can_see_network(context, subnet.network)


def own_project_clause(context: RequestContext, column: Any) -> ColumnElement[bool]:
    """SQL condition "row belongs to the caller's project" (never true without a project)."""
    if context.project_id is None:
        return false()
    result: ColumnElement[bool] = column == context.project_id
    return result


def visible_network_clause(context: RequestContext) -> ColumnElement[bool]:
    return or_(
        Network.shared, Network.router_external, own_project_clause(context, Network.project_id)
    )


def project_for_create(context: RequestContext, body: dict[str, Any], action: str) -> str | None:
    """The project a new object belongs to: the caller's, or (admins only) the one asked for."""
    requested = body.get("project_id", body.get("tenant_id"))
    if requested is None or requested == context.project_id:
        return context.project_id
    if not is_admin(context):
        raise PolicyNotAuthorized(action)
    if not isinstance(requested, str) or len(requested) > 36:
        raise invalid_attribute("project_id", f"'{requested}' is not a valid project id")
    return requested
