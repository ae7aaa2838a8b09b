"""Each amphora's own "base"/VRRP port on its load balancer's VIP network (octavia-api.md §7).

Octavia names it `octavia-lb-vrrp-<amphora id>`, owner `Octavia`; the amphora's `vrrp_port_id`
and `vrrp_ip` are its id and address. With `accept_any_subnet`, a VIP subnet Pier does not hold
gets a made-up stable port id and Octavia's noop network driver's address, as that driver does.
"""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api.network.port_store import create_port, delete_port
from pier.api.network.vip import VIP_DEVICE_OWNER
from pier.db.tables.network import Port, Subnet

NOOP_VRRP_ADDRESS = "198.51.100.1"
_NOOP_NAMESPACE = uuid.UUID("0f1b9a3e-6c52-4d1e-9a57-3f3f0c6a7b21")


def vrrp_port_name(amphora_id: str) -> str:
    return f"octavia-lb-vrrp-{amphora_id}"


def _find(session: Session, amphora_id: str) -> Port | None:
    query = select(Port).where(
        Port.device_id == amphora_id, Port.name == vrrp_port_name(amphora_id)
    )
    return session.scalars(query).first()


def ensure_vrrp_port(
    session: Session, amphora_id: str, subnet_id: str | None
) -> tuple[str, str | None]:
    """(port id, address) of the amphora's VRRP port, created on the VIP subnet if missing.

    Raises:
        InvalidInput / NeutronConflict: the subnet has no free address.
    """
    existing = _find(session, amphora_id)
    if existing is not None:
        return existing.id, existing.ips[0].ip_address if existing.ips else None
    subnet = session.get(Subnet, subnet_id) if subnet_id else None
    if subnet is None:
        return str(uuid.uuid5(_NOOP_NAMESPACE, amphora_id)), NOOP_VRRP_ADDRESS
    port = create_port(
        session,
        subnet.network,
        project_id=None,  # Octavia's service project owns it, not the load balancer's
        fixed_ips=[{"subnet_id": subnet.id}],
        name=vrrp_port_name(amphora_id),
        device_id=amphora_id,
        device_owner=VIP_DEVICE_OWNER,
    )
    return port.id, port.ips[0].ip_address if port.ips else None


def release_vrrp_port(session: Session, amphora_id: str) -> None:
    """Delete the amphora's VRRP port, if it has one."""
    port = _find(session, amphora_id)
    if port is not None:
        delete_port(session, port)
