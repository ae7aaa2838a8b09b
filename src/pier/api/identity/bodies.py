"""Reading Keystone request bodies: `{"project": {...}}` and friends, with Keystone-like 400s."""

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from pier.api.http import read_json
from pier.domain.errors import InvalidInput


def _invalid(field: str, problem: str) -> InvalidInput:
    return InvalidInput(f"Invalid input for field '{field}': {problem}")


async def read_entity(request: Request, key: str) -> dict[str, Any]:
    """The object under `key` in the JSON body."""
    body = await read_json(request)
    entity = body.get(key) if isinstance(body, dict) else None
    if not isinstance(entity, dict):
        raise InvalidInput(f"Expecting to find {key} in request body.")
    return entity


def text(entity: dict[str, Any], field: str, *, required: bool = False) -> str | None:
    value = entity.get(field)
    if value is None:
        if required:
            raise _invalid(field, "a value is required.")
        return None
    if not isinstance(value, str) or (field == "name" and not value.strip()):
        raise _invalid(field, f"{value!r} is not a valid string.")
    return value


def flag(entity: dict[str, Any], field: str) -> bool | None:
    value = entity.get(field)
    if value is not None and not isinstance(value, bool):
        raise _invalid(field, f"{value!r} is not of type 'boolean'.")
    return value


def moment(entity: dict[str, Any], field: str) -> datetime | None:
    """An ISO 8601 time; one without a zone is UTC, as in Keystone."""
    value = text(entity, field)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _invalid(field, f"{value!r} is not a valid date-time.") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_default_domain(entity: dict[str, Any]) -> None:
    """Pier has one domain; naming another is a 400 rather than a silent move."""
    domain_id = entity.get("domain_id")
    if domain_id not in (None, "default"):
        raise _invalid("domain_id", f"only the 'default' domain exists, not {domain_id!r}.")
