"""Load-balancer VIPs: resolve the requested port/network/subnet/address to one address and
a port, with Octavia's rules and messages (octavia-api.md §4.1, §2.2).

Runs inside the caller's transaction (the load-balancer create), so a failed create never
leaves a port behind. With `accept_any_subnet`, ids that do not exist are accepted the way
Octavia's noop network driver accepts them (tempest's `test_with_noop`, clients.md §4.3).
"""

import ipaddress
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pier.api.context import RequestContext
from pier.api.network.access import can_see_network, can_see_subnet, owns
from pier.api.network.ipam import free_addresses
from pier.api.network.neutron_errors import NeutronConflict
from pier.api.network.port_store import create_port, delete_port
from pier.db.tables.network import Network, Port, Subnet
from pier.domain.errors import Conflict, InvalidInput

# tempest's fixed noop VIP; the noop driver tracks nothing, so every noop LB may share it.
NOOP_VIP_ADDRESS = "198.18.33.33"
VIP_DEVICE_OWNER = "Octavia"
_NOOP_NAMESPACE = uuid.UUID("5b0d7a52-5f0c-4d47-8f3e-0c6c2b1f9a11")


@dataclass(frozen=True, slots=True)
class VipAllocation:
    address: str
    subnet_id: str
    network_id: str
    port_id: str
    # True when Pier created the port, so `release_vip` deletes it instead of detaching it.
    created_by_pier: bool = False


def find_subnet(session: Session, subnet_id: str) -> Subnet | None:
    """The subnet, if it exists. Callers apply `accept_any_subnet` themselves."""
    return session.get(Subnet, subnet_id)


def allocate_vip(
    session: Session,
    *,
    project_id: str | None,
    subnet_id: str | None,
    network_id: str | None,
    port_id: str | None,
    address: str | None,
    loadbalancer_id: str,
    accept_any_subnet: bool,
    caller_is_admin: bool = False,
) -> VipAllocation:
    """Resolve and reserve the VIP. Precedence is Octavia's: port, then network, then subnet.

    Objects the load balancer's project may not see (unless `caller_is_admin`) count as
    missing, as Octavia looks them up with the caller's credentials.

    Raises:
        InvalidInput: a missing port/network/subnet, a port already in use, an address that
            does not fit, or nothing to allocate from.
        Conflict: the address is taken, or the subnet has no free address.
    """
    if not (port_id or network_id or subnet_id):
        raise InvalidInput(
            "Validation failure: VIP must contain one of: vip_port_id, vip_network_id, "
            "vip_subnet_id."
        )
    if accept_any_subnet and not _primary_exists(session, port_id, network_id, subnet_id):
        return _noop_vip(subnet_id, network_id, port_id, address)
    viewer = RequestContext(project_id=project_id, is_admin=caller_is_admin)
    if port_id:
        return _use_existing_port(session, viewer, port_id, subnet_id, address, loadbalancer_id)
    if network_id:
        subnet = _pick_subnet_on_network(session, viewer, network_id, subnet_id, address)
    else:
        subnet = _get_subnet(session, viewer, str(subnet_id))
    return _create_vip_port(session, subnet, project_id, address, loadbalancer_id)


def release_vip(session: Session, port_id: str | None, created_by_pier: bool) -> None:
    """Delete the VIP port Pier created (freeing its address), or detach a user's port.

    Idempotent: a missing port is fine. A port that does not look like one Pier made
    (owner `Octavia`, name `octavia-lb-...`) is only detached, whatever `created_by_pier`
    says, so a caller's mistake can never delete a user's own port.
    """
    port = session.get(Port, port_id) if port_id else None
    if port is None:
        return
    if created_by_pier and _is_vip_port(port):
        delete_port(session, port)
        return
    port.device_id = ""
    port.touch()
    session.flush()


def _is_vip_port(port: Port) -> bool:
    return port.device_owner == VIP_DEVICE_OWNER and port.name.startswith("octavia-lb-")


def _primary_exists(
    session: Session, port_id: str | None, network_id: str | None, subnet_id: str | None
) -> bool:
    if port_id:
        return session.get(Port, port_id) is not None
    if network_id:
        return session.get(Network, network_id) is not None
    return session.get(Subnet, str(subnet_id)) is not None


def _noop_vip(
    subnet_id: str | None, network_id: str | None, port_id: str | None, address: str | None
) -> VipAllocation:
    """What Octavia's noop driver answers: the given ids, made-up stable ones for the rest."""
    seed = subnet_id or network_id or port_id or ""
    return VipAllocation(
        address=address or NOOP_VIP_ADDRESS,
        subnet_id=subnet_id or str(uuid.uuid5(_NOOP_NAMESPACE, f"subnet:{seed}")),
        network_id=network_id or str(uuid.uuid5(_NOOP_NAMESPACE, f"network:{seed}")),
        port_id=port_id or str(uuid.uuid4()),
        created_by_pier=port_id is None,
    )


