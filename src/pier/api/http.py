"""JSON in and out, with Octavia's conventions (spec §1.4)."""

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pier.domain.errors import InvalidInput


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def empty_response(status_code: int) -> Response:
    """204/202 with no body, as Octavia sends for deletes and actions."""
    return Response(status_code=status_code)


async def read_json(request: Request) -> Any:
    """Parse the body; an empty body is None. Invalid JSON is a 400 with Octavia's text."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("Request is not in valid JSON format") from exc
