"""Subnets: CIDR, gateway and allocation pools validated as Neutron does; admin-only writes."""

import ipaddress

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pier.api.context import RequestContext
from pier.api.network.access import (
    can_see_subnet,
    is_admin,
    own_project_clause,
    project_for_create,
    require_admin,
    visible_network_clause,
)
from pier.api.network.address_pools import (
    IpAddress,
    IpNetwork,
    check_gateway_outside_pools,
    default_gateway,
    default_pools,
    parse_address,
    parse_cidr,
    parse_gateway,
    parse_pools,
    pools_from_rows,
)
from pier.api.network.collection import Collection
from pier.api.network.fields import Body, flag, integer, reject_read_only, required, text
from pier.api.network.networks import get_visible_network
from pier.api.network.neutron_errors import (
    NeutronConflict,
    NeutronNotFound,
    invalid_attribute,
    invalid_operation,
)
from pier.api.network.views import View, subnet_view
from pier.db.tables.network import IpAllocation, Network, Subnet


def subnet_not_found(subnet_id: str) -> NeutronNotFound:
    return NeutronNotFound("SubnetNotFound", f"Subnet {subnet_id} could not be found.")


def get_visible_subnet(session: Session, context: RequestContext, subnet_id: str) -> Subnet:
    subnet = session.get(Subnet, subnet_id)
    if subnet is None or not can_see_subnet(context, subnet):
        raise subnet_not_found(subnet_id)
    return subnet


def list_subnets(session: Session, context: RequestContext) -> list[View]:
    query = select(Subnet).join(Subnet.network)
    if not is_admin(context):
        query = query.where(
            or_(own_project_clause(context, Subnet.project_id), visible_network_clause(context))
        )
    subnets = session.scalars(query.order_by(Subnet.created_at, Subnet.id))
    return [subnet_view(subnet) for subnet in subnets]


def show_subnet(session: Session, context: RequestContext, subnet_id: str) -> View:
    return subnet_view(get_visible_subnet(session, context, subnet_id))


def create_subnet(session: Session, context: RequestContext, body: Body) -> View:
    require_admin(context, "create_subnet")
    network = get_visible_network(session, context, required(body, "network_id"))
    cidr = parse_cidr(required(body, "cidr"))
    _check_ip_version(body, cidr)
    _check_no_overlap(network, cidr)
    if "gateway_ip" in body:
        gateway = None if body["gateway_ip"] is None else parse_gateway(cidr, body["gateway_ip"])
    else:
        gateway = default_gateway(cidr)
    if body.get("allocation_pools") is None:
        pools = default_pools(cidr, gateway)
    else:
        pools = parse_pools(cidr, body["allocation_pools"], gateway)
    subnet = Subnet(
        network=network,
        project_id=project_for_create(context, body, "create_subnet"),
        name=text(body, "name"),
        description=text(body, "description"),
        cidr=str(cidr),
        ip_version=cidr.version,
        gateway_ip=None if gateway is None else str(gateway),
        allocation_pools=[pool.as_dict() for pool in pools],
        enable_dhcp=flag(body, "enable_dhcp", True),
        dns_nameservers=_nameservers(body) or [],
        host_routes=_host_routes(body) or [],
    )
    session.add(subnet)
    session.flush()
    return subnet_view(subnet)


def update_subnet(session: Session, context: RequestContext, subnet_id: str, body: Body) -> View:
    require_admin(context, "update_subnet")
    subnet = get_visible_subnet(session, context, subnet_id)
    reject_read_only(body, ("id", "network_id", "cidr", "ip_version", "project_id", "tenant_id"))
    if "name" in body:
        subnet.name = text(body, "name")
    if "description" in body:
        subnet.description = text(body, "description")
    subnet.enable_dhcp = flag(body, "enable_dhcp", subnet.enable_dhcp)
    if "dns_nameservers" in body:
        subnet.dns_nameservers = _nameservers(body) or []
    if "host_routes" in body:
        subnet.host_routes = _host_routes(body) or []
    if "gateway_ip" in body or "allocation_pools" in body:
        _update_addressing(session, subnet, body)
    subnet.touch()
    session.flush()
    return subnet_view(subnet)


