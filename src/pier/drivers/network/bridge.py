"""The `bridge` network driver: each Pier network is a Linux bridge on this host, each subnet's
gateway address sits on its bridge (so the host routes between subnets and reaches them), and
an amphora is a network namespace (`pier.wire.netns`, where `pier agent --amphora-netns` runs
its HAProxy) with a veth into the VIP subnet's bridge carrying its VRRP address and the VIP.

Ports and addresses stay rows of Pier's Neutron subset (as with `records`); this driver makes
the host match them. `sync` makes a bridge for every network that has subnets and removes the
Pier bridges no network wants; `pier up` runs it at start and then every few seconds, so a
network or subnet created or deleted through the API appears or goes within that time, and a
restart adopts what is there.

Members on other subnets are reached through the host, which holds every subnet's gateway and
forwards between them. A floating IP associated with a port is an address of the host on the
external network's bridge and a DNAT (nft table `pier_floating_ips`) to the port's address.
Not yet: a veth per member subnet into the amphora, subnets whose ranges overlap (only the
first gets its gateway on the host).
"""

import ipaddress
import logging
from dataclasses import dataclass

from sqlalchemy import select

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import Amphora
from pier.db.tables.network import FloatingIp, Subnet
from pier.domain.enums import AmphoraStatus
from pier.domain.errors import PermanentDriverError
from pier.drivers.network import linux
from pier.drivers.network.base import VrrpPort
from pier.drivers.network.records import RecordsNetwork
from pier.wire.netns import amphora_namespace

log = logging.getLogger(__name__)

BRIDGE_PREFIX = "pbr-"  # + 11 characters of the network id: 15, the kernel's limit
VETH_PREFIX = "pva"  # + 12 hex digits of the amphora id
INNER = "eth0"  # the amphora's end, inside its namespace


def bridge_name(network_id: str) -> str:
    return BRIDGE_PREFIX + network_id.replace("-", "")[:11]


def veth_name(amphora_id: str) -> str:
    return VETH_PREFIX + amphora_id.replace("-", "")[:12]


@dataclass(frozen=True, slots=True)
class _Subnet:
    network_id: str
    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network
    gateway: str | None

    @property
    def gateway_address(self) -> str | None:
        """The gateway as `address/prefix`, as the host's bridge holds it."""
        return None if self.gateway is None else f"{self.gateway}/{self.cidr.prefixlen}"


