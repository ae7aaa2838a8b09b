"""`/v2/lbaas/pools` (spec §4.3)."""

from typing import Any

from sqlalchemy.orm import Session, selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.http import JSONResponse, empty_response
from pier.api.mutations import pool as mutations
from pier.api.routes.common import authorize_object, endpoint, find_or_404, scoped_select
from pier.api.schemas.pool import POOL, POOL_UPDATE
from pier.api.services import get_context, get_services
from pier.api.views.common import load_tags
from pier.api.views.pool import load_pool_listeners, pool_view
from pier.db.engine import transaction
from pier.db.tables import Pool

P = Pool
text, boolean = listing.parse_text, listing.parse_bool
COLLECTION = listing.Collection(
    table=P,
    list_key="pools",
    links_key="pools_links",
    filters={
        "id": (P.id, text),
        "name": (P.name, text),
        "description": (P.description, text),
        "project_id": (P.project_id, text),
        "tenant_id": (P.project_id, text),
        "provisioning_status": (P.provisioning_status, text),
        "operating_status": (P.operating_status, text),
        "admin_state_up": (P.admin_state_up, boolean),
        "protocol": (P.protocol, text),
        "lb_algorithm": (P.lb_algorithm, text),
        "loadbalancer_id": (P.loadbalancer_id, text),
        "tls_enabled": (P.tls_enabled, boolean),
        "tls_container_ref": (P.tls_container_ref, text),
        "ca_tls_container_ref": (P.ca_tls_container_ref, text),
        "crl_container_ref": (P.crl_container_ref, text),
        "created_at": (P.created_at, text),
        "updated_at": (P.updated_at, text),
    },
    sort_columns={
        "id": P.id,
        "name": P.name,
        "description": P.description,
        "project_id": P.project_id,
        "provisioning_status": P.provisioning_status,
        "operating_status": P.operating_status,
        "admin_state_up": P.admin_state_up,
        "protocol": P.protocol,
        "lb_algorithm": P.lb_algorithm,
        "loadbalancer_id": P.loadbalancer_id,
        "tls_enabled": P.tls_enabled,
        "created_at": P.created_at,
        "updated_at": P.updated_at,
    },
)
EAGER = (selectinload(P.members), selectinload(P.healthmonitor))


def _views(session: Session, rows: list[Pool]) -> list[dict[str, Any]]:
    ids = [row.id for row in rows]
    tags, listeners = load_tags(session, ids), load_pool_listeners(session, ids)
    return [pool_view(row, tags[row.id], listeners.get(row.id, [])) for row in rows]


def _show(request: Request, pool_id: str) -> dict[str, Any]:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions, write=False) as session:
        row = find_or_404(session, P, pool_id, "Pool")
        authorize_object(ctx, policy.Rule.READ, row.project_id)
        return _views(session, [row])[0]


@endpoint
def list_pools(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    query = listing.parse_list_query(request, COLLECTION, services.settings.pagination_max_limit)
    with transaction(services.sessions, write=False) as session:
        base = scoped_select(ctx, P, request).options(*EAGER)
        rows = listing.fetch_page(session, COLLECTION, query, base)
        items = [listing.select_fields(view, query.fields) for view in _views(session, rows)]
    links = listing.page_links(request, query, items, [row.id for row in rows])
    return JSONResponse({COLLECTION.list_key: items, COLLECTION.links_key: links})


@endpoint
def create_pool(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = POOL.parse_create(POOL.unwrap(body))
    with transaction(services.sessions) as session:
        row = mutations.create_pool(session, services, ctx, values)
        session.flush()
        session.refresh(row)
        view = _views(session, [row])[0]
    services.queue.enqueue(row.loadbalancer_id)
    return JSONResponse({"pool": view}, status_code=201)


@endpoint
def show_pool(request: Request, _: Any) -> Response:
    view = _show(request, request.path_params["pool_id"])
    return JSONResponse(
        {"pool": listing.select_fields(view, request.query_params.getlist("fields"))}
    )


@endpoint
def update_pool(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = POOL_UPDATE.parse_update(POOL_UPDATE.unwrap(body))
    pool_id = request.path_params["pool_id"]
    with transaction(services.sessions) as session:
        loadbalancer_id = mutations.update_pool(
            session, services, ctx, pool_id, values
        ).loadbalancer_id
    services.queue.enqueue(loadbalancer_id)
    return JSONResponse({"pool": _show(request, pool_id)})


@endpoint
def delete_pool(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        loadbalancer_id = mutations.delete_pool(
            session, services, ctx, request.path_params["pool_id"]
        )
    services.queue.enqueue(loadbalancer_id)
    return empty_response(204)


def routes() -> list[Route]:
    item = "/lbaas/pools/{pool_id}"
    return [
        Route("/lbaas/pools", list_pools, methods=["GET"]),
        Route("/lbaas/pools", create_pool, methods=["POST"]),
        Route(item, show_pool, methods=["GET"]),
        Route(item, update_pool, methods=["PUT"]),
        Route(item, delete_pool, methods=["DELETE"]),
    ]
