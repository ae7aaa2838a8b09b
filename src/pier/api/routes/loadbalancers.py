"""`/v2/lbaas/loadbalancers` (spec §4.1)."""

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.http import JSONResponse, empty_response
from pier.api.mutations import graph
from pier.api.mutations import loadbalancer as mutations
from pier.api.response_cache import get_response_cache
from pier.api.routes.common import authorize_object, endpoint, find_or_404, scoped_select
from pier.api.schemas.fields import Bool
from pier.api.schemas.loadbalancer import LOADBALANCER
from pier.api.services import get_context, get_services
from pier.api.views.common import load_tags
from pier.api.views.loadbalancer import (
    load_children,
    loadbalancer_row_view,
    loadbalancer_view,
    status_tree_view,
)
from pier.api.views.stats import stats_document, stats_select
from pier.db.engine import transaction
from pier.db.tables import Listener, ListenerStatistics, LoadBalancer
from pier.domain.enums import ProvisioningStatus
from pier.domain.errors import InvalidInput

LB = LoadBalancer
text, boolean, integer = listing.parse_text, listing.parse_bool, listing.parse_int
COLLECTION = listing.Collection(
    table=LB,
    list_key="loadbalancers",
    links_key="loadbalancers_links",
    filters={
        "id": (LB.id, text),
        "name": (LB.name, text),
        "description": (LB.description, text),
        "project_id": (LB.project_id, text),
        "tenant_id": (LB.project_id, text),
        "provisioning_status": (LB.provisioning_status, text),
        "operating_status": (LB.operating_status, text),
        "admin_state_up": (LB.admin_state_up, boolean),
        "vip_address": (LB.vip_address, text),
        "vip_subnet_id": (LB.vip_subnet_id, text),
        "vip_network_id": (LB.vip_network_id, text),
        "vip_port_id": (LB.vip_port_id, text),
        "vip_qos_policy_id": (LB.vip_qos_policy_id, text),
        "provider": (LB.provider, text),
        "flavor_id": (LB.flavor_id, text),
        "availability_zone": (LB.availability_zone, text),
        "created_at": (LB.created_at, text),
        "updated_at": (LB.updated_at, text),
    },
    sort_columns={
        "id": LB.id,
        "name": LB.name,
        "description": LB.description,
        "project_id": LB.project_id,
        "provisioning_status": LB.provisioning_status,
        "operating_status": LB.operating_status,
        "admin_state_up": LB.admin_state_up,
        "vip_address": LB.vip_address,
        "provider": LB.provider,
        "created_at": LB.created_at,
        "updated_at": LB.updated_at,
        "flavor_id": LB.flavor_id,
        "availability_zone": LB.availability_zone,
    },
)


def _show(request: Request, loadbalancer_id: str) -> dict[str, Any]:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions, write=False) as session:
        row = find_or_404(session, LB, loadbalancer_id, "Load Balancer")
        authorize_object(ctx, policy.Rule.READ, row.project_id)
        return loadbalancer_view(session, row)


@endpoint
def list_loadbalancers(request: Request, _: Any) -> Response:
    """The hottest read (dashboards and `--wait` loops poll it), served from the response
    cache while the database is unchanged.
    """
    services, ctx = get_services(request), get_context(request)
    query = listing.parse_list_query(request, COLLECTION, services.settings.pagination_max_limit)
    cache = get_response_cache(request)
    key = ("loadbalancers", ctx, str(request.url))
    revision = cache.revision()
    if (cached := cache.get(key, revision)) is not None:
        return Response(cached, media_type="application/json")
    with transaction(services.sessions, write=False) as session:
        base = scoped_select(ctx, LB, request, columns=LB.__table__.columns)
        base = base.where(LB.provisioning_status != ProvisioningStatus.DELETED.value)
        rows = listing.fetch_page(session, COLLECTION, query, base, as_rows=True)
        ids = [row.id for row in rows]
        tags = load_tags(session, ids)
        listeners, pools = load_children(session, ids)
        items = [
            listing.select_fields(
                loadbalancer_row_view(row, tags[row.id], listeners[row.id], pools[row.id]),
                query.fields,
            )
            for row in rows
        ]
    links = listing.page_links(request, query, items, ids)
    body = orjson.dumps({COLLECTION.list_key: items, COLLECTION.links_key: links})
    cache.put(key, revision, body)
    return Response(body, media_type="application/json")


