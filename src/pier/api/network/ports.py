"""Ports: members create and manage ports in their own project on networks they can see."""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pier.api.context import RequestContext
from pier.api.network.access import (
    is_admin,
    own_project_clause,
    owns,
    project_for_create,
    require_member,
)
from pier.api.network.collection import Collection
from pier.api.network.fields import Body, flag, reject_read_only, required, string_list, text
from pier.api.network.networks import get_visible_network
from pier.api.network.neutron_errors import NeutronConflict, NeutronNotFound
from pier.api.network.port_store import (
    FLOATINGIP_OWNER,
    create_port,
    delete_port,
    replace_fixed_ips,
)
from pier.api.network.security_groups import get_visible_security_group
from pier.api.network.views import View, port_view
from pier.db.tables.network import Port


def port_not_found(port_id: str) -> NeutronNotFound:
    return NeutronNotFound("PortNotFound", f"Port {port_id} could not be found.")


def get_visible_port(session: Session, context: RequestContext, port_id: str) -> Port:
    port = session.get(Port, port_id)
    if port is None or not owns(context, port.project_id):
        raise port_not_found(port_id)
    return port


def list_ports(session: Session, context: RequestContext) -> list[View]:
    query = select(Port).options(selectinload(Port.ips))
    if not is_admin(context):
        query = query.where(own_project_clause(context, Port.project_id))
    return [port_view(port) for port in session.scalars(query.order_by(Port.created_at, Port.id))]


def show_port(session: Session, context: RequestContext, port_id: str) -> View:
    return port_view(get_visible_port(session, context, port_id))


def create_port_view(session: Session, context: RequestContext, body: Body) -> View:
    require_member(context, "create_port")
    project_id = project_for_create(context, body, "create_port")
    network = get_visible_network(session, context, required(body, "network_id"))
    port = create_port(
        session,
        network,
        project_id=project_id,
        fixed_ips=body.get("fixed_ips"),
        name=text(body, "name"),
        description=text(body, "description"),
        device_id=text(body, "device_id"),
        device_owner=text(body, "device_owner"),
        admin_state_up=flag(body, "admin_state_up", True),
        security_groups=_security_groups(session, context, body) or [],
        mac_address=text(body, "mac_address", max_length=32) or None,
    )
    session.flush()
    return port_view(port)


def update_port(session: Session, context: RequestContext, port_id: str, body: Body) -> View:
    require_member(context, "update_port")
    port = get_visible_port(session, context, port_id)
    reject_read_only(body, ("id", "network_id", "project_id", "tenant_id", "mac_address"))
    for key in ("name", "description", "device_id", "device_owner"):
        if key in body:
            setattr(port, key, text(body, key))
    port.admin_state_up = flag(body, "admin_state_up", port.admin_state_up)
    if "security_groups" in body:
        port.security_groups = _security_groups(session, context, body) or []
    if "fixed_ips" in body:
        replace_fixed_ips(session, port, body["fixed_ips"])
    port.touch()
    session.flush()
    return port_view(port)


def delete_port_view(session: Session, context: RequestContext, port_id: str) -> None:
    require_member(context, "delete_port")
    port = get_visible_port(session, context, port_id)
    if port.device_owner == FLOATINGIP_OWNER:
        raise NeutronConflict(
            "ServicePortInUse",
            f"Port {port_id} cannot be deleted directly via the port API: "
            f"has device owner {FLOATINGIP_OWNER}.",
        )
    delete_port(session, port)


def _security_groups(session: Session, context: RequestContext, body: Body) -> list[str] | None:
    groups = string_list(body, "security_groups")
    for group_id in groups or []:
        get_visible_security_group(session, context, group_id)
    return groups


PORTS = Collection(
    path="ports",
    singular="port",
    plural="ports",
    list_views=list_ports,
    show_view=show_port,
    create_view=create_port_view,
    update_view=update_port,
    delete=delete_port_view,
)
