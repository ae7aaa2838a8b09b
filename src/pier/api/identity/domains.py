"""`/v3/domains`: the one synthetic domain, `default`/`Default`, for tempest and OSC lookups."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pier.api.http import JSONResponse
from pier.api.identity import store
from pier.api.identity.render import collection, domain_body
from pier.api.services import get_context, get_services
from pier.db.tables.identity import DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME


async def list_domains(request: Request) -> Response:
    get_context(request)
    settings = get_services(request).settings
    name = request.query_params.get("name")
    items = [domain_body(settings)] if name in (None, DEFAULT_DOMAIN_NAME) else []
    return JSONResponse(collection(settings, "domains", items, "domains"))


async def show_domain(request: Request) -> Response:
    get_context(request)
    domain_id = request.path_params["domain_id"]
    if domain_id != DEFAULT_DOMAIN_ID:
        raise store.not_found("domain", domain_id)
    return JSONResponse({"domain": domain_body(get_services(request).settings)})


def domain_routes() -> list[BaseRoute]:
    return [
        Route("/v3/domains", list_domains, methods=["GET"]),
        Route("/v3/domains/{domain_id}", show_domain, methods=["GET"]),
    ]