@endpoint
def create_loadbalancer(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = LOADBALANCER.parse_create(LOADBALANCER.unwrap(body))
    listeners, pools = values.pop("listeners"), values.pop("pools")
    with transaction(services.sessions) as session:
        row = mutations.create_loadbalancer(session, services, ctx, values)
        created = graph.create_children(session, services, ctx, row, listeners, pools)
        session.flush()
        session.refresh(row)
        view = loadbalancer_view(session, row)
        view.update(graph.children_view(session, created))
    services.queue.enqueue(row.id)
    return JSONResponse({"loadbalancer": view}, status_code=201)


@endpoint
def show_loadbalancer(request: Request, _: Any) -> Response:
    view = _show(request, request.path_params["loadbalancer_id"])
    fields = request.query_params.getlist("fields")
    return JSONResponse({"loadbalancer": listing.select_fields(view, fields)})


@endpoint
def update_loadbalancer(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = LOADBALANCER.parse_update(LOADBALANCER.unwrap(body))
    loadbalancer_id = request.path_params["loadbalancer_id"]
    with transaction(services.sessions) as session:
        mutations.update_loadbalancer(session, services, ctx, loadbalancer_id, values)
    services.queue.enqueue(loadbalancer_id)
    return JSONResponse({"loadbalancer": _show(request, loadbalancer_id)})


@endpoint
def delete_loadbalancer(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    loadbalancer_id = request.path_params["loadbalancer_id"]
    try:
        cascade = Bool().parse("cascade", request.query_params.get("cascade", "false"))
    except InvalidInput:  # Octavia treats anything unparsable as false
        cascade = False
    with transaction(services.sessions) as session:
        mutations.delete_loadbalancer(session, services, ctx, loadbalancer_id, cascade)
    services.queue.enqueue(loadbalancer_id)
    return empty_response(204)


@endpoint
def failover_loadbalancer(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    loadbalancer_id = request.path_params["loadbalancer_id"]
    with transaction(services.sessions) as session:
        mutations.failover_loadbalancer(session, services, ctx, loadbalancer_id)
    services.queue.enqueue(loadbalancer_id)
    return empty_response(202)


@endpoint
def loadbalancer_status(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions, write=False) as session:
        row = find_or_404(session, LB, request.path_params["loadbalancer_id"], "Load Balancer")
        authorize_object(ctx, policy.Rule.READ, row.project_id)
        return JSONResponse(status_tree_view(row))


@endpoint
def loadbalancer_stats(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions, write=False) as session:
        row = find_or_404(session, LB, request.path_params["loadbalancer_id"], "Load Balancer")
        authorize_object(ctx, policy.Rule.READ, row.project_id)
        query = (
            stats_select()
            .join(Listener, Listener.id == ListenerStatistics.listener_id)
            .where(Listener.loadbalancer_id == row.id)
        )
        sums = session.execute(query).one()
    return JSONResponse(stats_document(sums))


def routes() -> list[Route]:
    item = "/lbaas/loadbalancers/{loadbalancer_id}"
    return [
        Route("/lbaas/loadbalancers", list_loadbalancers, methods=["GET"]),
        Route("/lbaas/loadbalancers", create_loadbalancer, methods=["POST"]),
        Route(item, show_loadbalancer, methods=["GET"]),
        Route(item, update_loadbalancer, methods=["PUT"]),
        Route(item, delete_loadbalancer, methods=["DELETE"]),
        Route(f"{item}/status", loadbalancer_status, methods=["GET"]),
        Route(f"{item}/statuses", loadbalancer_status, methods=["GET"]),
        Route(f"{item}/stats", loadbalancer_stats, methods=["GET"]),
        Route(f"{item}/failover", failover_loadbalancer, methods=["PUT"]),
    ]
