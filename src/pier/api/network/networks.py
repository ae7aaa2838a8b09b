"""Networks: admins create, change and delete them; everyone reads the ones they may see."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from pier.api.context import RequestContext
from pier.api.network.access import (
    can_see_network,
    is_admin,
    project_for_create,
    require_admin,
    visible_network_clause,
)
from pier.api.network.collection import Collection
from pier.api.network.fields import Body, flag, integer, reject_read_only, text
from pier.api.network.neutron_errors import NeutronConflict, NeutronNotFound
from pier.api.network.views import View, network_view
from pier.db.tables.network import Network, Port

MTU_RANGE = (68, 65535)


def network_not_found(network_id: str) -> NeutronNotFound:
    return NeutronNotFound("NetworkNotFound", f"Network {network_id} could not be found.")


def find_visible_network(
    session: Session, context: RequestContext, network_id: str
) -> Network | None:
    network = session.get(Network, network_id)
    if network is None or not can_see_network(context, network):
        return None
    return network


def get_visible_network(session: Session, context: RequestContext, network_id: str) -> Network:
    network = find_visible_network(session, context, network_id)
    if network is None:
        raise network_not_found(network_id)
    return network


def list_networks(session: Session, context: RequestContext) -> list[View]:
    query = select(Network).options(selectinload(Network.subnets))
    if not is_admin(context):
        query = query.where(visible_network_clause(context))
    networks = session.scalars(query.order_by(Network.created_at, Network.id))
    return [network_view(network) for network in networks]


def show_network(session: Session, context: RequestContext, network_id: str) -> View:
    return network_view(get_visible_network(session, context, network_id))


def create_network(session: Session, context: RequestContext, body: Body) -> View:
    require_admin(context, "create_network")
    network = Network(
        project_id=project_for_create(context, body, "create_network"),
        name=text(body, "name"),
        description=text(body, "description"),
        admin_state_up=flag(body, "admin_state_up", True),
        shared=flag(body, "shared", False),
        router_external=flag(body, "router:external", False),
        mtu=integer(body, "mtu", *MTU_RANGE) or 1500,
        subnets=[],
    )
    session.add(network)
    session.flush()
    return network_view(network)


def update_network(session: Session, context: RequestContext, network_id: str, body: Body) -> View:
    require_admin(context, "update_network")
    network = get_visible_network(session, context, network_id)
    reject_read_only(body, ("id", "project_id", "tenant_id", "subnets", "status"))
    if "name" in body:
        network.name = text(body, "name")
    if "description" in body:
        network.description = text(body, "description")
    network.admin_state_up = flag(body, "admin_state_up", network.admin_state_up)
    network.shared = flag(body, "shared", network.shared)
    network.router_external = flag(body, "router:external", network.router_external)
    network.mtu = integer(body, "mtu", *MTU_RANGE) or network.mtu
    network.touch()
    session.flush()
    return network_view(network)


def delete_network(session: Session, context: RequestContext, network_id: str) -> None:
    """Neutron deletes the subnets with the network, but never a network that has ports."""
    require_admin(context, "delete_network")
    network = get_visible_network(session, context, network_id)
    ports = session.scalar(select(func.count()).where(Port.network_id == network.id))
    if ports:
        raise NeutronConflict(
            "NetworkInUse",
            f"Unable to complete operation on network {network_id}. "
            "There are one or more ports still in use on the network.",
        )
    for subnet in list(network.subnets):
        session.delete(subnet)
    session.flush()
    session.delete(network)


NETWORKS = Collection(
    path="networks",
    singular="network",
    plural="networks",
    list_views=list_networks,
    show_view=show_network,
    create_view=create_network,
    update_view=update_network,
    delete=delete_network,
)
