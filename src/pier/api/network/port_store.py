"""Creating, re-addressing and deleting port rows; shared by the port API, floating IPs and VIPs.

A port's addresses are `IpAllocation` rows owned by it, so deleting the port frees them.
Floating IPs associated with a port are disassociated when it goes or loses that address.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api.network.ipam import assign_fixed_ips
from pier.api.network.neutron_errors import NeutronBadRequest
from pier.db.base import new_id
from pier.db.tables.network import FloatingIp, IpAllocation, Network, Port

FLOATINGIP_OWNER = "network:floatingip"


def mac_for(port_id: str) -> str:
    """A stable MAC in OpenStack's fa:16:3e prefix, derived from the port id."""
    tail = uuid.UUID(port_id).bytes[-3:]
    return "fa:16:3e:" + ":".join(f"{byte:02x}" for byte in tail)


def create_port(
    session: Session,
    network: Network,
    *,
    project_id: str | None,
    fixed_ips: object = None,
    name: str = "",
    description: str = "",
    device_id: str = "",
    device_owner: str = "",
    admin_state_up: bool = True,
    security_groups: Sequence[str] = (),
    mac_address: str | None = None,
) -> Port:
    """Add a port and allocate its addresses (`fixed_ips` as in Neutron's port create)."""
    port_id = new_id()
    port = Port(
        id=port_id,
        network=network,
        project_id=project_id,
        name=name,
        description=description,
        device_id=device_id,
        device_owner=device_owner,
        admin_state_up=admin_state_up,
        security_groups=list(security_groups),
        mac_address=mac_address or mac_for(port_id),
        ips=[],
    )
    session.add(port)
    assign_fixed_ips(session, port, network.subnets, fixed_ips)
    return port


def replace_fixed_ips(session: Session, port: Port, requested: object) -> None:
    """Neutron's `fixed_ips` update: keep requested addresses the port already has (an entry
    with only a `subnet_id` keeps the port's address on that subnet), free the rest, then
    allocate what is new.
    """
    if not isinstance(requested, list) or not all(isinstance(item, dict) for item in requested):
        raise NeutronBadRequest(f"Invalid input for fixed_ips. Reason: '{requested}' is not valid.")
    kept: list[IpAllocation] = []
    new: list[dict[str, str]] = []
    for item in requested:
        match = next((ip for ip in port.ips if ip not in kept and _same(ip, item)), None)
        if match is None:
            new.append(item)
        else:
            kept.append(match)
    port.ips = kept
    for position, allocation in enumerate(kept):
        allocation.position = position
    session.flush()
    subnets = port.network.subnets
    if new:
        assign_fixed_ips(session, port, subnets, new)
    addresses = {ip.ip_address for ip in port.ips}
    for floatingip in associated_floatingips(session, port):
        if floatingip.fixed_ip_address not in addresses:
            disassociate(floatingip)


def _same(allocation: IpAllocation, item: dict[str, str]) -> bool:
    if "ip_address" in item:
        return (
            item["ip_address"] == allocation.ip_address
            and item.get("subnet_id", allocation.subnet_id) == allocation.subnet_id
        )
    return item.get("subnet_id") == allocation.subnet_id


def associated_floatingips(session: Session, port: Port) -> list[FloatingIp]:
    return list(session.scalars(select(FloatingIp).where(FloatingIp.port_id == port.id)))


def disassociate(floatingip: FloatingIp) -> None:
    floatingip.port_id = None
    floatingip.fixed_ip_address = None
    floatingip.router_id = None
    floatingip.status = "DOWN"
    floatingip.touch()


def delete_port(session: Session, port: Port) -> None:
    """Delete the port and free its addresses; floating IPs pointing at it are disassociated."""
    for floatingip in associated_floatingips(session, port):
        disassociate(floatingip)
    session.flush()
    session.delete(port)
    session.flush()
