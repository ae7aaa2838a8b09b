"""`/v2/lbaas/healthmonitors` (spec §4.5)."""

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.http import JSONResponse, empty_response
from pier.api.mutations import healthmonitor as mutations
from pier.api.routes.common import authorize_object, endpoint, scoped_select
from pier.api.schemas.fields import Choice
from pier.api.schemas.healthmonitor import HEALTHMONITOR, HTTP_VERSIONS
from pier.api.services import get_context, get_services
from pier.api.views.common import load_tags
from pier.api.views.healthmonitor import healthmonitor_view
from pier.db.engine import transaction
from pier.db.tables import HealthMonitor

HM = HealthMonitor
text, boolean, integer = listing.parse_text, listing.parse_bool, listing.parse_int


def _http_version(value: str) -> Any:
    return Choice(HTTP_VERSIONS).parse("filter", value)


COLLECTION = listing.Collection(
    table=HM,
    list_key="healthmonitors",
    links_key="healthmonitors_links",
    filters={
        "id": (HM.id, text),
        "name": (HM.name, text),
        "project_id": (HM.project_id, text),
        "tenant_id": (HM.project_id, text),
        "pool_id": (HM.pool_id, text),
        "type": (HM.type, text),
        "delay": (HM.delay, integer),
        "timeout": (HM.timeout, integer),
        "max_retries": (HM.max_retries, integer),
        "max_retries_down": (HM.max_retries_down, integer),
        "http_method": (HM.http_method, text),
        "url_path": (HM.url_path, text),
        "expected_codes": (HM.expected_codes, text),
        "http_version": (HM.http_version, _http_version),
        "domain_name": (HM.domain_name, text),
        "admin_state_up": (HM.admin_state_up, boolean),
        "provisioning_status": (HM.provisioning_status, text),
        "operating_status": (HM.operating_status, text),
        "created_at": (HM.created_at, text),
        "updated_at": (HM.updated_at, text),
    },
    sort_columns={
        "id": HM.id,
        "name": HM.name,
        "project_id": HM.project_id,
        "pool_id": HM.pool_id,
        "type": HM.type,
        "delay": HM.delay,
        "timeout": HM.timeout,
        "max_retries": HM.max_retries,
        "max_retries_down": HM.max_retries_down,
        "http_method": HM.http_method,
        "url_path": HM.url_path,
        "expected_codes": HM.expected_codes,
        "admin_state_up": HM.admin_state_up,
        "provisioning_status": HM.provisioning_status,
        "operating_status": HM.operating_status,
        "created_at": HM.created_at,
        "updated_at": HM.updated_at,
    },
)


def _show(request: Request, healthmonitor_id: str) -> dict[str, Any]:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions, write=False) as session:
        row = mutations.find_healthmonitor(session, healthmonitor_id)
        authorize_object(ctx, policy.Rule.READ, row.project_id)
        return healthmonitor_view(row, load_tags(session, [row.id])[row.id])


@endpoint
def list_healthmonitors(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    query = listing.parse_list_query(request, COLLECTION, services.settings.pagination_max_limit)
    with transaction(services.sessions, write=False) as session:
        base = scoped_select(ctx, HM, request)
        base = base.where(HM.provisioning_status != "DELETED")
        rows = listing.fetch_page(session, COLLECTION, query, base)
        tags = load_tags(session, [row.id for row in rows])
        items = [
            listing.select_fields(healthmonitor_view(row, tags[row.id]), query.fields)
            for row in rows
        ]
    links = listing.page_links(request, query, items, [row.id for row in rows])
    return JSONResponse({COLLECTION.list_key: items, COLLECTION.links_key: links})


@endpoint
def create_healthmonitor(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = HEALTHMONITOR.parse_create(HEALTHMONITOR.unwrap(body))
    with transaction(services.sessions) as session:
        row = mutations.create_healthmonitor(session, services, ctx, values)
        loadbalancer_id = row.pool.loadbalancer_id
        view = healthmonitor_view(row, load_tags(session, [row.id])[row.id])
    services.queue.enqueue(loadbalancer_id)
    return JSONResponse({"healthmonitor": view}, status_code=201)


@endpoint
def show_healthmonitor(request: Request, _: Any) -> Response:
    view = _show(request, request.path_params["healthmonitor_id"])
    fields = request.query_params.getlist("fields")
    return JSONResponse({"healthmonitor": listing.select_fields(view, fields)})


@endpoint
def update_healthmonitor(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = HEALTHMONITOR.parse_update(HEALTHMONITOR.unwrap(body))
    healthmonitor_id = request.path_params["healthmonitor_id"]
    with transaction(services.sessions) as session:
        row = mutations.update_healthmonitor(session, services, ctx, healthmonitor_id, values)
        loadbalancer_id = row.pool.loadbalancer_id
    services.queue.enqueue(loadbalancer_id)
    return JSONResponse({"healthmonitor": _show(request, healthmonitor_id)})


@endpoint
def delete_healthmonitor(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        loadbalancer_id = mutations.delete_healthmonitor(
            session, services, ctx, request.path_params["healthmonitor_id"]
        )
    services.queue.enqueue(loadbalancer_id)
    return empty_response(204)


def routes() -> list[Route]:
    item = "/lbaas/healthmonitors/{healthmonitor_id}"
    return [
        Route("/lbaas/healthmonitors", list_healthmonitors, methods=["GET"]),
        Route("/lbaas/healthmonitors", create_healthmonitor, methods=["POST"]),
        Route(item, show_healthmonitor, methods=["GET"]),
        Route(item, update_healthmonitor, methods=["PUT"]),
        Route(item, delete_healthmonitor, methods=["DELETE"]),
    ]
