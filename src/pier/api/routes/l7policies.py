"""`/v2/lbaas/l7policies` (spec §4.6)."""

from typing import Any

from sqlalchemy.orm import Session, selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.http import JSONResponse, empty_response
from pier.api.mutations import l7policy as mutations
from pier.api.routes.common import authorize_object, endpoint, find_or_404, scoped_select
from pier.api.schemas.l7policy import L7POLICY
from pier.api.schemas.l7rule import L7RULE
from pier.api.services import get_context, get_services
from pier.api.views.common import load_tags
from pier.api.views.l7policy import l7policy_view
from pier.db.engine import transaction
from pier.db.tables import L7Policy
from pier.domain.enums import ProvisioningStatus

P = L7Policy
text, boolean, integer = listing.parse_text, listing.parse_bool, listing.parse_int
COLLECTION = listing.Collection(
    table=P,
    list_key="l7policies",
    links_key="l7policies_links",
    filters={
        "id": (P.id, text),
        "name": (P.name, text),
        "description": (P.description, text),
        "project_id": (P.project_id, text),
        "tenant_id": (P.project_id, text),
        "listener_id": (P.listener_id, text),
        "action": (P.action, text),
        "redirect_pool_id": (P.redirect_pool_id, text),
        "redirect_url": (P.redirect_url, text),
        "redirect_prefix": (P.redirect_prefix, text),
        "redirect_http_code": (P.redirect_http_code, integer),
        "position": (P.position, integer),
        "admin_state_up": (P.admin_state_up, boolean),
        "provisioning_status": (P.provisioning_status, text),
        "operating_status": (P.operating_status, text),
        "created_at": (P.created_at, text),
        "updated_at": (P.updated_at, text),
    },
    sort_columns={
        "id": P.id,
        "name": P.name,
        "description": P.description,
        "project_id": P.project_id,
        "listener_id": P.listener_id,
        "action": P.action,
        "position": P.position,
        "redirect_pool_id": P.redirect_pool_id,
        "redirect_url": P.redirect_url,
        "redirect_prefix": P.redirect_prefix,
        "redirect_http_code": P.redirect_http_code,
        "admin_state_up": P.admin_state_up,
        "provisioning_status": P.provisioning_status,
        "operating_status": P.operating_status,
        "created_at": P.created_at,
        "updated_at": P.updated_at,
    },
)
ROOT = "l7policy"


def _view(session: Session, row: L7Policy) -> dict[str, Any]:
    return l7policy_view(row, load_tags(session, [row.id])[row.id])


def _written(session: Session, row: L7Policy) -> dict[str, Any]:
    """The response of a write: flushed and re-read, so positions and rules are current."""
    session.flush()
    session.refresh(row)
    return _view(session, row)


@endpoint
def list_l7policies(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    query = listing.parse_list_query(request, COLLECTION, services.settings.pagination_max_limit)
    with transaction(services.sessions, write=False) as session:
        base = scoped_select(ctx, P, request).options(selectinload(P.rules))
        base = base.where(P.provisioning_status != ProvisioningStatus.DELETED.value)
        rows = listing.fetch_page(session, COLLECTION, query, base)
        tags = load_tags(session, [row.id for row in rows])
        items = [
            listing.select_fields(l7policy_view(row, tags[row.id]), query.fields) for row in rows
        ]
    links = listing.page_links(request, query, items, [row.id for row in rows])
    return JSONResponse({COLLECTION.list_key: items, COLLECTION.links_key: links})


@endpoint
def create_l7policy(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = L7POLICY.parse_create(L7POLICY.unwrap(body))
    values["rules"] = [
        L7RULE.parse_create(rule, argument="l7policy_.l7policy.rules") for rule in values["rules"]
    ]
    with transaction(services.sessions) as session:
        row = mutations.create_l7policy(session, services, ctx, values)
        loadbalancer_id = row.listener.loadbalancer_id
        view = _written(session, row)
    services.queue.enqueue(loadbalancer_id)
    return JSONResponse({ROOT: view}, status_code=201)


@endpoint
def show_l7policy(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions, write=False) as session:
        row = find_or_404(session, P, request.path_params["l7policy_id"], "L7 Policy")
        authorize_object(ctx, policy.Rule.READ, row.project_id)
        view = _view(session, row)
    fields = request.query_params.getlist("fields")
    return JSONResponse({ROOT: listing.select_fields(view, fields)})


@endpoint
def update_l7policy(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = L7POLICY.parse_update(L7POLICY.unwrap(body))
    with transaction(services.sessions) as session:
        row = mutations.update_l7policy(
            session, services, ctx, request.path_params["l7policy_id"], values
        )
        loadbalancer_id = row.listener.loadbalancer_id
        view = _written(session, row)
    services.queue.enqueue(loadbalancer_id)
    return JSONResponse({ROOT: view})


@endpoint
def delete_l7policy(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        loadbalancer_id = mutations.delete_l7policy(
            session, services, ctx, request.path_params["l7policy_id"]
        )
    services.queue.enqueue(loadbalancer_id)
    return empty_response(204)


def routes() -> list[Route]:
    item = "/lbaas/l7policies/{l7policy_id}"
    return [
        Route("/lbaas/l7policies", list_l7policies, methods=["GET"]),
        Route("/lbaas/l7policies", create_l7policy, methods=["POST"]),
        Route(item, show_l7policy, methods=["GET"]),
        Route(item, update_l7policy, methods=["PUT"]),
        Route(item, delete_l7policy, methods=["DELETE"]),
    ]
