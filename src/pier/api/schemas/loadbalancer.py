"""Load balancer request fields (spec §4.1)."""

from pier.api.schemas.fields import (
    IGNORE,
    Bool,
    Field,
    IpAddress,
    ListOf,
    Nested,
    RawObject,
    Schema,
    Str,
    Uuid,
)

ADDITIONAL_VIP = Schema(
    wrapper="additional_vip",
    fields={
        "subnet_id": Field(Uuid(), required=True),
        "ip_address": Field(IpAddress()),
        "port_id": Field(Uuid()),
    },
)

LOADBALANCER = Schema(
    wrapper="loadbalancer",
    aliases={"tenant_id": "project_id"},
    fields={
        "name": Field(Str(255)),
        "description": Field(Str(255)),
        # An explicit null is false in Octavia (spec §1.4).
        "admin_state_up": Field(Bool(), default=True, null_create=False, on_null=False),
        "project_id": Field(Str(36), updatable=False),
        "vip_subnet_id": Field(Uuid(), updatable=False),
        "vip_network_id": Field(Uuid(), updatable=False),
        "vip_port_id": Field(Uuid(), updatable=False),
        "vip_address": Field(IpAddress(), updatable=False),
        "vip_qos_policy_id": Field(Uuid()),
        "vip_sg_ids": Field(ListOf(Uuid()), on_null=[]),
        "additional_vips": Field(ListOf(Nested(ADDITIONAL_VIP)), default=list, updatable=False),
        # Validated by the single-call create with the listener and pool schemas.
        "listeners": Field(ListOf(RawObject()), default=list, updatable=False),
        "pools": Field(ListOf(RawObject()), default=list, updatable=False),
        "provider": Field(Str(64), updatable=False),
        "flavor_id": Field(Uuid(), updatable=False),
        "availability_zone": Field(Str(255), updatable=False),
        "tags": Field(ListOf(Str(255)), on_null=IGNORE),
    },
)
