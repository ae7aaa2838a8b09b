"""`/v2/lbaas/pools/{pool_id}/members` (spec §4.4), including the batch PUT."""

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.context import RequestContext
from pier.api.http import JSONResponse, empty_response
from pier.api.mutations import member as mutations
from pier.api.routes.common import authorize_object, endpoint, find_or_404
from pier.api.schemas.fields import Bool
from pier.api.schemas.member import MEMBER, parse_members_batch
from pier.api.services import get_context, get_services
from pier.api.views.common import load_tags
from pier.api.views.member import member_view
from pier.db.engine import transaction
from pier.db.tables import Member, Pool
from pier.domain.errors import InvalidInput

text, boolean, integer = listing.parse_text, listing.parse_bool, listing.parse_int
COLLECTION = listing.Collection(
    table=Member,
    list_key="members",
    links_key="members_links",
    filters={
        "id": (Member.id, text),
        "name": (Member.name, text),
        "project_id": (Member.project_id, text),
        "tenant_id": (Member.project_id, text),
        "provisioning_status": (Member.provisioning_status, text),
        "operating_status": (Member.operating_status, text),
        "admin_state_up": (Member.admin_state_up, boolean),
        "address": (Member.address, text),
        "protocol_port": (Member.protocol_port, integer),
        "weight": (Member.weight, integer),
        "backup": (Member.backup, boolean),
        "subnet_id": (Member.subnet_id, text),
        "monitor_address": (Member.monitor_address, text),
        "monitor_port": (Member.monitor_port, integer),
        "vnic_type": (Member.vnic_type, text),
        "created_at": (Member.created_at, text),
        "updated_at": (Member.updated_at, text),
    },
    sort_columns={
        "id": Member.id,
        "name": Member.name,
        "project_id": Member.project_id,
        "provisioning_status": Member.provisioning_status,
        "operating_status": Member.operating_status,
        "admin_state_up": Member.admin_state_up,
        "address": Member.address,
        "protocol_port": Member.protocol_port,
        "weight": Member.weight,
        "backup": Member.backup,
        "subnet_id": Member.subnet_id,
        "monitor_address": Member.monitor_address,
        "monitor_port": Member.monitor_port,
        "created_at": Member.created_at,
        "updated_at": Member.updated_at,
    },
)
# Clients repeat the pool id as a query parameter; it is the path's (spec §16).
IGNORED_FILTERS = frozenset({"pool_id"})


def _authorize_list(ctx: RequestContext, project_id: str | None) -> None:
    """`member:get_all` also allows the `service` role (spec §5.2)."""
    if "service" not in ctx.roles:
        authorize_object(ctx, policy.Rule.READ, project_id)


def _show(request: Request, pool_id: str, member_id: str) -> dict[str, Any]:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions, write=False) as session:
        pool = find_or_404(session, Pool, pool_id, "Pool")
        row = mutations.find_member(session, pool, member_id)
        authorize_object(ctx, policy.Rule.READ, row.project_id)
        return member_view(row, load_tags(session, [row.id])[row.id])


@endpoint
def list_members(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    query = listing.parse_list_query(
        request, COLLECTION, services.settings.pagination_max_limit, extra_ignored=IGNORED_FILTERS
    )
    with transaction(services.sessions, write=False) as session:
        pool = find_or_404(session, Pool, request.path_params["pool_id"], "Pool")
        _authorize_list(ctx, pool.project_id)
        base = select(Member).where(Member.pool_id == pool.id)
        rows = listing.fetch_page(session, COLLECTION, query, base)
        tags = load_tags(session, [row.id for row in rows])
        items = [
            listing.select_fields(member_view(row, tags[row.id]), query.fields) for row in rows
        ]
    links = listing.page_links(request, query, items, [row.id for row in rows])
    return JSONResponse({COLLECTION.list_key: items, COLLECTION.links_key: links})


@endpoint
def create_member(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = MEMBER.parse_create(MEMBER.unwrap(body))
    with transaction(services.sessions) as session:
        row = mutations.create_member(
            session, services, ctx, request.path_params["pool_id"], values
        )
        loadbalancer_id = row.pool.loadbalancer_id
        view = member_view(row, load_tags(session, [row.id])[row.id])
    services.queue.enqueue(loadbalancer_id)
    return JSONResponse({"member": view}, status_code=201)


@endpoint
def show_member(request: Request, _: Any) -> Response:
    params = request.path_params
    view = _show(request, params["pool_id"], params["member_id"])
    fields = request.query_params.getlist("fields")
    return JSONResponse({"member": listing.select_fields(view, fields)})


@endpoint
def update_member(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = MEMBER.parse_update(MEMBER.unwrap(body))
    pool_id, member_id = request.path_params["pool_id"], request.path_params["member_id"]
    with transaction(services.sessions) as session:
        row = mutations.update_member(session, services, ctx, pool_id, member_id, values)
        loadbalancer_id = row.pool.loadbalancer_id
    services.queue.enqueue(loadbalancer_id)
    return JSONResponse({"member": _show(request, pool_id, member_id)})


@endpoint
def delete_member(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    pool_id, member_id = request.path_params["pool_id"], request.path_params["member_id"]
    with transaction(services.sessions) as session:
        loadbalancer_id = mutations.delete_member(session, services, ctx, pool_id, member_id)
    services.queue.enqueue(loadbalancer_id)
    return empty_response(204)


def _additive_only(request: Request) -> bool:
    try:
        return bool(
            Bool().parse("additive_only", request.query_params.get("additive_only", "false"))
        )
    except InvalidInput:  # Octavia's bool_from_string: anything unparsable is false
        return False


@endpoint
def batch_update_members(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    requested = parse_members_batch(body)
    with transaction(services.sessions) as session:
        loadbalancer_id = mutations.batch_update_members(
            session,
            services,
            ctx,
            request.path_params["pool_id"],
            requested,
            _additive_only(request),
        )
    if loadbalancer_id is not None:
        services.queue.enqueue(loadbalancer_id)
    return empty_response(202)


def routes() -> list[Route]:
    collection = "/lbaas/pools/{pool_id}/members"
    item = f"{collection}/{{member_id}}"
    return [
        Route(collection, list_members, methods=["GET"]),
        Route(collection, create_member, methods=["POST"]),
        Route(collection, batch_update_members, methods=["PUT"]),
        Route(item, show_member, methods=["GET"]),
        Route(item, update_member, methods=["PUT"]),
        Route(item, delete_member, methods=["DELETE"]),
    ]
