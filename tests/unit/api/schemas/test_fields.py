import pytest

from pier.api.schemas.fields import (
    IGNORE,
    REJECT,
    Bool,
    Choice,
    Cidr,
    Enum,
    Field,
    Int,
    IpAddress,
    ListOf,
    Schema,
    Str,
    StrDict,
    Uuid,
)
from pier.domain.errors import InvalidInput

SCHEMA = Schema(
    wrapper="thing",
    aliases={"tenant_id": "project_id"},
    fields={
        "name": Field(Str(5)),
        "port": Field(Int(1, 10), required=True, updatable=False),
        "enabled": Field(Bool(), default=True, null_create=False, on_null=False),
        "tags": Field(ListOf(Str(255)), on_null=IGNORE),
        "delay": Field(Int(0), on_null=REJECT),
        "project_id": Field(Str(36)),
    },
)


def message(exc: pytest.ExceptionInfo[InvalidInput]) -> str:
    return exc.value.message


def test_create_fills_defaults_and_coerces_strings() -> None:
    assert SCHEMA.parse_create({"port": "7"}) == {"port": 7, "enabled": True}
    assert SCHEMA.parse_create({"port": 1, "enabled": "false"})["enabled"] is False
    assert SCHEMA.parse_create({"port": 1, "enabled": None})["enabled"] is False


def test_missing_required_field_uses_octavias_text() -> None:
    with pytest.raises(InvalidInput) as exc:
        SCHEMA.parse_create({})
    assert message(exc) == (
        "Invalid input for field/attribute port. Value: 'Unset'. Mandatory field missing."
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (0, "Value should be greater or equal to 1"),
        (11, "Value should be lower or equal to 10"),
        ("x", "Wrong type"),
        (True, "Wrong type"),
        (1.5, "Wrong type"),
    ],
)
def test_int_bounds_and_types(value: object, reason: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        SCHEMA.parse_create({"port": value})
    assert message(exc).startswith("Invalid input for field/attribute port.")
    assert reason in message(exc)


def test_alias_and_unknown_attribute() -> None:
    assert SCHEMA.parse_create({"port": 1, "tenant_id": "p"})["project_id"] == "p"
    with pytest.raises(InvalidInput) as exc:
        SCHEMA.parse_create({"port": 1, "foo": 1})
    assert message(exc) == "Unknown attribute for argument thing_.thing: foo"


def test_unwrap_requires_the_wrapper() -> None:
    assert SCHEMA.unwrap({"thing": {"port": 1}}) == {"port": 1}
    with pytest.raises(InvalidInput) as exc:
        SCHEMA.unwrap({"port": 1, "name": "x"})
    assert message(exc) == "Unknown attributes for argument thing_: port, name"
    with pytest.raises(InvalidInput):
        SCHEMA.unwrap({"thing": [1]})
    with pytest.raises(InvalidInput):
        SCHEMA.unwrap({"thing": {}, "other": 1})
    with pytest.raises(InvalidInput):
        SCHEMA.unwrap(None)


def test_update_null_semantics() -> None:
    assert SCHEMA.parse_update({"tags": None}) == {}
    assert SCHEMA.parse_update({"enabled": None}) == {"enabled": False}
    assert SCHEMA.parse_update({"name": None}) == {"name": None}
    with pytest.raises(InvalidInput):
        SCHEMA.parse_update({"delay": None})
    with pytest.raises(InvalidInput) as exc:
        SCHEMA.parse_update({"port": 2})
    assert "port" in message(exc)


def test_string_length() -> None:
    with pytest.raises(InvalidInput) as exc:
        SCHEMA.parse_create({"port": 1, "name": "toolong"})
    assert "maximum character requirement of 5" in message(exc)
    with pytest.raises(InvalidInput):
        Str(10, min_length=2).parse("n", "a")
    with pytest.raises(InvalidInput):
        Str(10, pattern=r"^a+$").parse("n", "b")
    with pytest.raises(InvalidInput):
        Str().parse("n", {"a": 1})


@pytest.mark.parametrize(
    ("field_type", "good", "bad", "reason"),
    [
        (Uuid(), "6F9619FF-8B86-D011-B42D-00C04FC964FF", "nope", "Value should be UUID format"),
        (Enum(("A", "B")), "A", "C", "Value should be one of: A, B"),
        (IpAddress(), "2001:db8::1", "300.1.1.1", "Value should be IPv4 or IPv6 format"),
        (Cidr(), "10.0.0.5/8", "10.0.0.0/33", "Value should be IPv4 or IPv6 CIDR format"),
        (Choice((1.0, 1.1)), "1.1", "2", "Value should be one of: 1.0, 1.1"),
    ],
)
def test_typed_fields(field_type: object, good: object, bad: object, reason: str) -> None:
    assert field_type.parse("f", good) is not None  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput) as exc:
        field_type.parse("f", bad)  # type: ignore[attr-defined]
    assert reason in message(exc)


def test_normalizations() -> None:
    assert Uuid().parse("f", "6F9619FF-8B86-D011-B42D-00C04FC964FF") == (
        "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    )
    assert Cidr().parse("f", "10.0.0.5/8") == "10.0.0.0/8"
    assert Bool().parse("f", "TRUE") is True
    assert Bool().parse("f", 0) is False
    with pytest.raises(InvalidInput):
        Bool().parse("f", "maybe")
    assert StrDict().parse("f", {"X-Forwarded-For": "true"}) == {"X-Forwarded-For": "true"}
    with pytest.raises(InvalidInput):
        StrDict().parse("f", ["a"])
    with pytest.raises(InvalidInput):
        ListOf(Str()).parse("f", "a")
    with pytest.raises(InvalidInput):
        Choice((1.0,)).parse("f", "x")
