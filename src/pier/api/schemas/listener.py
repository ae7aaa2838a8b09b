"""Listener request fields (spec §4.2): standalone POST/PUT and the single-call form (§4.1.1).

Defaults that depend on the protocol (TLS ciphers, versions, ALPN) are filled in by the
mutation, not here: the schema cannot see the protocol of an existing listener on PUT.
"""

import functools
from dataclasses import dataclass
from typing import Any

from pier.api.schemas.fields import (
    IGNORE,
    Bool,
    Cidr,
    Enum,
    Field,
    FieldType,
    Int,
    ListOf,
    RawObject,
    Schema,
    Str,
    StrDict,
    Uuid,
    invalid,
)
from pier.domain.enums import ClientAuthentication, ListenerProtocol

# `[haproxy_amphora] timeout_*` defaults, in milliseconds (spec §4.2, §13).
DEFAULT_TIMEOUTS = {
    "timeout_client_data": 50000,
    "timeout_member_connect": 5000,
    "timeout_member_data": 50000,
    "timeout_tcp_inspect": 0,
}
MAX_TIMEOUT = 24 * 24 * 60 * 60 * 1000
DEFAULT_CONNECTION_LIMIT = -1
ALPN_PROTOCOLS = ("h2", "http/1.1", "http/1.0")
DEFAULT_TLS_CIPHERS = (
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
)
DEFAULT_TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")
TLS_ALL_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
# `insert_headers` keys (spec §4.8): the SSL ones only on TERMINATED_HTTPS listeners.
HTTP_HEADERS = (
    "X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto", "X-Forwarded-IP", "X-Client-IP",
    "X-Real-IP",
)  # fmt: skip
SSL_HEADERS = (
    "X-SSL-Client-Verify", "X-SSL-Client-Has-Cert", "X-SSL-Client-DN", "X-SSL-Client-CN",
    "X-SSL-Issuer", "X-SSL-Client-SHA1", "X-SSL-Client-Not-Before", "X-SSL-Client-Not-After",
)  # fmt: skip
NONE_AUTH = ClientAuthentication.NONE.value


@dataclass(frozen=True)
class AlpnProtocol(FieldType):
    """One ALPN protocol id, with Octavia's AlpnProtocolType message."""

    def parse(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in ALPN_PROTOCOLS:
            raise invalid(name, value, "Value should be a valid ALPN protocol ID")
        return value


TIMEOUT = Int(0, MAX_TIMEOUT)


def _timeout(name: str) -> Field:
    default = DEFAULT_TIMEOUTS[name]
    return Field(TIMEOUT, default=default, null_create=default, on_null=default)


def _common_fields() -> dict[str, Field]:
    """Fields shared by the standalone and the single-call forms."""
    return {
        "name": Field(Str(255)),
        "description": Field(Str(255)),
        # An explicit null is false in Octavia (spec §1.4).
        "admin_state_up": Field(Bool(), default=True, null_create=False, on_null=False),
        "protocol": Field(
            Enum(tuple(p.value for p in ListenerProtocol)), required=True, updatable=False
        ),
        "protocol_port": Field(Int(1, 65535), required=True, updatable=False),
        "connection_limit": Field(
            Int(minimum=-1),
            default=DEFAULT_CONNECTION_LIMIT,
            null_create=DEFAULT_CONNECTION_LIMIT,
            on_null=DEFAULT_CONNECTION_LIMIT,
        ),
        # null on PUT detaches the default pool.
        "default_pool_id": Field(Uuid()),
        "default_pool": Field(RawObject(), updatable=False),
        "l7policies": Field(ListOf(RawObject()), default=list, null_create=[], updatable=False),
        "default_tls_container_ref": Field(Str(255)),
        "sni_container_refs": Field(ListOf(Str(255)), default=list, null_create=[], on_null=[]),
        "insert_headers": Field(StrDict(255), default=dict, null_create={}, on_null={}),
        **{name: _timeout(name) for name in DEFAULT_TIMEOUTS},
        "client_ca_tls_container_ref": Field(Str(255)),
        "client_authentication": Field(
            Enum(tuple(a.value for a in ClientAuthentication)),
            default=NONE_AUTH,
            null_create=NONE_AUTH,
            on_null=NONE_AUTH,
        ),
        "client_crl_container_ref": Field(Str(255)),
        "allowed_cidrs": Field(ListOf(Cidr())),
        # null on PUT resets to the default for TLS listeners (the mutation knows which).
        "tls_ciphers": Field(Str(2048)),
        "tls_versions": Field(ListOf(Str(32))),
        "alpn_protocols": Field(ListOf(AlpnProtocol())),
        "hsts_max_age": Field(Int(minimum=0)),
        "hsts_include_subdomains": Field(Bool(), default=False, null_create=False, on_null=False),
        "hsts_preload": Field(Bool(), default=False, null_create=False, on_null=False),
        "tags": Field(ListOf(Str(255)), on_null=IGNORE),
    }


LISTENER = Schema(
    wrapper="listener",
    aliases={"tenant_id": "project_id"},
    fields={
        **_common_fields(),
        "loadbalancer_id": Field(Uuid(), required=True, updatable=False),
        # Accepted for compatibility; listeners always take their load balancer's project.
        "project_id": Field(Str(36), updatable=False),
    },
)

# A listener inside `{"loadbalancer": {"listeners": [...]}}`: no loadbalancer_id, no project.
LISTENER_SINGLE_CREATE = Schema(wrapper="listener", fields=_common_fields())


def without(schema: Schema, *names: str, **extra: Field) -> Schema:
    """`schema` minus some fields (and their aliases), plus `extra`: single-call variants."""
    fields = {name: spec for name, spec in schema.fields.items() if name not in names}
    aliases = {alias: name for alias, name in schema.aliases.items() if name in fields}
    return Schema(wrapper=schema.wrapper, fields={**fields, **extra}, aliases=aliases)


# The nested L7 schemas belong to other modules; imported when first needed so this module
# does not depend on their load order.
@functools.cache
def l7policy_single_create() -> Schema:
    """An L7 policy in a single-call listener: `redirect_pool` (spec or name) replaces
    `redirect_pool_id`; `rules` are parsed with `l7rule_single_create`.
    """
    from pier.api.schemas.l7policy import L7POLICY

    return without(
        L7POLICY, "listener_id", "redirect_pool_id", "project_id", redirect_pool=Field(RawObject())
    )


@functools.cache
def l7rule_single_create() -> Schema:
    from pier.api.schemas.l7rule import L7RULE

    return without(L7RULE, "project_id")
