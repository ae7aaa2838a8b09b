"""`/v2/lbaas/flavors` and `/v2/lbaas/flavorprofiles` (spec §4.11).

Flavors are readable by every project reader; profiles, and every write, need an admin.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.http import JSONResponse, empty_response
from pier.api.mutations import flavor as mutations
from pier.api.routes.common import endpoint
from pier.api.schemas.flavor import FLAVOR, FLAVORPROFILE, reject_nulls
from pier.api.services import get_context, get_services
from pier.api.views.flavor import flavor_view, flavorprofile_view
from pier.db.engine import transaction
from pier.db.tables import Flavor, FlavorProfile

text, boolean = listing.parse_text, listing.parse_bool
FLAVORS = listing.Collection(
    table=Flavor,
    list_key="flavors",
    links_key="flavors_links",
    filters={
        "id": (Flavor.id, text),
        "name": (Flavor.name, text),
        "description": (Flavor.description, text),
        "enabled": (Flavor.enabled, boolean),
        "flavor_profile_id": (Flavor.flavor_profile_id, text),
    },
    sort_columns={
        "id": Flavor.id,
        "name": Flavor.name,
        "description": Flavor.description,
        "enabled": Flavor.enabled,
        "flavor_profile_id": Flavor.flavor_profile_id,
    },
    tagged=False,
)
PROFILES = listing.Collection(
    table=FlavorProfile,
    list_key="flavorprofiles",
    links_key="flavorprofile_links",  # singular, as Octavia spells it (spec §1.6)
    filters={
        "id": (FlavorProfile.id, text),
        "name": (FlavorProfile.name, text),
        "provider_name": (FlavorProfile.provider_name, text),
        "flavor_data": (FlavorProfile.flavor_data, text),
    },
    sort_columns={
        "id": FlavorProfile.id,
        "name": FlavorProfile.name,
        "provider_name": FlavorProfile.provider_name,
    },
    tagged=False,
)


def _list(
    request: Request,
    collection: listing.Collection,
    rule: policy.Rule,
    view: Callable[[Any], dict[str, Any]],
) -> Response:
    services, ctx = get_services(request), get_context(request)
    policy.authorize(ctx, rule, ctx.project_id)
    query = listing.parse_list_query(request, collection, services.settings.pagination_max_limit)
    with transaction(services.sessions, write=False) as session:
        rows = listing.fetch_page(session, collection, query, select(collection.table))
        items = [listing.select_fields(view(row), query.fields) for row in rows]
    links = listing.page_links(request, query, items, [row.id for row in rows])
    return JSONResponse({collection.list_key: items, collection.links_key: links})


def _show(
    request: Request,
    wrapper: str,
    rule: policy.Rule,
    load: Callable[[Any, str], Any],
    view: Callable[[Any], dict[str, Any]],
) -> Response:
    services, ctx = get_services(request), get_context(request)
    policy.authorize(ctx, rule, ctx.project_id)
    with transaction(services.sessions, write=False) as session:
        shown = view(load(session, request.path_params["id"]))
    fields = request.query_params.getlist("fields")
    return JSONResponse({wrapper: listing.select_fields(shown, fields)})


@endpoint
def list_flavors(request: Request, _: Any) -> Response:
    return _list(request, FLAVORS, policy.Rule.READ, flavor_view)


@endpoint
def show_flavor(request: Request, _: Any) -> Response:
    return _show(request, "flavor", policy.Rule.READ, mutations.find_flavor, flavor_view)


@endpoint
def create_flavor(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = FLAVOR.parse_create(FLAVOR.unwrap(body))
    with transaction(services.sessions) as session:
        view = flavor_view(mutations.create_flavor(session, ctx, values))
    return JSONResponse({"flavor": view}, status_code=201)


@endpoint
def update_flavor(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = FLAVOR.parse_update(FLAVOR.unwrap(body))
    with transaction(services.sessions) as session:
        row = mutations.update_flavor(session, ctx, request.path_params["id"], values)
        session.flush()
        view = flavor_view(row)
    return JSONResponse({"flavor": view})


@endpoint
def delete_flavor(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        mutations.delete_flavor(session, ctx, request.path_params["id"])
    return empty_response(204)


@endpoint
def list_flavorprofiles(request: Request, _: Any) -> Response:
    return _list(request, PROFILES, policy.Rule.ADMIN, flavorprofile_view)


@endpoint
def show_flavorprofile(request: Request, _: Any) -> Response:
    return _show(
        request,
        "flavorprofile",
        policy.Rule.ADMIN,
        mutations.find_flavorprofile,
        flavorprofile_view,
    )


@endpoint
def create_flavorprofile(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = FLAVORPROFILE.parse_create(FLAVORPROFILE.unwrap(body))
    with transaction(services.sessions) as session:
        view = flavorprofile_view(mutations.create_flavorprofile(session, ctx, values))
    return JSONResponse({"flavorprofile": view}, status_code=201)


@endpoint
def update_flavorprofile(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    given = FLAVORPROFILE.unwrap(body)
    reject_nulls(given, FLAVORPROFILE.fields)
    values = FLAVORPROFILE.parse_update(given)
    with transaction(services.sessions) as session:
        row = mutations.update_flavorprofile(session, ctx, request.path_params["id"], values)
        session.flush()
        view = flavorprofile_view(row)
    return JSONResponse({"flavorprofile": view})


@endpoint
def delete_flavorprofile(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        mutations.delete_flavorprofile(session, ctx, request.path_params["id"])
    return empty_response(204)


def routes() -> list[Route]:
    return [
        Route("/lbaas/flavors", list_flavors, methods=["GET"]),
        Route("/lbaas/flavors", create_flavor, methods=["POST"]),
        Route("/lbaas/flavors/{id}", show_flavor, methods=["GET"]),
        Route("/lbaas/flavors/{id}", update_flavor, methods=["PUT"]),
        Route("/lbaas/flavors/{id}", delete_flavor, methods=["DELETE"]),
        Route("/lbaas/flavorprofiles", list_flavorprofiles, methods=["GET"]),
        Route("/lbaas/flavorprofiles", create_flavorprofile, methods=["POST"]),
        Route("/lbaas/flavorprofiles/{id}", show_flavorprofile, methods=["GET"]),
        Route("/lbaas/flavorprofiles/{id}", update_flavorprofile, methods=["PUT"]),
        Route("/lbaas/flavorprofiles/{id}", delete_flavorprofile, methods=["DELETE"]),
    ]
