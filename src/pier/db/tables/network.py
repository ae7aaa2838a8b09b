"""Tables of the Neutron-compatible network subset (owned by pier.api.network).

Addresses live in `ip_allocation`, whose primary key (subnet_id, ip_address) is the one
guarantee that no address is handed out twice, even by two API processes racing on
PostgreSQL, MariaDB or SQLite.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pier.db.base import Base, UtcDateTime, new_id, utcnow

ID = String(36)


class _Standard:
    """Neutron's standard attributes: every object carries them."""

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    project_id: Mapped[str | None] = mapped_column(String(36), index=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    revision_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def touch(self) -> None:
        """Record a change the way Neutron does: new `updated_at`, next revision."""
        self.updated_at = utcnow()
        self.revision_number += 1


class Network(_Standard, Base):
    __tablename__ = "network"

    name: Mapped[str] = mapped_column(String(255), default="")
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    router_external: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    mtu: Mapped[int] = mapped_column(Integer, default=1500)

    subnets: Mapped[list["Subnet"]] = relationship(
        back_populates="network", order_by="Subnet.created_at"
    )


class Subnet(_Standard, Base):
    __tablename__ = "subnet"

    name: Mapped[str] = mapped_column(String(255), default="")
    network_id: Mapped[str] = mapped_column(ForeignKey("network.id"), index=True)
    cidr: Mapped[str] = mapped_column(String(64))
    ip_version: Mapped[int] = mapped_column(Integer)
    gateway_ip: Mapped[str | None] = mapped_column(String(64))
    # [{"start": ip, "end": ip}], ordered; allocation walks them in this order.
    allocation_pools: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    dns_nameservers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Each route is a destination CIDR and a nexthop address.
    host_routes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)

    network: Mapped[Network] = relationship(back_populates="subnets")


class Port(_Standard, Base):
    __tablename__ = "port"

    name: Mapped[str] = mapped_column(String(255), default="")
    network_id: Mapped[str] = mapped_column(ForeignKey("network.id"), index=True)
    # Neutron stores "" (not NULL) for an unowned port; `?device_id=` filters rely on it.
    device_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    device_owner: Mapped[str] = mapped_column(String(255), default="")
    mac_address: Mapped[str] = mapped_column(String(32))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    security_groups: Mapped[list[str]] = mapped_column(JSON, default=list)

    network: Mapped[Network] = relationship()
    ips: Mapped[list["IpAllocation"]] = relationship(
        back_populates="port", order_by="IpAllocation.position", cascade="all, delete-orphan"
    )

    @property
    def fixed_ips(self) -> list[dict[str, str]]:
        """Neutron's `fixed_ips`, in allocation order."""
        return [{"subnet_id": ip.subnet_id, "ip_address": ip.ip_address} for ip in self.ips]


class IpAllocation(Base):
    """One address of one port. The primary key makes double allocation impossible."""

    __tablename__ = "ip_allocation"

    subnet_id: Mapped[str] = mapped_column(ForeignKey("subnet.id"), primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    port_id: Mapped[str] = mapped_column(ForeignKey("port.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    port: Mapped[Port] = relationship(back_populates="ips")


class FloatingIp(_Standard, Base):
    __tablename__ = "floatingip"

    floating_network_id: Mapped[str] = mapped_column(ForeignKey("network.id"), index=True)
    floating_ip_address: Mapped[str] = mapped_column(String(64))
    # The hidden `network:floatingip` port that holds the address on the external subnet.
    floating_port_id: Mapped[str | None] = mapped_column(ForeignKey("port.id"))
    port_id: Mapped[str | None] = mapped_column(ForeignKey("port.id"), index=True)
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64))
    router_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), default="DOWN")


class SecurityGroup(_Standard, Base):
    __tablename__ = "security_group"

    name: Mapped[str] = mapped_column(String(255), default="")

    rules: Mapped[list["SecurityGroupRule"]] = relationship(
        back_populates="security_group",
        order_by="SecurityGroupRule.created_at",
        cascade="all, delete-orphan",
    )


class SecurityGroupRule(_Standard, Base):
    __tablename__ = "security_group_rule"

    security_group_id: Mapped[str] = mapped_column(ForeignKey("security_group.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(8), default="IPv4")
    protocol: Mapped[str | None] = mapped_column(String(40))
    port_range_min: Mapped[int | None] = mapped_column(Integer)
    port_range_max: Mapped[int | None] = mapped_column(Integer)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64))
    remote_group_id: Mapped[str | None] = mapped_column(String(36))

    security_group: Mapped[SecurityGroup] = relationship(back_populates="rules")


__all__ = [
    "FloatingIp",
    "IpAllocation",
    "Network",
    "Port",
    "SecurityGroup",
    "SecurityGroupRule",
    "Subnet",
]
