"""`/v2/lbaas/availabilityzones` and `/v2/lbaas/availabilityzoneprofiles` (spec §4.12).

Zones are addressed by name (`/availabilityzones/{name}`); they are readable by every project
reader. Profiles, and every write, need an admin.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.http import JSONResponse, empty_response
from pier.api.mutations import availability_zone as mutations
from pier.api.routes.common import endpoint
from pier.api.schemas.availability_zone import AVAILABILITY_ZONE, AVAILABILITY_ZONE_PROFILE
from pier.api.schemas.flavor import reject_nulls
from pier.api.services import get_context, get_services
from pier.api.views.availability_zone import (
    availability_zone_profile_view,
    availability_zone_view,
)
from pier.db.engine import transaction
from pier.db.tables import AvailabilityZone, AvailabilityZoneProfile

AZ, PROFILE = AvailabilityZone, AvailabilityZoneProfile
text, boolean = listing.parse_text, listing.parse_bool


class ZoneKeys:
    """Zones are keyed by name: listing pages (marker) and breaks ties on `.id`."""

    id = AvailabilityZone.name


ZONES = listing.Collection(
    table=ZoneKeys,
    list_key="availability_zones",
    links_key="availability_zones_links",
    filters={
        "name": (AZ.name, text),
        "description": (AZ.description, text),
        "enabled": (AZ.enabled, boolean),
        "availability_zone_profile_id": (AZ.availability_zone_profile_id, text),
    },
    sort_columns={
        "name": AZ.name,
        "description": AZ.description,
        "enabled": AZ.enabled,
        "availability_zone_profile_id": AZ.availability_zone_profile_id,
    },
    tagged=False,
)
PROFILES = listing.Collection(
    table=PROFILE,
    list_key="availability_zone_profiles",
    links_key="availability_zone_profile_links",  # singular, as Octavia spells it (spec §1.6)
    filters={
        "id": (PROFILE.id, text),
        "name": (PROFILE.name, text),
        "provider_name": (PROFILE.provider_name, text),
        "availability_zone_data": (PROFILE.availability_zone_data, text),
    },
    sort_columns={"id": PROFILE.id, "name": PROFILE.name, "provider_name": PROFILE.provider_name},
    tagged=False,
)


def _list(
    request: Request,
    collection: listing.Collection,
    table: Any,
    rule: policy.Rule,
    view: Callable[[Any], dict[str, Any]],
) -> Response:
    """`table` is the mapped class; `collection.table` only names the page key column."""
    services, ctx = get_services(request), get_context(request)
    policy.authorize(ctx, rule, ctx.project_id)
    query = listing.parse_list_query(request, collection, services.settings.pagination_max_limit)
    with transaction(services.sessions, write=False) as session:
        rows = listing.fetch_page(session, collection, query, select(table))
        keys = [getattr(row, collection.table.id.key) for row in rows]
        items = [listing.select_fields(view(row), query.fields) for row in rows]
    links = listing.page_links(request, query, items, keys)
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
        shown = view(load(session, request.path_params["key"]))
    fields = request.query_params.getlist("fields")
    return JSONResponse({wrapper: listing.select_fields(shown, fields)})


@endpoint
def list_zones(request: Request, _: Any) -> Response:
    return _list(request, ZONES, AZ, policy.Rule.READ, availability_zone_view)


@endpoint
def show_zone(request: Request, _: Any) -> Response:
    return _show(
        request,
        "availability_zone",
        policy.Rule.READ,
        mutations.find_availability_zone,
        availability_zone_view,
    )


@endpoint
def create_zone(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = AVAILABILITY_ZONE.parse_create(AVAILABILITY_ZONE.unwrap(body))
    with transaction(services.sessions) as session:
        view = availability_zone_view(mutations.create_availability_zone(session, ctx, values))
    return JSONResponse({"availability_zone": view}, status_code=201)


@endpoint
def update_zone(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = AVAILABILITY_ZONE.parse_update(AVAILABILITY_ZONE.unwrap(body))
    with transaction(services.sessions) as session:
        row = mutations.update_availability_zone(session, ctx, request.path_params["key"], values)
        session.flush()
        view = availability_zone_view(row)
    return JSONResponse({"availability_zone": view})


@endpoint
def delete_zone(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        mutations.delete_availability_zone(session, ctx, request.path_params["key"])
    return empty_response(204)


@endpoint
def list_profiles(request: Request, _: Any) -> Response:
    return _list(request, PROFILES, PROFILE, policy.Rule.ADMIN, availability_zone_profile_view)


@endpoint
def show_profile(request: Request, _: Any) -> Response:
    return _show(
        request,
        "availability_zone_profile",
        policy.Rule.ADMIN,
        mutations.find_availability_zone_profile,
        availability_zone_profile_view,
    )


@endpoint
def create_profile(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = AVAILABILITY_ZONE_PROFILE.parse_create(AVAILABILITY_ZONE_PROFILE.unwrap(body))
    with transaction(services.sessions) as session:
        row = mutations.create_availability_zone_profile(session, ctx, values)
        view = availability_zone_profile_view(row)
    return JSONResponse({"availability_zone_profile": view}, status_code=201)


@endpoint
def update_profile(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    given = AVAILABILITY_ZONE_PROFILE.unwrap(body)
    reject_nulls(given, AVAILABILITY_ZONE_PROFILE.fields)
    values = AVAILABILITY_ZONE_PROFILE.parse_update(given)
    with transaction(services.sessions) as session:
        row = mutations.update_availability_zone_profile(
            session, ctx, request.path_params["key"], values
        )
        session.flush()
        view = availability_zone_profile_view(row)
    return JSONResponse({"availability_zone_profile": view})


@endpoint
def delete_profile(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        mutations.delete_availability_zone_profile(session, ctx, request.path_params["key"])
    return empty_response(204)


def routes() -> list[Route]:
    zones, profiles = "/lbaas/availabilityzones", "/lbaas/availabilityzoneprofiles"
    return [
        Route(zones, list_zones, methods=["GET"]),
        Route(zones, create_zone, methods=["POST"]),
        Route(zones + "/{key}", show_zone, methods=["GET"]),
        Route(zones + "/{key}", update_zone, methods=["PUT"]),
        Route(zones + "/{key}", delete_zone, methods=["DELETE"]),
        Route(profiles, list_profiles, methods=["GET"]),
        Route(profiles, create_profile, methods=["POST"]),
        Route(profiles + "/{key}", show_profile, methods=["GET"]),
        Route(profiles + "/{key}", update_profile, methods=["PUT"]),
        Route(profiles + "/{key}", delete_profile, methods=["DELETE"]),
    ]
