"""Field types that validate and coerce request values with Octavia's (WSME's) messages.

Hand-written rather than pydantic because clients match on Octavia's exact texts
(`Invalid input for field/attribute X. Value: 'v'. <reason>`, spec §2.2) and Octavia coerces
leniently (`"100"` is an int, `"true"` a bool: python-octaviaclient relies on it, spec §1.4).
"""

import ipaddress
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pier.domain.errors import InvalidInput

UNSET: Any = object()


def invalid(name: str, value: Any, reason: str) -> InvalidInput:
    shown = "Unset" if value is UNSET else value
    return InvalidInput(f"Invalid input for field/attribute {name}. Value: '{shown}'. {reason}")


class FieldType(ABC):
    @abstractmethod
    def parse(self, name: str, value: Any) -> Any:
        """The coerced value, or InvalidInput with Octavia's message for field `name`."""


@dataclass(frozen=True)
class Str(FieldType):
    max_length: int = 255
    min_length: int = 0
    pattern: str | None = None

    def parse(self, name: str, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise invalid(name, value, f"Wrong type. Expected '<class 'str'>', got '{type(value)}'")
        text = str(value)
        if len(text) > self.max_length:
            raise invalid(
                name,
                text,
                f"Value should have a maximum character requirement of {self.max_length}",
            )
        if len(text) < self.min_length:
            raise invalid(
                name,
                text,
                f"Value should have a minimum character requirement of {self.min_length}",
            )
        if self.pattern is not None and not re.match(self.pattern, text):
            raise invalid(name, text, f"Value should match the pattern {self.pattern}")
        return text


@dataclass(frozen=True)
class Uuid(FieldType):
    def parse(self, name: str, value: Any) -> str:
        try:
            return str(uuid.UUID(str(value)))
        except (ValueError, AttributeError) as exc:
            raise invalid(name, value, "Value should be UUID format") from exc


@dataclass(frozen=True)
class Enum(FieldType):
    values: tuple[str, ...]

    def parse(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in self.values:
            raise invalid(name, value, f"Value should be one of: {', '.join(self.values)}")
        return value


@dataclass(frozen=True)
class Int(FieldType):
    minimum: int | None = None
    maximum: int | None = None

    def parse(self, name: str, value: Any) -> int:
        if isinstance(value, bool):
            raise invalid(name, value, "Wrong type. Expected '<class 'int'>', got '<class 'bool'>'")
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise invalid(
                name, value, f"Wrong type. Expected '<class 'int'>', got '{type(value)}'"
            ) from exc
        if isinstance(value, float) and value != number:
            raise invalid(
                name, value, "Wrong type. Expected '<class 'int'>', got '<class 'float'>'"
            )
        if self.minimum is not None and number < self.minimum:
            raise invalid(name, number, f"Value should be greater or equal to {self.minimum}")
        if self.maximum is not None and number > self.maximum:
            raise invalid(name, number, f"Value should be lower or equal to {self.maximum}")
        return number


@dataclass(frozen=True)
class Bool(FieldType):
    def parse(self, name: str, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "1", "yes", "on", "t", "y"}:
            return True
        if isinstance(value, str) and value.lower() in {"false", "0", "no", "off", "f", "n"}:
            return False
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise invalid(name, value, f"Wrong type. Expected '<class 'bool'>', got '{type(value)}'")


@dataclass(frozen=True)
class IpAddress(FieldType):
    def parse(self, name: str, value: Any) -> str:
        """Checked, but kept as written: Octavia's IPAddressType stores `2001:db8:0::1` as is."""
        try:
            ipaddress.ip_address(str(value))
            return str(value)
        except ValueError as exc:
            raise invalid(name, value, "Value should be IPv4 or IPv6 format") from exc


@dataclass(frozen=True)
class Cidr(FieldType):
    def parse(self, name: str, value: Any) -> str:
        try:
            # Octavia normalizes: host bits are cleared (spec §4.2 allowed_cidrs).
            return str(ipaddress.ip_network(str(value), strict=False))
        except ValueError as exc:
            raise invalid(name, value, "Value should be IPv4 or IPv6 CIDR format") from exc


@dataclass(frozen=True)
class ListOf(FieldType):
    item: FieldType

    def parse(self, name: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise invalid(name, value, "Value should be a list")
        return [self.item.parse(name, item) for item in value]


@dataclass(frozen=True)
class StrDict(FieldType):
    max_length: int = 255

    def parse(self, name: str, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise invalid(name, value, "Value should be a dictionary")
        return {str(k): Str(self.max_length).parse(name, v) for k, v in value.items()}


@dataclass(frozen=True)
class Choice(FieldType):
    """A value from a fixed set of non-string values (http_version, redirect_http_code)."""

    values: tuple[Any, ...]
    coerce: Callable[[Any], Any] = float

    def parse(self, name: str, value: Any) -> Any:
        try:
            coerced = self.coerce(value)
        except (TypeError, ValueError) as exc:
            raise invalid(
                name, value, f"Value should be one of: {', '.join(map(str, self.values))}"
            ) from exc
        if coerced not in self.values:
            raise invalid(
                name, value, f"Value should be one of: {', '.join(map(str, self.values))}"
            )
        return coerced


@dataclass(frozen=True)
class RawObject(FieldType):
    """An object validated later by its own schema (single-call create children)."""

    def parse(self, name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise invalid(name, value, "Value should be an object")
        return value


@dataclass(frozen=True)
class Nested(FieldType):
    schema: "Schema"

    def parse(self, name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise invalid(name, value, "Value should be an object")
        return self.schema.parse_create(value, argument=name)


@dataclass(frozen=True)
class Field:
    type: FieldType
    required: bool = False
    # Value used on create when the field is absent (UNSET = leave it out of the result).
    default: Any = UNSET
    # Accepted on PUT.
    updatable: bool = True
    # What an explicit null means on PUT; UNSET = store None. `REJECT` = a 400.
    on_null: Any = UNSET
    # What an explicit null means on POST; UNSET = store None.
    null_create: Any = UNSET


REJECT: Any = object()
# With `on_null`: an explicit null on PUT changes nothing (tags, spec §4.8).
IGNORE: Any = object()


@dataclass(frozen=True)
class Schema:
    wrapper: str
    fields: Mapping[str, Field] = field(default_factory=dict)
    # Deprecated spellings accepted on input: alias -> canonical name.
    aliases: Mapping[str, str] = field(default_factory=dict)

    def unwrap(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or self.wrapper not in body:
            keys = ", ".join(body) if isinstance(body, dict) else ""
            raise InvalidInput(f"Unknown attributes for argument {self.wrapper}_: {keys}".rstrip())
        inner = body[self.wrapper]
        if not isinstance(inner, dict):
            raise InvalidInput(
                f"Invalid input for field/attribute {self.wrapper}. "
                f"Value: '{inner}'. Value should be an object"
            )
        if len(body) > 1:
            extra = ", ".join(key for key in body if key != self.wrapper)
            raise InvalidInput(f"Unknown attributes for argument {self.wrapper}_: {extra}")
        return inner

    def _canonical(self, data: Mapping[str, Any], argument: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in data.items():
            name = self.aliases.get(key, key)
            if name not in self.fields:
                raise InvalidInput(f"Unknown attribute for argument {argument}: {key}")
            result[name] = value
        return result

    def parse_create(self, data: Mapping[str, Any], argument: str | None = None) -> dict[str, Any]:
        given = self._canonical(data, argument or f"{self.wrapper}_.{self.wrapper}")
        parsed: dict[str, Any] = {}
        for name, spec in self.fields.items():
            value = given.get(name, UNSET)
            if value is UNSET:
                if spec.required:
                    raise invalid(name, UNSET, "Mandatory field missing.")
                if spec.default is not UNSET:
                    parsed[name] = spec.default() if callable(spec.default) else spec.default
                continue
            if value is None:
                if spec.required:
                    raise invalid(name, UNSET, "Mandatory field missing.")
                parsed[name] = None if spec.null_create is UNSET else spec.null_create
                continue
            parsed[name] = spec.type.parse(name, value)
        return parsed

    def parse_update(self, data: Mapping[str, Any]) -> dict[str, Any]:
        given = self._canonical(data, f"{self.wrapper}_.{self.wrapper}")
        parsed: dict[str, Any] = {}
        for name, value in given.items():
            spec = self.fields[name]
            if not spec.updatable:
                raise InvalidInput(
                    f"Unknown attribute for argument {self.wrapper}_.{self.wrapper}: {name}"
                )
            if value is None:
                if spec.on_null is REJECT:
                    raise invalid(name, None, "Value may not be null")
                if spec.on_null is IGNORE:
                    continue
                parsed[name] = None if spec.on_null is UNSET else spec.on_null
                continue
            parsed[name] = spec.type.parse(name, value)
        return parsed
