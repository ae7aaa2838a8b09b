"""Identity version discovery: `GET /identity` (300, like Keystone) and `GET /identity/v3`.

keystoneauth's generic plugins fetch these before authenticating and POST to the `self` link,
which must therefore carry the public base URL (clients.md §2.3).
"""

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pier.api.http import JSONResponse
from pier.api.services import get_services
from pier.settings import Settings


def v3_document(settings: Settings) -> dict[str, Any]:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{settings.base_url}/identity/v3/"}],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
        ],
    }


async def show_versions(request: Request) -> Response:
    document = v3_document(get_services(request).settings)
    return JSONResponse({"versions": {"values": [document]}}, status_code=300)


async def show_v3(request: Request) -> Response:
    return JSONResponse({"version": v3_document(get_services(request).settings)})


def version_routes() -> list[BaseRoute]:
    return [
        Route("/", show_versions, methods=["GET"]),
        Route("/v3", show_v3, methods=["GET"]),
        Route("/v3/", show_v3, methods=["GET"]),
    ]