class BridgeNetwork(RecordsNetwork):
    def __init__(self, sessions: SessionFactory) -> None:
        super().__init__(sessions)
        self._dnat: dict[str, str] | None = None  # what the NAT table holds, once written

    def ensure_vrrp_port(self, amphora_id: str, subnet_id: str | None) -> VrrpPort:
        port = super().ensure_vrrp_port(amphora_id, subnet_id)
        subnet = self._subnet(subnet_id)
        if port.address is None:
            raise PermanentDriverError(f"The VRRP port of amphora {amphora_id} has no address.")
        bridge = self._ensure_bridge(subnet)
        namespace = amphora_namespace(amphora_id)
        linux.ensure_namespace(namespace)
        linux.ensure_veth(veth_name(amphora_id), bridge, namespace, INNER)
        linux.ensure_address(INNER, f"{port.address}/{subnet.cidr.prefixlen}", namespace)
        if subnet.gateway is not None:
            linux.ensure_default_route(namespace, subnet.gateway)
        return port

    def ensure_vip(self, loadbalancer_id: str, address: str | None) -> None:
        """The VIP on every plugged amphora of the load balancer (its VRRP port made the veth)."""
        if address is None:
            raise PermanentDriverError(f"Load balancer {loadbalancer_id} has no VIP address.")
        with transaction(self._sessions, write=False) as session:
            amphorae = session.scalars(
                select(Amphora.id)
                .where(Amphora.loadbalancer_id == loadbalancer_id)
                .where(Amphora.status != AmphoraStatus.DELETED.value)
                .where(Amphora.vrrp_port_id.is_not(None))
            ).all()
        bits = ipaddress.ip_address(address).max_prefixlen
        for amphora_id in amphorae:
            namespace = amphora_namespace(amphora_id)
            if (linux.NETNS_DIR / namespace).exists():
                linux.ensure_address(INNER, f"{address}/{bits}", namespace)

    def release_vrrp_port(self, amphora_id: str) -> None:
        linux.delete_link(veth_name(amphora_id))  # gone already when its namespace went
        super().release_vrrp_port(amphora_id)

    def sync(self) -> None:
        """A bridge (with its gateways) for every network that has subnets; Pier bridges of
        networks that are gone are removed. One failing network does not stop the others.
        """
        linux.enable_forwarding()
        with transaction(self._sessions, write=False) as session:
            rows = session.execute(
                select(Subnet.network_id, Subnet.cidr, Subnet.gateway_ip).order_by(
                    Subnet.created_at, Subnet.id
                )
            ).all()
        subnets = [_Subnet(n, ipaddress.ip_network(c), g) for n, c, g in rows]
        routed: list[_Subnet] = []
        for subnet in subnets:
            try:
                self._ensure_bridge(subnet, routed)
            except Exception:
                log.exception("bridge not made", extra={"network_id": subnet.network_id})
        self._sync_floating_ips()
        wanted = {bridge_name(s.network_id) for s in subnets}
        for name, entry in linux.links().items():
            kind = entry.get("linkinfo", {}).get("info_kind")
            if name.startswith(BRIDGE_PREFIX) and kind == "bridge" and name not in wanted:
                linux.delete_link(name)
                log.info("bridge removed", extra={"bridge": name})

    def _sync_floating_ips(self) -> None:
        """Each associated floating IP: its address on the external network's bridge (so the
        host answers for it there) and a DNAT to the fixed address; nothing for the others.
        The NAT table is rewritten only when the set changed (or on the first sync).
        """
        with transaction(self._sessions, write=False) as session:
            rows = session.execute(
                select(
                    FloatingIp.floating_ip_address,
                    FloatingIp.fixed_ip_address,
                    FloatingIp.floating_network_id,
                ).where(FloatingIp.fixed_ip_address.is_not(None))
            ).all()
        rules = {floating: str(fixed) for floating, fixed, _ in rows}
        on_bridge = {(bridge_name(network), f"{floating}/32") for floating, _, network in rows}
        for bridge, address in on_bridge:
            linux.ensure_address(bridge, address)
        for name in linux.links():
            if name.startswith(BRIDGE_PREFIX):
                for address in linux.addresses(name):
                    if address.endswith("/32") and (name, address) not in on_bridge:
                        linux.delete_address(name, address)
        if rules != self._dnat:
            linux.apply_dnat(rules)
            self._dnat = rules
            log.info("floating IPs applied", extra={"floating_ips": len(rules)})

    def teardown_floating_ips(self) -> None:
        linux.delete_dnat()
        self._dnat = None

    def _ensure_bridge(self, subnet: _Subnet, routed: list[_Subnet] | None = None) -> str:
        """The network's bridge, up, with the subnet's gateway unless an overlapping subnet
        already has the host's route (the first one made keeps it).
        """
        bridge = bridge_name(subnet.network_id)
        linux.ensure_bridge(bridge)
        gateway = subnet.gateway_address
        if gateway is None:
            return bridge
        if routed is not None:
            overlapping = [
                other
                for other in routed
                if other.network_id != subnet.network_id and other.cidr.overlaps(subnet.cidr)
            ]
            if overlapping:
                log.warning(
                    "subnet overlaps another: the host does not route to it",
                    extra={"network_id": subnet.network_id, "cidr": str(subnet.cidr)},
                )
                return bridge
            routed.append(subnet)
        linux.ensure_address(bridge, gateway)
        return bridge

    def _subnet(self, subnet_id: str | None) -> _Subnet:
        with transaction(self._sessions, write=False) as session:
            row = None if subnet_id is None else session.get(Subnet, subnet_id)
            if row is None:
                raise PermanentDriverError(f"Subnet {subnet_id} could not be found.")
            return _Subnet(row.network_id, ipaddress.ip_network(row.cidr), row.gateway_ip)
