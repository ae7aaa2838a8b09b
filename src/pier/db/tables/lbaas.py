"""Tables of the load-balancer API.

Column names are the API's own (`admin_state_up`, not Octavia's `enabled`).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pier.db.base import Base, UtcDateTime, new_id, utcnow

ID = String(36)


class _Audited:
    """Columns every user-visible LBaaS object carries."""

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    project_id: Mapped[str | None] = mapped_column(String(36), index=True)
    provisioning_status: Mapped[str] = mapped_column(String(16), default="PENDING_CREATE")
    operating_status: Mapped[str] = mapped_column(String(16), default="OFFLINE")
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class LoadBalancer(_Audited, Base):
    __tablename__ = "loadbalancer"

    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    vip_address: Mapped[str | None] = mapped_column(String(64))
    vip_subnet_id: Mapped[str | None] = mapped_column(String(36))
    vip_network_id: Mapped[str | None] = mapped_column(String(36))
    vip_port_id: Mapped[str | None] = mapped_column(String(36))
    vip_qos_policy_id: Mapped[str | None] = mapped_column(String(36))
    vip_vnic_type: Mapped[str] = mapped_column(String(16), default="normal")
    vip_sg_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    additional_vips: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    provider: Mapped[str | None] = mapped_column(String(64))
    flavor_id: Mapped[str | None] = mapped_column(String(36))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    topology: Mapped[str] = mapped_column(String(16), default="SINGLE")
    # Why the last reconcile failed; shown in logs and `pier` tooling, never required by clients.
    status_reason: Mapped[str | None] = mapped_column(Text)

    listeners: Mapped[list["Listener"]] = relationship(
        back_populates="loadbalancer", order_by="Listener.created_at"
    )
    pools: Mapped[list["Pool"]] = relationship(
        back_populates="loadbalancer", order_by="Pool.created_at"
    )
    amphorae: Mapped[list["Amphora"]] = relationship(back_populates="loadbalancer")


class Listener(_Audited, Base):
    __tablename__ = "listener"

    loadbalancer_id: Mapped[str] = mapped_column(ForeignKey("loadbalancer.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    protocol: Mapped[str] = mapped_column(String(32))
    protocol_port: Mapped[int] = mapped_column(Integer)
    connection_limit: Mapped[int] = mapped_column(Integer, default=-1)
    default_pool_id: Mapped[str | None] = mapped_column(
        ForeignKey("pool.id", use_alter=True), index=True
    )
    default_tls_container_ref: Mapped[str | None] = mapped_column(String(255))
    sni_container_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    insert_headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    timeout_client_data: Mapped[int] = mapped_column(BigInteger, default=50000)
    timeout_member_connect: Mapped[int] = mapped_column(BigInteger, default=5000)
    timeout_member_data: Mapped[int] = mapped_column(BigInteger, default=50000)
    timeout_tcp_inspect: Mapped[int] = mapped_column(BigInteger, default=0)
    client_ca_tls_container_ref: Mapped[str | None] = mapped_column(String(255))
    client_authentication: Mapped[str] = mapped_column(String(16), default="NONE")
    client_crl_container_ref: Mapped[str | None] = mapped_column(String(255))
    allowed_cidrs: Mapped[list[str] | None] = mapped_column(JSON)
    tls_ciphers: Mapped[str | None] = mapped_column(String(2048))
    tls_versions: Mapped[list[str] | None] = mapped_column(JSON)
    alpn_protocols: Mapped[list[str] | None] = mapped_column(JSON)
    hsts_max_age: Mapped[int | None] = mapped_column(Integer)
    hsts_include_subdomains: Mapped[bool] = mapped_column(Boolean, default=False)
    hsts_preload: Mapped[bool] = mapped_column(Boolean, default=False)

    loadbalancer: Mapped[LoadBalancer] = relationship(back_populates="listeners")
    default_pool: Mapped["Pool | None"] = relationship(foreign_keys=[default_pool_id])
    l7policies: Mapped[list["L7Policy"]] = relationship(
        back_populates="listener", order_by="L7Policy.position"
    )


class Pool(_Audited, Base):
    __tablename__ = "pool"

    loadbalancer_id: Mapped[str] = mapped_column(ForeignKey("loadbalancer.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    protocol: Mapped[str] = mapped_column(String(32))
    lb_algorithm: Mapped[str] = mapped_column(String(32))
    # {"type", "cookie_name", "persistence_timeout", "persistence_granularity"} or None.
    session_persistence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tls_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    tls_container_ref: Mapped[str | None] = mapped_column(String(255))
    ca_tls_container_ref: Mapped[str | None] = mapped_column(String(255))
    crl_container_ref: Mapped[str | None] = mapped_column(String(255))
    tls_ciphers: Mapped[str | None] = mapped_column(String(2048))
    tls_versions: Mapped[list[str] | None] = mapped_column(JSON)
    alpn_protocols: Mapped[list[str] | None] = mapped_column(JSON)

    loadbalancer: Mapped[LoadBalancer] = relationship(back_populates="pools")
    members: Mapped[list["Member"]] = relationship(
        back_populates="pool", order_by="Member.created_at"
    )
    healthmonitor: Mapped["HealthMonitor | None"] = relationship(back_populates="pool")


class Member(_Audited, Base):
    __tablename__ = "member"

    pool_id: Mapped[str] = mapped_column(ForeignKey("pool.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(64))
    protocol_port: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    backup: Mapped[bool] = mapped_column(Boolean, default=False)
    subnet_id: Mapped[str | None] = mapped_column(String(36))
    monitor_address: Mapped[str | None] = mapped_column(String(64))
    monitor_port: Mapped[int | None] = mapped_column(Integer)
    vnic_type: Mapped[str] = mapped_column(String(16), default="normal")

    pool: Mapped[Pool] = relationship(back_populates="members")


class HealthMonitor(_Audited, Base):
    __tablename__ = "healthmonitor"

    pool_id: Mapped[str] = mapped_column(ForeignKey("pool.id"), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    delay: Mapped[int] = mapped_column(Integer)
    timeout: Mapped[int] = mapped_column(Integer)
    max_retries: Mapped[int] = mapped_column(Integer)
    max_retries_down: Mapped[int] = mapped_column(Integer, default=3)
    http_method: Mapped[str | None] = mapped_column(String(16))
    url_path: Mapped[str | None] = mapped_column(String(2048))
    expected_codes: Mapped[str | None] = mapped_column(String(64))
    http_version: Mapped[float | None] = mapped_column(Float)
    domain_name: Mapped[str | None] = mapped_column(String(255))

    pool: Mapped[Pool] = relationship(back_populates="healthmonitor")


class L7Policy(_Audited, Base):
    __tablename__ = "l7policy"

    listener_id: Mapped[str] = mapped_column(ForeignKey("listener.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    redirect_pool_id: Mapped[str | None] = mapped_column(ForeignKey("pool.id"), index=True)
    redirect_url: Mapped[str | None] = mapped_column(String(2048))
    redirect_prefix: Mapped[str | None] = mapped_column(String(2048))
    redirect_http_code: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=1)

    listener: Mapped[Listener] = relationship(back_populates="l7policies")
    redirect_pool: Mapped[Pool | None] = relationship(foreign_keys=[redirect_pool_id])
    rules: Mapped[list["L7Rule"]] = relationship(
        back_populates="l7policy", order_by="L7Rule.created_at"
    )


class L7Rule(_Audited, Base):
    __tablename__ = "l7rule"

    l7policy_id: Mapped[str] = mapped_column(ForeignKey("l7policy.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    compare_type: Mapped[str] = mapped_column(String(32))
    key: Mapped[str | None] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))
    invert: Mapped[bool] = mapped_column(Boolean, default=False)

    l7policy: Mapped[L7Policy] = relationship(back_populates="rules")


class Tag(Base):
    """Tags of any LBaaS object, one row per (object, tag): tag filters become EXISTS clauses."""

    __tablename__ = "tag"

    resource_id: Mapped[str] = mapped_column(ID, primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)


class Quota(Base):
    """Per-project limits; NULL means "use the configured default" (spec §4.9)."""

    __tablename__ = "quota"

    project_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    loadbalancer: Mapped[int | None] = mapped_column(Integer)
    listener: Mapped[int | None] = mapped_column(Integer)
    pool: Mapped[int | None] = mapped_column(Integer)
    healthmonitor: Mapped[int | None] = mapped_column(Integer)
    member: Mapped[int | None] = mapped_column(Integer)
    l7policy: Mapped[int | None] = mapped_column(Integer)
    l7rule: Mapped[int | None] = mapped_column(Integer)


class FlavorProfile(Base):
    __tablename__ = "flavorprofile"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    provider_name: Mapped[str] = mapped_column(String(255))
    flavor_data: Mapped[str] = mapped_column(String(4096))


class Flavor(Base):
    __tablename__ = "flavor"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    flavor_profile_id: Mapped[str] = mapped_column(ForeignKey("flavorprofile.id"))


class AvailabilityZoneProfile(Base):
    __tablename__ = "availability_zone_profile"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    provider_name: Mapped[str] = mapped_column(String(255))
    availability_zone_data: Mapped[str] = mapped_column(String(4096))


class AvailabilityZone(Base):
    __tablename__ = "availability_zone"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    availability_zone_profile_id: Mapped[str] = mapped_column(
        ForeignKey("availability_zone_profile.id")
    )


class Amphora(Base):
    __tablename__ = "amphora"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    loadbalancer_id: Mapped[str | None] = mapped_column(ForeignKey("loadbalancer.id"), index=True)
    compute_id: Mapped[str | None] = mapped_column(String(64))
    lb_network_ip: Mapped[str | None] = mapped_column(String(64))
    vrrp_ip: Mapped[str | None] = mapped_column(String(64))
    ha_ip: Mapped[str | None] = mapped_column(String(64))
    vrrp_port_id: Mapped[str | None] = mapped_column(String(36))
    ha_port_id: Mapped[str | None] = mapped_column(String(36))
    cert_expiration: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cert_busy: Mapped[bool] = mapped_column(Boolean, default=False)
    role: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(36), default="PENDING_CREATE")
    vrrp_interface: Mapped[str | None] = mapped_column(String(16))
    vrrp_id: Mapped[int | None] = mapped_column(Integer)
    vrrp_priority: Mapped[int | None] = mapped_column(Integer)
    cached_zone: Mapped[str | None] = mapped_column(String(255))
    image_id: Mapped[str | None] = mapped_column(String(36))
    compute_flavor: Mapped[str | None] = mapped_column(String(255))
    # sha256 of the configuration this amphora was last confirmed to run.
    config_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    loadbalancer: Mapped[LoadBalancer | None] = relationship(back_populates="amphorae")


class AmphoraHealth(Base):
    __tablename__ = "amphora_health"

    amphora_id: Mapped[str] = mapped_column(ID, primary_key=True)
    last_update: Mapped[datetime] = mapped_column(UtcDateTime)
    busy: Mapped[bool] = mapped_column(Boolean, default=False)


class ListenerStatistics(Base):
    __tablename__ = "listener_statistics"

    listener_id: Mapped[str] = mapped_column(ID, primary_key=True)
    amphora_id: Mapped[str] = mapped_column(ID, primary_key=True)
    bytes_in: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_out: Mapped[int] = mapped_column(BigInteger, default=0)
    active_connections: Mapped[int] = mapped_column(BigInteger, default=0)
    total_connections: Mapped[int] = mapped_column(BigInteger, default=0)
    request_errors: Mapped[int] = mapped_column(BigInteger, default=0)
