"""Pool request fields (spec §4.3): standalone POST/PUT and the single-call form (§4.1.1).

`session_persistence` is a nested object; on PUT its `type` may be omitted (the stored type
is kept), so the update schema nests a variant without the mandatory type.
"""

import functools

from pier.api.schemas.fields import (
    IGNORE,
    REJECT,
    Bool,
    Enum,
    Field,
    Int,
    IpAddress,
    ListOf,
    Nested,
    RawObject,
    Schema,
    Str,
    Uuid,
)
from pier.api.schemas.listener import AlpnProtocol, without
from pier.domain.enums import LbAlgorithm, PoolProtocol, SessionPersistenceType

# Octavia's SessionPersistencePOST pattern: no whitespace, `,`, `;` or backslash.
COOKIE_NAME_PATTERN = r"^[^\s,;\\]+$"
SESSION_PERSISTENCE_TYPES = tuple(t.value for t in SessionPersistenceType)


def _session_persistence(type_required: bool) -> Schema:
    return Schema(
        wrapper="session_persistence",
        fields={
            "type": Field(Enum(SESSION_PERSISTENCE_TYPES), required=type_required),
            "cookie_name": Field(Str(255, pattern=COOKIE_NAME_PATTERN)),
            "persistence_timeout": Field(Int()),
            "persistence_granularity": Field(IpAddress()),
        },
    )


SESSION_PERSISTENCE = _session_persistence(type_required=True)
SESSION_PERSISTENCE_UPDATE = _session_persistence(type_required=False)


def _common_fields(required: bool, session_persistence: Schema) -> dict[str, Field]:
    return {
        "name": Field(Str(255)),
        "description": Field(Str(255)),
        # An explicit null is false in Octavia (spec §1.4).
        "admin_state_up": Field(Bool(), default=True, null_create=False, on_null=False),
        "protocol": Field(
            Enum(tuple(p.value for p in PoolProtocol)), required=required, updatable=False
        ),
        "lb_algorithm": Field(
            Enum(tuple(a.value for a in LbAlgorithm)), required=required, on_null=REJECT
        ),
        # null removes the persistence.
        "session_persistence": Field(Nested(session_persistence)),
        "tags": Field(ListOf(Str(255)), on_null=IGNORE),
        "tls_enabled": Field(Bool(), default=False, null_create=False, on_null=False),
        "tls_container_ref": Field(Str(255)),
        "ca_tls_container_ref": Field(Str(255)),
        "crl_container_ref": Field(Str(255)),
        "tls_ciphers": Field(Str(2048)),
        "tls_versions": Field(ListOf(Str(32))),
        "alpn_protocols": Field(ListOf(AlpnProtocol())),
    }


def _children() -> dict[str, Field]:
    """Single-call children; validated later by the health monitor and member schemas."""
    return {
        "healthmonitor": Field(RawObject(), updatable=False),
        "members": Field(ListOf(RawObject()), default=list, null_create=[], updatable=False),
    }


POOL = Schema(
    wrapper="pool",
    aliases={"tenant_id": "project_id"},
    fields={
        **_common_fields(required=True, session_persistence=SESSION_PERSISTENCE),
        **_children(),
        "loadbalancer_id": Field(Uuid(), updatable=False),
        "listener_id": Field(Uuid(), updatable=False),
        # Accepted for compatibility; pools always take their load balancer's project.
        "project_id": Field(Str(36), updatable=False),
    },
)

POOL_UPDATE = Schema(
    wrapper="pool",
    aliases={"tenant_id": "project_id"},
    fields={
        **_common_fields(required=True, session_persistence=SESSION_PERSISTENCE_UPDATE),
        **_children(),
        "loadbalancer_id": Field(Uuid(), updatable=False),
        "listener_id": Field(Uuid(), updatable=False),
        "project_id": Field(Str(36), updatable=False),
    },
)

# A pool inside a single-call create. `protocol` and `lb_algorithm` are checked by the graph
# (a `{"name": ...}` reference carries neither).
POOL_SINGLE_CREATE = Schema(
    wrapper="pool",
    fields={
        **_common_fields(required=False, session_persistence=SESSION_PERSISTENCE),
        **_children(),
    },
)


# The nested schemas belong to other modules; imported when first needed so this module does
# not depend on their load order.
@functools.cache
def healthmonitor_single_create() -> Schema:
    """A monitor inside a single-call pool: its pool is the enclosing one."""
    from pier.api.schemas.healthmonitor import HEALTHMONITOR

    return without(HEALTHMONITOR, "pool_id", "project_id")


@functools.cache
def member_single_create() -> Schema:
    from pier.api.schemas.member import MEMBER

    return without(MEMBER, "project_id")
