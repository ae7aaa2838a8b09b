"""Flavor and flavor profile request fields, and the amphora provider's flavor metadata (§4.11).

A profile's data is a JSON *string* checked against the provider's key list, which is also what
`GET /providers/{p}/flavor_capabilities` returns. Failures carry the text Octavia's jsonschema
check produces, so the messages a user sees match.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pier.api.schemas.fields import REJECT, Bool, Field, Schema, Str, Uuid
from pier.domain.enums import Topology
from pier.domain.errors import InvalidInput

# Octavia reserves the nil UUID for flavors, profiles and zones: it is always a 404.
NIL_UUID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class MetadataKey:
    """One key a provider accepts in a profile's data; `description` is its capability text."""

    name: str
    json_type: str  # "string", "boolean" or "array", as in the provider's JSON schema
    description: str
    choices: tuple[str, ...] = ()


FLAVOR_METADATA = (
    MetadataKey(
        "loadbalancer_topology",
        "string",
        "The load balancer topology. One of: SINGLE - One amphora per load balancer. "
        "ACTIVE_STANDBY - Two amphora per load balancer.",
        choices=(Topology.ACTIVE_STANDBY.value, Topology.SINGLE.value),
    ),
    MetadataKey("compute_flavor", "string", "The compute driver flavor ID."),
    MetadataKey("amp_image_tag", "string", "The amphora image tag."),
    MetadataKey(
        "sriov_vip", "boolean", "When true, the VIP port will be created using an SR-IOV VF port."
    ),
    MetadataKey(
        "allow_member_sriov",
        "boolean",
        "When true, users can request a member port be SR-IOV enabled at member creation time.",
    ),
)

_PYTHON_TYPES: Mapping[str, type] = {"string": str, "boolean": bool, "array": list}


def _key_problem(key: MetadataKey, value: Any) -> str | None:
    if not isinstance(value, _PYTHON_TYPES[key.json_type]):
        return f"{key.name} {value!r} is not of type '{key.json_type}'"
    if key.choices and value not in key.choices:
        return f"{key.name} {value!r} is not one of {list(key.choices)!r}"
    return None


def find_metadata_problem(data: Any, keys: Iterable[MetadataKey]) -> str | None:
    """The first schema violation in `data` (jsonschema's wording), or None when valid."""
    if not isinstance(data, dict):
        return f"{data!r} is not of type 'object'"
    known = {key.name: key for key in keys}
    unexpected = [name for name in data if name not in known]
    if unexpected:
        verb = "was" if len(unexpected) == 1 else "were"
        names = ", ".join(repr(name) for name in unexpected)
        return f"Additional properties are not allowed ({names} {verb} unexpected)"
    for name, value in data.items():
        if (problem := _key_problem(known[name], value)) is not None:
            return problem
    return None


def decode_profile_data(raw: str, option: str) -> Any:
    """400 `<raw> is not a valid option for <option>` for text that is not JSON."""
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"{raw} is not a valid option for {option}") from exc


def check_profile_data(data: Any, keys: Iterable[MetadataKey], provider: str) -> None:
    """400 `Provider '<p>' does not support a requested option: <problem>` for data the
    provider's schema rejects (Octavia answers 501; a 400 says what it is: bad input).
    """
    problem = find_metadata_problem(data, keys)
    if problem is not None:
        raise InvalidInput(f"Provider '{provider}' does not support a requested option: {problem}")


def reject_nulls(values: Mapping[str, Any], names: Iterable[str]) -> None:
    """Octavia refuses an explicit null for a profile's fields with InvalidOption's text."""
    for name in names:
        if name in values and values[name] is None:
            raise InvalidInput(f"None is not a valid option for {name}")


FLAVORPROFILE = Schema(
    wrapper="flavorprofile",
    fields={
        "name": Field(Str(255), required=True),
        "provider_name": Field(Str(255), required=True),
        "flavor_data": Field(Str(4096), required=True),
    },
)

FLAVOR = Schema(
    wrapper="flavor",
    fields={
        "name": Field(Str(255), required=True, on_null=REJECT),
        "description": Field(Str(255)),
        "enabled": Field(Bool(), default=True, null_create=True, on_null=REJECT),
        "flavor_profile_id": Field(Uuid(), required=True, updatable=False),
    },
)
