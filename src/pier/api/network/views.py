"""Rows to Neutron's JSON shapes (`tenant_id` mirrors `project_id`, timestamps end in Z)."""

from datetime import datetime
from typing import Any

from pier.db.tables.network import (
    FloatingIp,
    Network,
    Port,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)

View = dict[str, Any]


def _timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _standard(
    row: Network | Subnet | Port | FloatingIp | SecurityGroup | SecurityGroupRule,
) -> View:
    return {
        "id": row.id,
        "project_id": row.project_id,
        "tenant_id": row.project_id,
        "description": row.description,
        "tags": [],
        "created_at": _timestamp(row.created_at),
        "updated_at": _timestamp(row.updated_at),
        "revision_number": row.revision_number,
    }


def network_view(network: Network) -> View:
    return {
        **_standard(network),
        "name": network.name,
        "admin_state_up": network.admin_state_up,
        "status": network.status,
        "subnets": [subnet.id for subnet in network.subnets],
        "shared": network.shared,
        "router:external": network.router_external,
        "mtu": network.mtu,
        "availability_zone_hints": [],
        "availability_zones": [],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
    }


def subnet_view(subnet: Subnet) -> View:
    return {
        **_standard(subnet),
        "name": subnet.name,
        "network_id": subnet.network_id,
        "ip_version": subnet.ip_version,
        "cidr": subnet.cidr,
        "gateway_ip": subnet.gateway_ip,
        "allocation_pools": [dict(pool) for pool in subnet.allocation_pools],
        "enable_dhcp": subnet.enable_dhcp,
        "dns_nameservers": list(subnet.dns_nameservers),
        "host_routes": [dict(route) for route in subnet.host_routes],
        "ipv6_ra_mode": None,
        "ipv6_address_mode": None,
        "subnetpool_id": None,
        "service_types": [],
    }


def port_view(port: Port) -> View:
    return {
        **_standard(port),
        "name": port.name,
        "network_id": port.network_id,
        "mac_address": port.mac_address,
        "admin_state_up": port.admin_state_up,
        "status": port.status,
        "device_id": port.device_id,
        "device_owner": port.device_owner,
        "fixed_ips": port.fixed_ips,
        "security_groups": list(port.security_groups),
        "allowed_address_pairs": [],
        "extra_dhcp_opts": [],
    }


def floatingip_view(floatingip: FloatingIp) -> View:
    return {
        **_standard(floatingip),
        "floating_network_id": floatingip.floating_network_id,
        "floating_ip_address": floatingip.floating_ip_address,
        "fixed_ip_address": floatingip.fixed_ip_address,
        "port_id": floatingip.port_id,
        "router_id": floatingip.router_id,
        "status": floatingip.status,
    }


def security_group_rule_view(rule: SecurityGroupRule) -> View:
    return {
        **_standard(rule),
        "security_group_id": rule.security_group_id,
        "direction": rule.direction,
        "ethertype": rule.ethertype,
        "protocol": rule.protocol,
        "port_range_min": rule.port_range_min,
        "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix,
        "remote_group_id": rule.remote_group_id,
    }


def security_group_view(group: SecurityGroup) -> View:
    return {
        **_standard(group),
        "name": group.name,
        "stateful": True,
        "security_group_rules": [security_group_rule_view(rule) for rule in group.rules],
    }
