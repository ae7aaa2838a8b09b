import ipaddress

import pytest

from pier.api.network.address_pools import (
    AddressRange,
    candidates,
    default_gateway,
    default_pools,
    host_range,
    parse_cidr,
    parse_gateway,
    parse_pools,
)
from pier.api.network.neutron_errors import NeutronBadRequest, NeutronConflict


def net(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr)


def as_text(pools: list[AddressRange]) -> list[str]:
    return [str(pool) for pool in pools]


@pytest.mark.parametrize(
    ("cidr", "hosts"),
    [
        ("10.0.0.0/24", "10.0.0.1-10.0.0.254"),
        ("10.0.0.0/30", "10.0.0.1-10.0.0.2"),
        ("10.0.0.0/31", "10.0.0.0-10.0.0.1"),
        ("10.0.0.7/32", "10.0.0.7-10.0.0.7"),
        ("2001:db8::/126", "2001:db8::1-2001:db8::3"),
    ],
)
def test_host_range_skips_network_and_broadcast(cidr: str, hosts: str) -> None:
    assert str(host_range(net(cidr))) == hosts


def test_defaults_are_first_host_gateway_and_the_rest_as_pool() -> None:
    network = net("192.168.1.0/24")
    gateway = default_gateway(network)
    assert str(gateway) == "192.168.1.1"
    assert as_text(default_pools(network, gateway)) == ["192.168.1.2-192.168.1.254"]
    assert as_text(default_pools(network, None)) == ["192.168.1.1-192.168.1.254"]


def test_a_single_address_subnet_has_no_default_gateway() -> None:
    assert default_gateway(net("10.0.0.7/32")) is None


def test_gateway_in_the_middle_splits_the_pool() -> None:
    network = net("10.0.0.0/29")
    pools = default_pools(network, ipaddress.ip_address("10.0.0.3"))
    assert as_text(pools) == ["10.0.0.1-10.0.0.2", "10.0.0.4-10.0.0.6"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("10.0.0.0/33", "is not a valid IP subnet"),
        ("banana", "is not a valid IP subnet"),
        ("10.0.0.0", "is not a valid IP subnet"),
        (42, "is not a valid IP subnet"),
        ("10.0.0.5/24", "'10.0.0.0/24' is recommended"),
    ],
)
def test_parse_cidr_rejects_bad_values(value: object, reason: str) -> None:
    with pytest.raises(NeutronBadRequest, match=reason) as caught:
        parse_cidr(value)
    assert caught.value.message.startswith("Invalid input for cidr. Reason: ")


def test_parse_cidr_accepts_ipv6() -> None:
    assert str(parse_cidr("2001:db8::/64")) == "2001:db8::/64"


def test_gateway_must_be_a_host_of_the_subnet() -> None:
    with pytest.raises(NeutronBadRequest, match="Gateway is not valid on subnet"):
        parse_gateway(net("10.0.0.0/24"), "10.0.1.1")
    with pytest.raises(NeutronBadRequest, match="Gateway is not valid on subnet"):
        parse_gateway(net("10.0.0.0/24"), "10.0.0.255")
    assert str(parse_gateway(net("10.0.0.0/24"), "10.0.0.254")) == "10.0.0.254"


def test_parse_pools_accepts_valid_disjoint_pools() -> None:
    pools = parse_pools(
        net("10.0.0.0/24"),
        [{"start": "10.0.0.10", "end": "10.0.0.20"}, {"start": "10.0.0.30", "end": "10.0.0.30"}],
        ipaddress.ip_address("10.0.0.1"),
    )
    assert as_text(pools) == ["10.0.0.10-10.0.0.20", "10.0.0.30-10.0.0.30"]


@pytest.mark.parametrize(
    ("pools", "kind", "text"),
    [
        (
            [{"start": "10.0.0.20", "end": "10.0.0.10"}],
            "InvalidAllocationPool",
            "The allocation pool 10.0.0.20-10.0.0.10 is not valid.",
        ),
        (
            [{"start": "10.0.0.250", "end": "10.0.1.5"}],
            "OutOfBoundsAllocationPool",
            "spans beyond the subnet cidr 10.0.0.0/24.",
        ),
        ([{"start": "10.0.0.0", "end": "10.0.0.5"}], "OutOfBoundsAllocationPool", "spans beyond"),
        (
            [{"start": "10.0.0.2", "end": "10.0.0.9"}, {"start": "10.0.0.5", "end": "10.0.0.12"}],
            "OverlappingAllocationPools",
            "Found overlapping allocation pools",
        ),
        ([{"start": "2001:db8::1", "end": "2001:db8::5"}], "InvalidAllocationPool", "is not valid"),
        ([{"start": "10.0.0.2"}], "HTTPBadRequest", "Invalid input for allocation_pools"),
    ],
)
def test_parse_pools_rejects(pools: object, kind: str, text: str) -> None:
    with pytest.raises(NeutronBadRequest) as caught:
        parse_pools(net("10.0.0.0/24"), pools, None)
    assert caught.value.kind == kind
    assert text in caught.value.message


def test_gateway_inside_a_pool_conflicts() -> None:
    with pytest.raises(NeutronConflict, match="Gateway ip 10.0.0.5 conflicts with allocation"):
        parse_pools(
            net("10.0.0.0/24"),
            [{"start": "10.0.0.2", "end": "10.0.0.9"}],
            ipaddress.ip_address("10.0.0.5"),
        )


def test_candidates_walk_pools_lazily_in_order() -> None:
    pools = [
        AddressRange(ipaddress.ip_address("10.0.0.9"), ipaddress.ip_address("10.0.0.10")),
        AddressRange(ipaddress.ip_address("10.0.0.2"), ipaddress.ip_address("10.0.0.2")),
    ]
    assert [str(a) for a in candidates(pools)] == ["10.0.0.9", "10.0.0.10", "10.0.0.2"]
    huge = [host_range(net("2001:db8::/64"))]
    assert str(next(iter(candidates(huge)))) == "2001:db8::1"
