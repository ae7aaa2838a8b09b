"""Member request fields (spec §4.4), single and batch (`{"members": [...]}`)."""

from typing import Any

from pier.api.schemas.fields import (
    IGNORE,
    Bool,
    Field,
    Int,
    IpAddress,
    ListOf,
    Nested,
    Schema,
    Str,
    Uuid,
)
from pier.domain.errors import InvalidInput

DEFAULT_WEIGHT = 1
PORT = Int(1, 65535)

MEMBER = Schema(
    wrapper="member",
    aliases={"tenant_id": "project_id"},
    fields={
        "name": Field(Str(255)),
        # An explicit null is false in Octavia (spec §1.4).
        "admin_state_up": Field(Bool(), default=True, null_create=False, on_null=False),
        "address": Field(IpAddress(), required=True, updatable=False),
        "protocol_port": Field(PORT, required=True, updatable=False),
        "weight": Field(
            Int(0, 256), default=DEFAULT_WEIGHT, null_create=DEFAULT_WEIGHT, on_null=DEFAULT_WEIGHT
        ),
        "backup": Field(Bool(), default=False, null_create=False, on_null=False),
        "subnet_id": Field(Uuid(), updatable=False),
        # Accepted for compatibility; members always take their load balancer's project.
        "project_id": Field(Str(36), updatable=False),
        "monitor_address": Field(IpAddress()),
        "monitor_port": Field(PORT),
        "request_sriov": Field(Bool(), default=False, null_create=False, updatable=False),
        "tags": Field(ListOf(Str(255)), on_null=IGNORE),
    },
)

MEMBERS_BATCH = Schema(
    wrapper="members_",
    fields={"members": Field(ListOf(Nested(MEMBER)), required=True)},
)


def parse_members_batch(body: Any) -> list[dict[str, Any]]:
    """The batch PUT body: every member parsed as a POST would be (defaults filled in)."""
    if not isinstance(body, dict):
        raise InvalidInput(
            "Invalid input for field/attribute members. Value: 'Unset'. Mandatory field missing."
        )
    members: list[dict[str, Any]] = MEMBERS_BATCH.parse_create(body, argument="members_")["members"]
    return members
