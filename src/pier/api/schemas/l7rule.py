"""L7 rule request fields (spec §4.7). Wrapper `rule`, as Octavia spells it."""

from dataclasses import dataclass
from typing import Any

from pier.api.schemas.fields import IGNORE, Bool, Enum, Field, ListOf, Schema, Str, invalid
from pier.domain.enums import L7RuleCompareType, L7RuleType

SINGLE_LINE_PATTERN = r"^[^\r\n]*$"


@dataclass(frozen=True)
class SingleLine(Str):
    """Octavia's single-line pattern for key and value, without `$`'s trailing-newline gap.

    A CR or LF in a rule would split an ACL line in haproxy.cfg.
    """

    pattern: str | None = SINGLE_LINE_PATTERN

    def parse(self, name: str, value: Any) -> str:
        text = super().parse(name, value)
        if "\r" in text or "\n" in text:
            raise invalid(name, text, f"Value should match the pattern {SINGLE_LINE_PATTERN}")
        return text


L7RULE = Schema(
    wrapper="rule",
    aliases={"tenant_id": "project_id"},
    fields={
        # On PUT an explicit null is stored and then caught by the merged-rule validation,
        # which gives Octavia's messages (`invalid rule type`, `... requires a value`).
        "type": Field(Enum(tuple(L7RuleType)), required=True),
        "compare_type": Field(Enum(tuple(L7RuleCompareType)), required=True),
        "key": Field(SingleLine(255)),
        "value": Field(SingleLine(255), required=True),
        "invert": Field(Bool(), default=False, null_create=False, on_null=False),
        "admin_state_up": Field(Bool(), default=True, null_create=False, on_null=False),
        # Accepted for compatibility; the rule takes its load balancer's project (spec §1.3).
        "project_id": Field(Str(36), updatable=False),
        "tags": Field(ListOf(Str(255)), on_null=IGNORE),
    },
)
