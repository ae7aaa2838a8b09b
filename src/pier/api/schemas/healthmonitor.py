"""Health monitor request fields (spec §4.5)."""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pier.api.schemas.fields import (
    IGNORE,
    Bool,
    Choice,
    Enum,
    Field,
    FieldType,
    Int,
    ListOf,
    Schema,
    Str,
    Uuid,
    invalid,
)
from pier.domain.enums import HealthMonitorType, HttpMethod

EXPECTED_CODES_PATTERN = r"^(\d{3}(\s*,\s*\d{3})*)$|^(\d{3}-\d{3})$"
DOMAIN_NAME_PATTERN = r"^(?=.{1,253}\.?$)(?:(?!-|[^.]+_)[A-Za-z0-9-_]{1,63}(?<!-)(?:\.|$))+$"
DEFAULT_HTTP_METHOD = HttpMethod.GET.value
DEFAULT_URL_PATH = "/"
DEFAULT_EXPECTED_CODES = "200"
DEFAULT_MAX_RETRIES_DOWN = 3
HTTP_VERSIONS = (1.0, 1.1)


@dataclass(frozen=True)
class UrlPath(FieldType):
    """An absolute path: starts with `/`, no scheme, host, port, user info or whitespace."""

    def parse(self, name: str, value: Any) -> str:
        text = value if isinstance(value, str) else None
        if text is None or not _is_url_path(text):
            raise invalid(name, value, "Value must be a valid URL Path string")
        return text


def _is_url_path(text: str) -> bool:
    if re.search(r"\s", text) or not text.startswith("/") or text.startswith("//"):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return not (parts.scheme or parts.netloc)


RETRIES = Int(1, 10)

HEALTHMONITOR = Schema(
    wrapper="healthmonitor",
    aliases={"tenant_id": "project_id"},
    fields={
        "name": Field(Str(255)),
        "pool_id": Field(Uuid(), required=True, updatable=False),
        "type": Field(
            Enum(tuple(t.value for t in HealthMonitorType)), required=True, updatable=False
        ),
        # A null on PUT is Octavia's InvalidOption, raised by the mutation (not a WSME text).
        "delay": Field(Int(minimum=0), required=True),
        "timeout": Field(Int(minimum=0), required=True),
        "max_retries": Field(RETRIES, required=True),
        "max_retries_down": Field(
            RETRIES,
            default=DEFAULT_MAX_RETRIES_DOWN,
            null_create=DEFAULT_MAX_RETRIES_DOWN,
            on_null=DEFAULT_MAX_RETRIES_DOWN,
        ),
        "http_method": Field(Enum(tuple(m.value for m in HttpMethod)), on_null=DEFAULT_HTTP_METHOD),
        "url_path": Field(UrlPath(), on_null=DEFAULT_URL_PATH),
        "expected_codes": Field(
            Str(64, pattern=EXPECTED_CODES_PATTERN), on_null=DEFAULT_EXPECTED_CODES
        ),
        "http_version": Field(Choice(HTTP_VERSIONS)),
        "domain_name": Field(Str(255, min_length=1, pattern=DOMAIN_NAME_PATTERN)),
        "admin_state_up": Field(Bool(), default=True, null_create=False, on_null=False),
        # Accepted for compatibility; monitors always take their load balancer's project.
        "project_id": Field(Str(36), updatable=False),
        "tags": Field(ListOf(Str(255)), on_null=IGNORE),
    },
)
