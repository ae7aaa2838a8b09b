"""The one place that turns errors into responses, in the shape each API's clients expect.

* Octavia (`/v2...`): `{"faultcode", "faultstring", "debuginfo"}` (spec §2.1).
* Identity (`/identity...`) and every 401: Keystone's `{"error": {"code", "message", "title"}}`.
* Network (`/network...` and the Neutron paths at the root): `{"NeutronError": {...}}`.
"""

import logging
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from pier.api.http import JSONResponse
from pier.domain.errors import NotAuthenticated, PierError

log = logging.getLogger(__name__)

# Neutron collections also answered at the root, for single-endpoint client modes.
NEUTRON_ROOT_COLLECTIONS = frozenset(
    {
        "networks",
        "subnets",
        "ports",
        "floatingips",
        "security-groups",
        "security-group-rules",
        "qos",
        "subnetpools",
        "extensions",
    }
)


def _api_of(path: str) -> str:
    if path.startswith("/identity"):
        return "identity"
    if path.startswith("/network"):
        return "network"
    parts = path.split("/")
    if len(parts) > 2 and parts[1] in ("v2", "v2.0") and parts[2] in NEUTRON_ROOT_COLLECTIONS:
        return "network"
    return "octavia"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_response(
    request: Request, status: int, message: str, kind: str | None = None
) -> Response:
    api = _api_of(request.url.path)
    headers: dict[str, str] = {}
    if status == 401:
        services = getattr(request.app.state, "services", None)
        base = services.settings.base_url if services else str(request.base_url).rstrip("/")
        headers["WWW-Authenticate"] = f'Keystone uri="{base}/identity"'
        api = "identity"
    if api == "identity":
        body: object = {"error": {"code": status, "message": message, "title": _title(status)}}
    elif api == "network":
        body = {
            "NeutronError": {
                "type": kind or _title(status).replace(" ", ""),
                "message": message,
                "detail": "",
            }
        }
    else:
        body = {
            "faultcode": "Client" if status < 500 else "Server",
            "faultstring": message,
            "debuginfo": None,
        }
    return JSONResponse(body, status_code=status, headers=headers)


async def handle_pier_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, PierError):
        raise exc
    if isinstance(exc, NotAuthenticated):
        return error_response(
            request, 401, exc.message or "The request you have made requires authentication."
        )
    if getattr(exc, "webob_shape", False):
        body = {"code": exc.status, "title": _title(exc.status), "description": exc.message}
        return JSONResponse(body, status_code=exc.status)
    return error_response(request, exc.status, exc.message, getattr(exc, "kind", None))


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 use webob's shape in Octavia (spec §2.1)."""
    if not isinstance(exc, HTTPException):
        raise exc
    if _api_of(request.url.path) != "octavia":
        return error_response(request, exc.status_code, exc.detail or _title(exc.status_code))
    body = {
        "code": exc.status_code,
        "title": _title(exc.status_code),
        "description": "" if exc.status_code == 404 else (exc.detail or ""),
    }
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    return error_response(request, 500, "An unknown exception occurred.")
