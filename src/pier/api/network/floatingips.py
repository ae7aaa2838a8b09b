"""Floating IPs: an address on an external network, held by a hidden `network:floatingip`
port, optionally associated with one fixed IP of a project port.
"""

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api.context import RequestContext
from pier.api.network.access import (
    is_admin,
    own_project_clause,
    owns,
    project_for_create,
    require_member,
)
from pier.api.network.collection import Collection
from pier.api.network.fields import Body, reject_read_only, required, text
from pier.api.network.ipam import free_addresses
from pier.api.network.networks import get_visible_network
from pier.api.network.neutron_errors import (
    NeutronBadRequest,
    NeutronConflict,
    NeutronNotFound,
    bad_request,
)
from pier.api.network.port_store import FLOATINGIP_OWNER, create_port, delete_port, disassociate
from pier.api.network.ports import port_not_found
from pier.api.network.views import View, floatingip_view
from pier.db.base import new_id
from pier.db.tables.network import FloatingIp, Network, Port


def floatingip_not_found(floatingip_id: str) -> NeutronNotFound:
    return NeutronNotFound("FloatingIPNotFound", f"Floating IP {floatingip_id} could not be found")


def get_visible_floatingip(
    session: Session, context: RequestContext, floatingip_id: str
) -> FloatingIp:
    floatingip = session.get(FloatingIp, floatingip_id)
    if floatingip is None or not owns(context, floatingip.project_id):
        raise floatingip_not_found(floatingip_id)
    return floatingip


def list_floatingips(session: Session, context: RequestContext) -> list[View]:
    query = select(FloatingIp)
    if not is_admin(context):
        query = query.where(own_project_clause(context, FloatingIp.project_id))
    rows = session.scalars(query.order_by(FloatingIp.created_at, FloatingIp.id))
    return [floatingip_view(row) for row in rows]


def show_floatingip(session: Session, context: RequestContext, floatingip_id: str) -> View:
    return floatingip_view(get_visible_floatingip(session, context, floatingip_id))


def create_floatingip(session: Session, context: RequestContext, body: Body) -> View:
    require_member(context, "create_floatingip")
    project_id = project_for_create(context, body, "create_floatingip")
    network = get_visible_network(session, context, required(body, "floating_network_id"))
    if not network.router_external:
        raise bad_request("floatingip", f"Network {network.id} is not a valid external network.")
    floatingip = FloatingIp(
        id=new_id(),
        project_id=project_id,
        floating_network_id=network.id,
        description=text(body, "description"),
    )
    port = _allocate_floating_port(session, network, floatingip.id, body)
    floatingip.floating_port_id = port.id
    floatingip.floating_ip_address = port.ips[0].ip_address
    session.add(floatingip)
    if body.get("port_id") is not None:
        associate(session, context, floatingip, str(body["port_id"]), body.get("fixed_ip_address"))
    session.flush()
    return floatingip_view(floatingip)


def update_floatingip(
    session: Session, context: RequestContext, floatingip_id: str, body: Body
) -> View:
    require_member(context, "update_floatingip")
    floatingip = get_visible_floatingip(session, context, floatingip_id)
    reject_read_only(
        body, ("id", "project_id", "tenant_id", "floating_network_id", "floating_ip_address")
    )
    if "description" in body:
        floatingip.description = text(body, "description")
    if "port_id" in body and body["port_id"] is None:
        disassociate(floatingip)
    elif body.get("port_id") is not None or (floatingip.port_id and "fixed_ip_address" in body):
        port_id = str(body.get("port_id") or floatingip.port_id)
        associate(session, context, floatingip, port_id, body.get("fixed_ip_address"))
    floatingip.touch()
    session.flush()
    return floatingip_view(floatingip)


def delete_floatingip(session: Session, context: RequestContext, floatingip_id: str) -> None:
    require_member(context, "delete_floatingip")
    floatingip = get_visible_floatingip(session, context, floatingip_id)
    port = session.get(Port, floatingip.floating_port_id) if floatingip.floating_port_id else None
    session.delete(floatingip)
    session.flush()
    if port is not None:
        delete_port(session, port)


def associate(
    session: Session,
    context: RequestContext,
    floatingip: FloatingIp,
    port_id: str,
    fixed_ip_address: Any,
) -> None:
    """Point the floating IP at one fixed IP of a port (the first IPv4 one by default)."""
    port = session.get(Port, port_id)
    if port is None or not owns(context, port.project_id):
        raise port_not_found(port_id)
    addresses = [ip.ip_address for ip in port.ips]
    if fixed_ip_address is None:
        ipv4 = [a for a in addresses if ipaddress.ip_address(a).version == 4]
        if not ipv4:
            raise bad_request(
                "floatingip",
                f"Cannot add floating IP to port {port_id} that has no fixed IPv4 addresses",
            )
        fixed_ip_address = ipv4[0]
    elif fixed_ip_address not in addresses:
        raise bad_request("floatingip", f"Port {port_id} does not have fixed ip {fixed_ip_address}")
    taken = session.scalar(
        select(FloatingIp.id).where(
            FloatingIp.port_id == port_id,
            FloatingIp.fixed_ip_address == fixed_ip_address,
            FloatingIp.id != floatingip.id,
        )
    )
    if taken is not None:
        raise NeutronConflict(
            "FloatingIPPortAlreadyAssociated",
            f"Cannot associate floating IP {floatingip.floating_ip_address} ({floatingip.id}) "
            f"with port {port_id} using fixed IP {fixed_ip_address}, as that fixed IP already "
            f"has a floating IP on external network {floatingip.floating_network_id}.",
        )
    floatingip.port_id = port_id
    floatingip.fixed_ip_address = fixed_ip_address
    floatingip.status = "ACTIVE"


def _allocate_floating_port(
    session: Session, network: Network, floatingip_id: str, body: Body
) -> Port:
    """The hidden port that holds the address; it belongs to no project, as in Neutron."""
    request: dict[str, Any] = {}
    if body.get("subnet_id") is not None:
        request["subnet_id"] = body["subnet_id"]
    if body.get("floating_ip_address") is not None:
        request["ip_address"] = body["floating_ip_address"]
    if not request:
        request["subnet_id"] = _subnet_with_room(session, network)
    try:
        port = create_port(
            session,
            network,
            project_id=None,
            fixed_ips=[request],
            device_id=floatingip_id,
            device_owner=FLOATINGIP_OWNER,
        )
    except NeutronConflict as exc:
        if getattr(exc, "kind", None) == "IpAddressGenerationFailure":
            raise _exhausted(network) from exc
        raise
    port.status = "N/A"
    return port


def _subnet_with_room(session: Session, network: Network) -> str:
    for subnet in network.subnets:
        if subnet.ip_version == 4 and free_addresses(session, subnet, 1):
            return subnet.id
    raise _exhausted(network)


def _exhausted(network: Network) -> NeutronBadRequest:
    return NeutronBadRequest(
        f"Unable to find any IP address on external network {network.id}.",
        kind="ExternalIpAddressExhausted",
    )


FLOATINGIPS = Collection(
    path="floatingips",
    singular="floatingip",
    plural="floatingips",
    list_views=list_floatingips,
    show_view=show_floatingip,
    create_view=create_floatingip,
    update_view=update_floatingip,
    delete=delete_floatingip,
)