def delete_subnet(session: Session, context: RequestContext, subnet_id: str) -> None:
    require_admin(context, "delete_subnet")
    subnet = get_visible_subnet(session, context, subnet_id)
    if session.scalar(select(IpAllocation.port_id).where(IpAllocation.subnet_id == subnet.id)):
        raise NeutronConflict(
            "SubnetInUse",
            f"Unable to complete operation on subnet {subnet_id}: "
            "One or more ports have an IP allocation from this subnet.",
        )
    session.delete(subnet)


def _update_addressing(session: Session, subnet: Subnet, body: Body) -> None:
    cidr = ipaddress.ip_network(subnet.cidr)
    gateway: IpAddress | None
    if "gateway_ip" in body:
        gateway = None if body["gateway_ip"] is None else parse_gateway(cidr, body["gateway_ip"])
    else:
        gateway = None if subnet.gateway_ip is None else ipaddress.ip_address(subnet.gateway_ip)
    if body.get("allocation_pools") is not None:
        pools = parse_pools(cidr, body["allocation_pools"], gateway)
    else:
        pools = pools_from_rows(subnet.allocation_pools)
        if gateway is not None:
            check_gateway_outside_pools(gateway, pools)
    new_gateway = None if gateway is None else str(gateway)
    if new_gateway is not None and new_gateway != subnet.gateway_ip:
        holder = session.scalar(
            select(IpAllocation.port_id).where(
                IpAllocation.subnet_id == subnet.id, IpAllocation.ip_address == new_gateway
            )
        )
        if holder is not None:
            raise NeutronConflict(
                "GatewayIpInUse",
                f"Current gateway ip {new_gateway} already in use by port {holder}. "
                "Unable to update.",
            )
    subnet.gateway_ip = new_gateway
    subnet.allocation_pools = [pool.as_dict() for pool in pools]


def _check_ip_version(body: Body, cidr: IpNetwork) -> None:
    version = integer(body, "ip_version", 0, 255)
    if version is None:
        return
    if version not in (4, 6):
        raise invalid_attribute("ip_version", f"'{version}' is not in [4, 6]")
    if version != cidr.version:
        raise invalid_operation(f"Cidr {cidr} does not match ip_version {version}")


def _check_no_overlap(network: Network, cidr: IpNetwork) -> None:
    for other in network.subnets:
        other_cidr = ipaddress.ip_network(other.cidr)
        if other_cidr.version == cidr.version and other_cidr.overlaps(cidr):
            raise invalid_operation(
                f"Requested subnet with cidr: {cidr} for network: {network.id} "
                "overlaps with another subnet"
            )


def _nameservers(body: Body) -> list[str] | None:
    raw = body.get("dns_nameservers")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise invalid_attribute("dns_nameservers", f"'{raw}' is not a list")
    return [str(parse_address("dns_nameservers", item)) for item in raw]


def _host_routes(body: Body) -> list[dict[str, str]] | None:
    raw = body.get("host_routes")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise invalid_attribute("host_routes", f"'{raw}' is not a list")
    routes = []
    for route in raw:
        if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
            raise invalid_attribute("host_routes", f"'{route}' is not a valid host route")
        try:
            destination = ipaddress.ip_network(route["destination"], strict=False)
        except (TypeError, ValueError) as exc:
            raise invalid_attribute("host_routes", f"'{route}' is not a valid host route") from exc
        nexthop = parse_address("host_routes", route["nexthop"])
        routes.append({"destination": str(destination), "nexthop": str(nexthop)})
    return routes


SUBNETS = Collection(
    path="subnets",
    singular="subnet",
    plural="subnets",
    list_views=list_subnets,
    show_view=show_subnet,
    create_view=create_subnet,
    update_view=update_subnet,
    delete=delete_subnet,
)
