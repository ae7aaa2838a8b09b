"""Pure address arithmetic for subnets: usable hosts, default gateway and pools, validation.

Neutron's rules: in IPv4 the network and broadcast addresses are never handed out (except
in /31 and /32, RFC 3021); in IPv6 the subnet-router anycast address (the first) is skipped.
The default gateway is the first usable host; the default pool is every other usable host.
"""

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pier.api.network.neutron_errors import (
    NeutronBadRequest,
    NeutronConflict,
    invalid_attribute,
    invalid_operation,
)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_of(version: int, number: int) -> IpAddress:
    return ipaddress.IPv4Address(number) if version == 4 else ipaddress.IPv6Address(number)


@dataclass(frozen=True, slots=True)
class AddressRange:
    """An inclusive range of addresses of one IP version."""

    start: IpAddress
    end: IpAddress

    @property
    def size(self) -> int:
        return int(self.end) - int(self.start) + 1

    def contains(self, address: IpAddress) -> bool:
        return address.version == self.start.version and (
            int(self.start) <= int(address) <= int(self.end)
        )

    def overlaps(self, other: "AddressRange") -> bool:
        return int(self.start) <= int(other.end) and int(other.start) <= int(self.end)

    def without(self, address: IpAddress) -> list["AddressRange"]:
        """This range minus one address: zero, one or two ranges."""
        if not self.contains(address):
            return [self]
        version, point = address.version, int(address)
        parts = []
        if point > int(self.start):
            parts.append(AddressRange(self.start, address_of(version, point - 1)))
        if point < int(self.end):
            parts.append(AddressRange(address_of(version, point + 1), self.end))
        return parts

    def as_dict(self) -> dict[str, str]:
        return {"start": str(self.start), "end": str(self.end)}

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


def parse_cidr(value: object) -> IpNetwork:
    """A canonical network; host bits set is an error, as in Neutron's `type:subnet`."""
    if not isinstance(value, str) or "/" not in value:
        raise invalid_attribute("cidr", f"'{value}' is not a valid IP subnet")
    try:
        interface = ipaddress.ip_interface(value)
    except ValueError as exc:
        raise invalid_attribute("cidr", f"'{value}' is not a valid IP subnet") from exc
    network = interface.network
    if interface.ip != network.network_address:
        raise invalid_attribute(
            "cidr", f"'{value}' isn't a recognized IP subnet cidr, '{network}' is recommended"
        )
    return network


def parse_address(name: str, value: object) -> IpAddress:
    if not isinstance(value, str):
        raise invalid_attribute(name, f"'{value}' is not a valid IP address")
    try:
        return ipaddress.ip_address(value)
    except ValueError as exc:
        raise invalid_attribute(name, f"'{value}' is not a valid IP address") from exc


def host_range(network: IpNetwork) -> AddressRange:
    first, last = int(network.network_address), int(network.broadcast_address)
    if network.version == 4 and network.prefixlen <= 30:
        first, last = first + 1, last - 1
    elif network.version == 6 and network.prefixlen < 128:
        first += 1
    return AddressRange(address_of(network.version, first), address_of(network.version, last))


def is_host_address(network: IpNetwork, address: IpAddress) -> bool:
    return host_range(network).contains(address)


def default_gateway(network: IpNetwork) -> IpAddress | None:
    hosts = host_range(network)
    return hosts.start if hosts.size > 1 else None


def default_pools(network: IpNetwork, gateway: IpAddress | None) -> list[AddressRange]:
    hosts = host_range(network)
    return hosts.without(gateway) if gateway is not None else [hosts]


def parse_gateway(network: IpNetwork, value: object) -> IpAddress:
    address = parse_address("gateway_ip", value)
    if not is_host_address(network, address):
        raise invalid_operation("Gateway is not valid on subnet")
    return address


def parse_pools(network: IpNetwork, raw: object, gateway: IpAddress | None) -> list[AddressRange]:
    """Validate requested pools: well formed, inside the usable hosts, disjoint, gateway-free."""
    if not isinstance(raw, list):
        raise invalid_attribute("allocation_pools", f"'{raw}' is not a list")
    pools = [_parse_pool(network, item) for item in raw]
    for index, pool in enumerate(pools):
        for other in pools[index + 1 :]:
            if pool.overlaps(other):
                raise NeutronBadRequest(
                    f"Found overlapping allocation pools: {pool} {other} for subnet {network}.",
                    kind="OverlappingAllocationPools",
                )
    if gateway is not None:
        check_gateway_outside_pools(gateway, pools)
    return pools


def check_gateway_outside_pools(gateway: IpAddress, pools: Sequence[AddressRange]) -> None:
    for pool in pools:
        if pool.contains(gateway):
            raise NeutronConflict(
                "GatewayConflictWithAllocationPools",
                f"Gateway ip {gateway} conflicts with allocation pool {pool}.",
            )


def _parse_pool(network: IpNetwork, item: object) -> AddressRange:
    if not isinstance(item, dict) or set(item) != {"start", "end"}:
        raise invalid_attribute("allocation_pools", f"'{item}' is not a valid allocation pool")
    start = parse_address("allocation_pools", item["start"])
    end = parse_address("allocation_pools", item["end"])
    pool_text = f"{item['start']}-{item['end']}"
    if start.version != network.version or end.version != network.version or int(start) > int(end):
        raise NeutronBadRequest(
            f"The allocation pool {pool_text} is not valid.", kind="InvalidAllocationPool"
        )
    pool = AddressRange(start, end)
    hosts = host_range(network)
    if not (hosts.contains(start) and hosts.contains(end)):
        raise NeutronBadRequest(
            f"The allocation pool {pool} spans beyond the subnet cidr {network}.",
            kind="OutOfBoundsAllocationPool",
        )
    return pool


def pools_from_rows(rows: Sequence[dict[str, str]]) -> list[AddressRange]:
    """The stored `allocation_pools` JSON back as ranges (already validated on write)."""
    return [
        AddressRange(ipaddress.ip_address(row["start"]), ipaddress.ip_address(row["end"]))
        for row in rows
    ]


def candidates(pools: Sequence[AddressRange]) -> Iterator[IpAddress]:
    """Every pool address in order; lazy, so a /64 costs only what is consumed."""
    for pool in pools:
        for number in range(int(pool.start), int(pool.end) + 1):
            yield address_of(pool.start.version, number)
