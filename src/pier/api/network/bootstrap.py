"""The shared external network every project can put a load balancer on: `public` with
IPv4 subnet `public-subnet`. With the `loopback` network driver the subnet is
`Settings.loopback_vip_cidr` (in 127.0.0.0/8), so VIPs allocated from it are addresses this
host's amphorae can bind; with `bridge` it is `Settings.bridge_public_cidr` (198.18.0.0/24,
a bridge on this host); otherwise 198.51.100.0/24, a documentation range that never clashes
with a real network.
"""

import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api.network.address_pools import default_pools
from pier.db.engine import SessionFactory, transaction
from pier.db.tables.network import Network, Subnet
from pier.settings import Settings

PUBLIC_NETWORK_NAME = "public"
PUBLIC_SUBNET_NAME = "public-subnet"
PUBLIC_CIDR = "198.51.100.0/24"


def ensure_public_network(
    sessions: SessionFactory, settings: Settings, *, project_id: str | None = None
) -> None:
    """Create `public`/`public-subnet` unless they exist; safe to call on every start.

    `project_id` is the admin project that owns them (none by default); `router:external`
    is what makes them visible to every project, as in Neutron.
    """
    cidr = {
        "loopback": settings.loopback_vip_cidr,
        "bridge": settings.bridge_public_cidr,
    }.get(settings.network_driver, PUBLIC_CIDR)
    with transaction(sessions) as session:
        network = _ensure_network(session, project_id)
        _ensure_subnet(session, network, project_id, ipaddress.IPv4Network(cidr))


def _ensure_network(session: Session, project_id: str | None) -> Network:
    network = session.scalars(
        select(Network)
        .where(Network.name == PUBLIC_NETWORK_NAME, Network.router_external)
        .order_by(Network.created_at)
    ).first()
    if network is None:
        network = Network(
            name=PUBLIC_NETWORK_NAME,
            project_id=project_id,
            shared=False,
            router_external=True,
            subnets=[],
        )
        session.add(network)
        session.flush()
    return network


def _ensure_subnet(
    session: Session, network: Network, project_id: str | None, cidr: ipaddress.IPv4Network
) -> None:
    if any(subnet.name == PUBLIC_SUBNET_NAME for subnet in network.subnets):
        return
    gateway = next(cidr.hosts())
    session.add(
        Subnet(
            network=network,
            project_id=project_id,
            name=PUBLIC_SUBNET_NAME,
            cidr=str(cidr),
            ip_version=4,
            gateway_ip=str(gateway),
            allocation_pools=[pool.as_dict() for pool in default_pools(cidr, gateway)],
            enable_dhcp=False,
        )
    )
