"""`/v2/lbaas/providers` and their flavor / availability zone capabilities (spec §4.10).

Both enabled providers are the same amphora driver (`octavia` is Octavia's deprecated alias),
so they share one capability list: the keys a flavor or AZ profile's data may carry.
"""

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.http import JSONResponse
from pier.api.mutations.flavor import require_enabled_provider
from pier.api.mutations.loadbalancer import ENABLED_PROVIDERS
from pier.api.routes.common import endpoint
from pier.api.schemas.availability_zone import AVAILABILITY_ZONE_METADATA
from pier.api.schemas.flavor import FLAVOR_METADATA, MetadataKey
from pier.api.services import get_context

DESCRIPTIONS = {
    "amphora": "The Octavia Amphora driver.",
    "octavia": "Deprecated alias of the Octavia Amphora driver.",
}


@endpoint
def list_providers(request: Request, _: Any) -> Response:
    ctx = get_context(request)
    policy.authorize(ctx, policy.Rule.READ, ctx.project_id)
    fields = request.query_params.getlist("fields")
    providers = [{"name": name, "description": DESCRIPTIONS[name]} for name in ENABLED_PROVIDERS]
    return JSONResponse({"providers": [listing.select_fields(item, fields) for item in providers]})


def _capabilities(request: Request, keys: Iterable[MetadataKey]) -> list[dict[str, Any]]:
    """Admin only; `?name=` and `?description=` filter (exact match), `fields` selects."""
    ctx = get_context(request)
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)
    require_enabled_provider(request.path_params["provider"])
    params = request.query_params
    items = [{"name": key.name, "description": key.description} for key in keys]
    for name in ("name", "description"):
        if params.get(name):
            items = [item for item in items if item[name] == params[name]]
    return [listing.select_fields(item, params.getlist("fields")) for item in items]


@endpoint
def flavor_capabilities(request: Request, _: Any) -> Response:
    return JSONResponse({"flavor_capabilities": _capabilities(request, FLAVOR_METADATA)})


@endpoint
def availability_zone_capabilities(request: Request, _: Any) -> Response:
    items = _capabilities(request, AVAILABILITY_ZONE_METADATA)
    return JSONResponse({"availability_zone_capabilities": items})


def routes() -> list[Route]:
    item = "/lbaas/providers/{provider}"
    return [
        Route("/lbaas/providers", list_providers, methods=["GET"]),
        Route(f"{item}/flavor_capabilities", flavor_capabilities, methods=["GET"]),
        Route(
            f"{item}/availability_zone_capabilities",
            availability_zone_capabilities,
            methods=["GET"],
        ),
    ]
