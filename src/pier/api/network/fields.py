"""Reading request bodies the way Neutron validates attributes, with Neutron's messages.

Unknown attributes are ignored rather than rejected: clients send optional extension
attributes (`port_security_enabled`, `dns_domain`, ...) that this subset does not model.
"""

from typing import Any

from pier.api.network.neutron_errors import NeutronBadRequest, invalid_attribute

Body = dict[str, Any]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def resource_body(raw: object, singular: str) -> Body:
    """The `{"<singular>": {...}}` wrapper's content."""
    inner = raw.get(singular) if isinstance(raw, dict) else None
    if not isinstance(inner, dict):
        raise NeutronBadRequest(f"Unable to find '{singular}' in request body")
    return inner


def required(body: Body, key: str) -> Any:
    value = body.get(key)
    if value is None:
        raise NeutronBadRequest(
            f"Failed to parse request. Required attribute '{key}' not specified"
        )
    return value


def text(body: Body, key: str, default: str = "", max_length: int = 255) -> str:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise invalid_attribute(key, f"'{value}' is not a valid string")
    if len(value) > max_length:
        raise invalid_attribute(key, f"'{value}' exceeds maximum length of {max_length}")
    return value


def flag(body: Body, key: str, default: bool) -> bool:
    """Neutron's `convert_to_boolean`: real booleans, or their usual string spellings."""
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str | int) and str(value).lower() in _TRUE | _FALSE:
        return str(value).lower() in _TRUE
    raise invalid_attribute(key, f"'{value}' cannot be converted to boolean")


def integer(body: Body, key: str, minimum: int, maximum: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid_attribute(key, f"'{value}' is not an integer")
    try:
        number = int(value)
    except ValueError as exc:
        raise invalid_attribute(key, f"'{value}' is not an integer") from exc
    if not minimum <= number <= maximum:
        raise invalid_attribute(key, f"'{value}' is not in range {minimum} through {maximum}")
    return number


def string_list(body: Body, key: str) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid_attribute(key, f"'{value}' is not a list of strings")
    return list(value)


def reject_read_only(body: Body, keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in body:
            raise NeutronBadRequest(f"Cannot update read-only attribute {key}")
