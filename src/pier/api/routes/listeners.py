"""`/v2/lbaas/listeners` (spec §4.2) and listener statistics (§3.6)."""

from typing import Any

from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.http import JSONResponse, empty_response
from pier.api.mutations import listener as mutations
from pier.api.routes.common import authorize_object, endpoint, find_or_404, scoped_select
from pier.api.schemas.listener import LISTENER
from pier.api.services import get_context, get_services
from pier.api.views.common import load_tags
from pier.api.views.listener import listener_view
from pier.api.views.stats import stats_document, stats_select
from pier.db.engine import transaction
from pier.db.tables import Listener, ListenerStatistics

L = Listener
text, boolean, integer = listing.parse_text, listing.parse_bool, listing.parse_int
COLLECTION = listing.Collection(
    table=L,
    list_key="listeners",
    links_key="listeners_links",
    filters={
        "id": (L.id, text),
        "name": (L.name, text),
        "description": (L.description, text),
        "project_id": (L.project_id, text),
        "tenant_id": (L.project_id, text),
        "provisioning_status": (L.provisioning_status, text),
        "operating_status": (L.operating_status, text),
        "admin_state_up": (L.admin_state_up, boolean),
        "protocol": (L.protocol, text),
        "protocol_port": (L.protocol_port, integer),
        "connection_limit": (L.connection_limit, integer),
        "loadbalancer_id": (L.loadbalancer_id, text),
        "default_pool_id": (L.default_pool_id, text),
        "default_tls_container_ref": (L.default_tls_container_ref, text),
        "timeout_client_data": (L.timeout_client_data, integer),
        "timeout_member_connect": (L.timeout_member_connect, integer),
        "timeout_member_data": (L.timeout_member_data, integer),
        "timeout_tcp_inspect": (L.timeout_tcp_inspect, integer),
        "client_authentication": (L.client_authentication, text),
        "created_at": (L.created_at, text),
        "updated_at": (L.updated_at, text),
    },
    sort_columns={
        "id": L.id,
        "name": L.name,
        "description": L.description,
        "project_id": L.project_id,
        "provisioning_status": L.provisioning_status,
        "operating_status": L.operating_status,
        "admin_state_up": L.admin_state_up,
        "protocol": L.protocol,
        "protocol_port": L.protocol_port,
        "connection_limit": L.connection_limit,
        "loadbalancer_id": L.loadbalancer_id,
        "default_pool_id": L.default_pool_id,
        "created_at": L.created_at,
        "updated_at": L.updated_at,
    },
)
EAGER = (selectinload(L.l7policies),)


def _show(request: Request, listener_id: str) -> dict[str, Any]:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions, write=False) as session:
        row = find_or_404(session, L, listener_id, "Listener")
        authorize_object(ctx, policy.Rule.READ, row.project_id)
        return listener_view(row, load_tags(session, [row.id])[row.id])


@endpoint
def list_listeners(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    query = listing.parse_list_query(request, COLLECTION, services.settings.pagination_max_limit)
    with transaction(services.sessions, write=False) as session:
        base = scoped_select(ctx, L, request).options(*EAGER)
        rows = listing.fetch_page(session, COLLECTION, query, base)
        tags = load_tags(session, [row.id for row in rows])
        items = [
            listing.select_fields(listener_view(row, tags[row.id]), query.fields) for row in rows
        ]
    links = listing.page_links(request, query, items, [row.id for row in rows])
    return JSONResponse({COLLECTION.list_key: items, COLLECTION.links_key: links})


@endpoint
def create_listener(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = LISTENER.parse_create(LISTENER.unwrap(body))
    with transaction(services.sessions) as session:
        row = mutations.create_listener(session, services, ctx, values)
        session.flush()
        session.refresh(row)
        view = listener_view(row, load_tags(session, [row.id])[row.id])
    services.queue.enqueue(row.loadbalancer_id)
    return JSONResponse({"listener": view}, status_code=201)


@endpoint
def show_listener(request: Request, _: Any) -> Response:
    view = _show(request, request.path_params["listener_id"])
    fields = request.query_params.getlist("fields")
    return JSONResponse({"listener": listing.select_fields(view, fields)})


@endpoint
def update_listener(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = LISTENER.parse_update(LISTENER.unwrap(body))
    listener_id = request.path_params["listener_id"]
    with transaction(services.sessions) as session:
        row = mutations.update_listener(session, services, ctx, listener_id, values)
        loadbalancer_id = row.loadbalancer_id
    services.queue.enqueue(loadbalancer_id)
    return JSONResponse({"listener": _show(request, listener_id)})


@endpoint
def delete_listener(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        loadbalancer_id = mutations.delete_listener(
            session, services, ctx, request.path_params["listener_id"]
        )
    services.queue.enqueue(loadbalancer_id)
    return empty_response(204)


@endpoint
def listener_stats(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions, write=False) as session:
        row = find_or_404(session, L, request.path_params["listener_id"], "Listener")
        authorize_object(ctx, policy.Rule.READ, row.project_id)
        query = stats_select().where(ListenerStatistics.listener_id == row.id)
        sums = session.execute(query).one()
    return JSONResponse(stats_document(sums))


def routes() -> list[Route]:
    item = "/lbaas/listeners/{listener_id}"
    return [
        Route("/lbaas/listeners", list_listeners, methods=["GET"]),
        Route("/lbaas/listeners", create_listener, methods=["POST"]),
        Route(item, show_listener, methods=["GET"]),
        Route(item, update_listener, methods=["PUT"]),
        Route(item, delete_listener, methods=["DELETE"]),
        Route(f"{item}/stats", listener_stats, methods=["GET"]),
    ]