def _get_subnet(session: Session, viewer: RequestContext, subnet_id: str) -> Subnet:
    subnet = session.get(Subnet, subnet_id)
    if subnet is None or not can_see_subnet(viewer, subnet):
        raise InvalidInput(f"Subnet {subnet_id} not found.")
    return subnet


def _use_existing_port(
    session: Session,
    viewer: RequestContext,
    port_id: str,
    subnet_id: str | None,
    address: str | None,
    loadbalancer_id: str,
) -> VipAllocation:
    port = session.get(Port, port_id)
    if port is None or not owns(viewer, port.project_id):
        raise InvalidInput(f"Port {port_id} not found.")
    if port.device_id:
        raise InvalidInput(
            f"Validation failure: Port {port_id} is already used by device {port.device_id}"
        )
    fixed_ips = port.fixed_ips
    if subnet_id:
        _get_subnet(session, viewer, subnet_id)
        fixed_ips = [ip for ip in fixed_ips if ip["subnet_id"] == subnet_id]
        if address:
            fixed_ips = [ip for ip in fixed_ips if _same_address(ip["ip_address"], address)]
        if not fixed_ips:
            raise InvalidInput(
                "Validation failure: No VIP address found on the specified VIP port within "
                "the specified subnet."
            )
    elif address:
        fixed_ips = [ip for ip in fixed_ips if _same_address(ip["ip_address"], address)]
        if not fixed_ips:
            raise InvalidInput(
                "Validation failure: Specified VIP address not found on the specified VIP port."
            )
    elif len(fixed_ips) != 1:
        raise InvalidInput(
            "Validation failure: VIP port's subnet could not be determined. Please specify "
            "either a VIP subnet or address."
        )
    port.device_id = loadbalancer_id
    port.touch()
    session.flush()
    chosen = fixed_ips[0]
    return VipAllocation(chosen["ip_address"], chosen["subnet_id"], port.network_id, port.id)


def _pick_subnet_on_network(
    session: Session,
    viewer: RequestContext,
    network_id: str,
    subnet_id: str | None,
    address: str | None,
) -> Subnet:
    network = session.get(Network, network_id)
    if network is None or not can_see_network(viewer, network):
        raise InvalidInput(f"Network {network_id} not found.")
    if subnet_id:
        for subnet in network.subnets:
            if subnet.id == subnet_id:
                return subnet
        raise InvalidInput(f"Subnet {subnet_id} not found.")
    if address:
        for subnet in network.subnets:
            if _in_cidr(address, subnet.cidr):
                return subnet
        raise InvalidInput(
            "Validation failure: Supplied network does not contain a subnet for VIP address "
            "specified."
        )
    if not network.subnets:
        raise InvalidInput("Validation failure: Supplied network does not contain a subnet.")
    with_room = [subnet for subnet in network.subnets if free_addresses(session, subnet, 1)]
    if not with_room:
        raise InvalidInput(
            "Validation failure: Subnet(s) in the supplied network do not contain enough "
            "available IPs."
        )
    return next((subnet for subnet in with_room if subnet.ip_version == 4), with_room[0])


def _create_vip_port(
    session: Session,
    subnet: Subnet,
    project_id: str | None,
    address: str | None,
    loadbalancer_id: str,
) -> VipAllocation:
    """Octavia's VIP port: `octavia-lb-<id>`, owner `Octavia`, administratively down."""
    request = {"subnet_id": subnet.id} | ({"ip_address": address} if address else {})
    try:
        port = create_port(
            session,
            subnet.network,
            project_id=project_id,
            fixed_ips=[request],
            name=f"octavia-lb-{loadbalancer_id}",
            device_id=loadbalancer_id,
            device_owner=VIP_DEVICE_OWNER,
            admin_state_up=False,
        )
    except NeutronConflict as exc:
        if exc.kind == "IpAddressInUse":
            raise Conflict(
                "The VIP IP address is already in use: IP address "
                f"{address} already allocated in subnet {subnet.id}"
            ) from exc
        raise Conflict(exc.message) from exc
    except InvalidInput as exc:
        raise InvalidInput(exc.message) from exc
    chosen = port.ips[0]
    return VipAllocation(chosen.ip_address, subnet.id, subnet.network_id, port.id, True)


def _same_address(left: str, right: str) -> bool:
    try:
        return ipaddress.ip_address(left) == ipaddress.ip_address(right)
    except ValueError:
        return False


def _in_cidr(address: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(cidr)
    except ValueError:
        return False
