"""L7 policy request fields (spec §4.6), with Octavia's redirect URL check.

The URL rule is Octavia's `validate.url` (rfc3986 with http/https, scheme and host required,
no control characters or spaces) re-expressed with the standard library; what it accepts was
checked against rfc3986 itself.
"""

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from pier.api.schemas.fields import (
    IGNORE,
    Bool,
    Choice,
    Enum,
    Field,
    FieldType,
    Int,
    ListOf,
    RawObject,
    Schema,
    Str,
    Uuid,
    invalid,
)
from pier.domain.enums import L7PolicyAction

MIN_POSITION = 1
# Octavia's MAX_POLICY_POSITION: the default, meaning "append" (spec §4.6).
MAX_POSITION = 2147483647
REDIRECT_HTTP_CODES = (301, 302, 303, 307, 308)

# Control characters and spaces would land verbatim in haproxy.cfg (config injection).
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")
_URI = re.compile(
    r"(?:(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*):)?(?://(?P<authority>[^\\/?#]*))?(?P<path>[^?#]*)"
)
_REG_NAME = r"(?:%[0-9A-Fa-f]{2}|[!$&'()*+,;=A-Za-z0-9._~\-])*"
_AUTHORITY = re.compile(
    r"(?:(?P<userinfo>(?:[A-Za-z0-9._~\-!$&'()*+,;=:]|%[A-Fa-f0-9]{2})+)@)?"
    rf"(?P<host>{_REG_NAME}|\[(?P<literal>[^\]]*)\]):?(?P<port>[0-9]{{1,5}})?"
)
_IPV4_SHAPE = re.compile(r"([0-9]{1,3}\.){3}[0-9]{1,3}")
_IPV_FUTURE = re.compile(r"v[0-9A-Fa-f]+\.[A-Za-z0-9._~\-!$&'()*+,;=:]+")
_ZONE = re.compile(r"(?:%25|%)(?:[A-Za-z0-9._~\-]|%[A-Fa-f0-9]{2})+")


def _ip_literal_is_valid(literal: str) -> bool:
    if _IPV_FUTURE.fullmatch(literal):
        return True
    address, percent, zone = literal.partition("%")
    if percent and not _ZONE.fullmatch(percent + zone):
        return False
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def _authority_is_valid(authority: str) -> bool:
    match = _AUTHORITY.fullmatch(authority)
    if match is None:
        return False
    if match["literal"] is not None:
        return _ip_literal_is_valid(match["literal"])
    host = match["host"]
    if _IPV4_SHAPE.fullmatch(host):
        return all(int(part) <= 255 for part in host.split("."))
    return True


def is_redirect_url(text: str) -> bool:
    """An absolute http(s) URL with a host, as Octavia's `validate.url(require_scheme=True)`.

    rfc3986 percent-encodes the path before checking it, so only `[` and `]` make a path
    invalid; query and fragment are not checked; the scheme is case-sensitive.
    """
    if _CONTROL.search(text):
        return False
    match = _URI.match(text)
    if match is None or match["scheme"] not in ("http", "https") or not match["authority"]:
        return False
    return _authority_is_valid(match["authority"]) and not re.search(r"[\[\]]", match["path"])


@dataclass(frozen=True)
class Url(FieldType):
    """Octavia's URLType: `Value must be a valid URL string`."""

    max_length: int = 2048

    def parse(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or not is_redirect_url(value):
            raise invalid(name, value, "Value must be a valid URL string")
        if len(value) > self.max_length:
            raise invalid(
                name,
                value,
                f"Value should have a maximum character requirement of {self.max_length}",
            )
        return value


L7POLICY = Schema(
    wrapper="l7policy",
    aliases={"tenant_id": "project_id"},
    fields={
        "name": Field(Str(255)),
        "description": Field(Str(255)),
        # An explicit null is false in Octavia (spec §1.4).
        "admin_state_up": Field(Bool(), default=True, null_create=False, on_null=False),
        # Accepted for compatibility; the policy takes its load balancer's project (spec §1.3).
        "project_id": Field(Str(36), updatable=False),
        "listener_id": Field(Uuid(), required=True, updatable=False),
        "action": Field(Enum(tuple(L7PolicyAction)), required=True),
        "redirect_pool_id": Field(Uuid()),
        "redirect_url": Field(Url()),
        "redirect_prefix": Field(Url()),
        "redirect_http_code": Field(Choice(REDIRECT_HTTP_CODES, coerce=int)),
        # null on POST appends, null on PUT keeps the position (Octavia pops a None position).
        "position": Field(
            Int(MIN_POSITION, MAX_POSITION),
            default=MAX_POSITION,
            null_create=MAX_POSITION,
            on_null=IGNORE,
        ),
        # Each one is parsed with the L7 rule schema by the create route.
        "rules": Field(ListOf(RawObject()), default=list, updatable=False),
        "tags": Field(ListOf(Str(255)), on_null=IGNORE),
    },
)
