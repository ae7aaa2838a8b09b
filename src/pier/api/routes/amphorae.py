"""`/v2/octavia/amphorae` (spec §4.13); every operation is admin-only."""

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.http import JSONResponse, empty_response
from pier.api.mutations import amphora as mutations
from pier.api.routes.common import endpoint
from pier.api.services import get_context, get_services
from pier.api.views.amphora import amphora_stats_view, amphora_view
from pier.db.engine import transaction
from pier.db.tables import Amphora, ListenerStatistics, LoadBalancer
from pier.domain.enums import AmphoraStatus
from pier.domain.errors import NotFound

AMP = Amphora
text, boolean, integer = listing.parse_text, listing.parse_bool, listing.parse_int
COLUMNS = (
    "id",
    "loadbalancer_id",
    "compute_id",
    "lb_network_ip",
    "vrrp_ip",
    "ha_ip",
    "vrrp_port_id",
    "ha_port_id",
    "role",
    "status",
    "vrrp_interface",
    "cached_zone",
    "image_id",
    "compute_flavor",
    "cert_expiration",
    "created_at",
    "updated_at",
)
COLLECTION = listing.Collection(
    table=AMP,
    list_key="amphorae",
    links_key="amphorae_links",
    filters={
        **{name: (getattr(AMP, name), text) for name in COLUMNS},
        "cert_busy": (AMP.cert_busy, boolean),
        "vrrp_id": (AMP.vrrp_id, integer),
        "vrrp_priority": (AMP.vrrp_priority, integer),
        # Amphorae have no project: the owning load balancer's is matched (spec §1.7).
        "project_id": (LoadBalancer.project_id, text),
    },
    sort_columns={
        **{name: getattr(AMP, name) for name in COLUMNS},
        "cert_busy": AMP.cert_busy,
        "vrrp_id": AMP.vrrp_id,
        "vrrp_priority": AMP.vrrp_priority,
    },
    tagged=False,
)


def _authorize(request: Request) -> None:
    ctx = get_context(request)
    policy.authorize(ctx, policy.Rule.ADMIN, ctx.project_id)


@endpoint
def list_amphorae(request: Request, _: Any) -> Response:
    """DELETED amphorae are hidden; `project_id` needs the owner, hence the outer join."""
    _authorize(request)
    services = get_services(request)
    query = listing.parse_list_query(request, COLLECTION, services.settings.pagination_max_limit)
    base = select(AMP).where(AMP.status != AmphoraStatus.DELETED.value)
    if "project_id" in query.filters:
        base = base.outerjoin(LoadBalancer, LoadBalancer.id == AMP.loadbalancer_id)
    with transaction(services.sessions, write=False) as session:
        rows = listing.fetch_page(session, COLLECTION, query, base)
        items = [listing.select_fields(amphora_view(row), query.fields) for row in rows]
    links = listing.page_links(request, query, items, [row.id for row in rows])
    return JSONResponse({COLLECTION.list_key: items, COLLECTION.links_key: links})


@endpoint
def show_amphora(request: Request, _: Any) -> Response:
    _authorize(request)
    services = get_services(request)
    with transaction(services.sessions, write=False) as session:
        view = amphora_view(mutations.find_amphora(session, request.path_params["amphora_id"]))
    fields = request.query_params.getlist("fields")
    return JSONResponse({"amphora": listing.select_fields(view, fields)})


@endpoint
def failover_amphora(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        loadbalancer_id = mutations.failover_amphora(
            session, services, ctx, request.path_params["amphora_id"]
        )
    services.queue.enqueue(loadbalancer_id)
    return empty_response(202)


@endpoint
def configure_amphora(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions, write=False) as session:
        loadbalancer_id = mutations.refresh_amphora_config(
            session, ctx, request.path_params["amphora_id"]
        )
    if loadbalancer_id is not None:
        services.queue.enqueue(loadbalancer_id)
    return empty_response(202)


@endpoint
def delete_amphora(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        loadbalancer_id = mutations.delete_amphora(
            session, services, ctx, request.path_params["amphora_id"]
        )
    if loadbalancer_id is not None:  # a spare is collected by the worker's resync
        services.queue.enqueue(loadbalancer_id)
    return empty_response(204)


@endpoint
def amphora_stats(request: Request, _: Any) -> Response:
    """One row per listener the amphora reported; none at all is a 404, as in Octavia."""
    _authorize(request)
    services = get_services(request)
    amphora_id = request.path_params["amphora_id"]
    statement = (
        select(ListenerStatistics, AMP.loadbalancer_id)
        .join(AMP, AMP.id == ListenerStatistics.amphora_id)
        .where(ListenerStatistics.amphora_id == amphora_id)
        .order_by(ListenerStatistics.listener_id)
    )
    with transaction(services.sessions, write=False) as session:
        stats = [
            amphora_stats_view(row, loadbalancer_id)
            for row, loadbalancer_id in session.execute(statement)
        ]
    if not stats:
        raise NotFound.of("Amphora stats for", amphora_id)
    return JSONResponse({"amphora_stats": stats})


def routes() -> list[Route]:
    item = "/octavia/amphorae/{amphora_id}"
    return [
        Route("/octavia/amphorae", list_amphorae, methods=["GET"]),
        Route(item, show_amphora, methods=["GET"]),
        Route(item, delete_amphora, methods=["DELETE"]),
        Route(f"{item}/failover", failover_amphora, methods=["PUT"]),
        Route(f"{item}/config", configure_amphora, methods=["PUT"]),
        Route(f"{item}/stats", amphora_stats, methods=["GET"]),
    ]
