"""Address allocation on subnets (Neutron's IPAM, in-database).

The `ip_allocation` primary key is the authority: a concurrent allocation of the same
address fails at flush and becomes a 409, so callers never see a double allocation.
"""

import ipaddress
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pier.api.network.address_pools import (
    IpAddress,
    candidates,
    is_host_address,
    parse_address,
    pools_from_rows,
)
from pier.api.network.neutron_errors import NeutronBadRequest, NeutronConflict, invalid_operation
from pier.db.tables.network import IpAllocation, Port, Subnet


def used_addresses(session: Session, subnet: Subnet) -> set[str]:
    """Allocated addresses plus the gateway, as canonical strings."""
    rows = session.scalars(
        select(IpAllocation.ip_address).where(IpAllocation.subnet_id == subnet.id)
    )
    used = set(rows)
    if subnet.gateway_ip:
        used.add(subnet.gateway_ip)
    return used


def free_addresses(session: Session, subnet: Subnet, wanted: int) -> list[IpAddress]:
    """Up to `wanted` free pool addresses, lowest first."""
    used = used_addresses(session, subnet)
    found: list[IpAddress] = []
    for address in candidates(pools_from_rows(subnet.allocation_pools)):
        if str(address) not in used:
            found.append(address)
            if len(found) == wanted:
                break
    return found


def in_use_error(subnet: Subnet, address: str) -> NeutronConflict:
    return NeutronConflict(
        "IpAddressInUse",
        f"Unable to complete operation for network {subnet.network_id}. "
        f"The IP address {address} is in use.",
    )


def allocate(session: Session, port: Port, subnet: Subnet, address: str | None = None) -> str:
    """Give `port` an address on `subnet`: the one asked for, or the lowest free pool address.

    A requested address may lie outside the pools but must be a host of the subnet.

    Raises:
        NeutronBadRequest: the requested address is not a host address of the subnet.
        NeutronConflict: the address is taken, or the pools are exhausted.
    """
    if address is None:
        free = free_addresses(session, subnet, 1)
        if not free:
            raise NeutronConflict(
                "IpAddressGenerationFailure",
                f"No more IP addresses available on network {subnet.network_id}.",
            )
        chosen = str(free[0])
    else:
        requested = parse_address("ip_address", address)
        if not is_host_address(ipaddress.ip_network(subnet.cidr), requested):
            raise NeutronBadRequest(
                f"IP address {address} is not a valid IP for the specified subnet.",
                kind="InvalidIpForSubnet",
            )
        chosen = str(requested)
        if chosen in used_addresses(session, subnet):
            raise in_use_error(subnet, chosen)
    port.ips.append(IpAllocation(subnet_id=subnet.id, ip_address=chosen, position=len(port.ips)))
    try:
        session.flush()
    except IntegrityError as exc:
        # Another transaction took the same address between our read and this write.
        raise in_use_error(subnet, chosen) from exc
    return chosen


def assign_fixed_ips(
    session: Session, port: Port, subnets: Sequence[Subnet], requested: object
) -> None:
    """Neutron's `fixed_ips` on port create: the requested entries, or one per IP version.

    `subnets` are the port network's subnets.
    """
    if requested is None:
        _assign_default(session, port, subnets)
        return
    if not isinstance(requested, list):
        raise NeutronBadRequest(
            f"Invalid input for fixed_ips. Reason: '{requested}' is not a list."
        )
    for item in requested:
        subnet = _subnet_for(port.network_id, subnets, item)
        allocate(session, port, subnet, item.get("ip_address"))


def _assign_default(session: Session, port: Port, subnets: Sequence[Subnet]) -> None:
    for version in (4, 6):
        of_version = [subnet for subnet in subnets if subnet.ip_version == version]
        if not of_version:
            continue
        subnet = next((s for s in of_version if free_addresses(session, s, 1)), of_version[0])
        allocate(session, port, subnet)


def _subnet_for(network_id: str, subnets: Sequence[Subnet], item: Any) -> Subnet:
    if not isinstance(item, dict) or not ({"subnet_id", "ip_address"} & set(item)):
        raise NeutronBadRequest(f"Invalid input for fixed_ips. Reason: '{item}' is not valid.")
    if item.get("subnet_id") is not None:
        for subnet in subnets:
            if subnet.id == item["subnet_id"]:
                return subnet
        raise invalid_operation(
            f"Failed to create port on network {network_id}, because fixed_ips included "
            f"invalid subnet {item['subnet_id']}"
        )
    address = parse_address("ip_address", item.get("ip_address"))
    for subnet in subnets:
        if is_host_address(ipaddress.ip_network(subnet.cidr), address):
            return subnet
    raise NeutronBadRequest(
        f"IP address {address} is not a valid IP for any of the subnets on the specified network.",
        kind="InvalidIpForNetwork",
    )
