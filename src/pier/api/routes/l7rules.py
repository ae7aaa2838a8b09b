"""`/v2/lbaas/l7policies/{l7policy_id}/rules` (spec §4.7): wrapper `rule`, list key `rules`."""

from typing import Any

from sqlalchemy import null, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.http import JSONResponse, empty_response
from pier.api.mutations import l7rule as mutations
from pier.api.routes.common import authorize_object, endpoint, find_or_404
from pier.api.schemas.l7rule import L7RULE
from pier.api.services import get_context, get_services
from pier.api.views.common import load_tags
from pier.api.views.l7rule import l7rule_view
from pier.db.engine import transaction
from pier.db.tables import L7Policy, L7Rule
from pier.domain.enums import ProvisioningStatus

R = L7Rule
text, boolean = listing.parse_text, listing.parse_bool
COLLECTION = listing.Collection(
    table=R,
    list_key="rules",
    links_key="rules_links",
    filters={
        "id": (R.id, text),
        # Rules have no name, but the CLI resolves every resource with `?name=` (spec §16):
        # it must match nothing rather than be a 400.
        "name": (null(), text),
        "project_id": (R.project_id, text),
        "tenant_id": (R.project_id, text),
        "type": (R.type, text),
        "compare_type": (R.compare_type, text),
        "key": (R.key, text),
        "value": (R.value, text),
        "invert": (R.invert, boolean),
        "admin_state_up": (R.admin_state_up, boolean),
        "provisioning_status": (R.provisioning_status, text),
        "operating_status": (R.operating_status, text),
        "created_at": (R.created_at, text),
        "updated_at": (R.updated_at, text),
    },
    sort_columns={
        "id": R.id,
        "project_id": R.project_id,
        "type": R.type,
        "compare_type": R.compare_type,
        "key": R.key,
        "value": R.value,
        "invert": R.invert,
        "admin_state_up": R.admin_state_up,
        "provisioning_status": R.provisioning_status,
        "operating_status": R.operating_status,
        "created_at": R.created_at,
        "updated_at": R.updated_at,
    },
)
ROOT = "rule"


def _readable_policy(request: Request, session: Session) -> L7Policy:
    """The path's policy (404 under Octavia's sub-route name `L7Policy`), readable by the caller."""
    row: L7Policy = find_or_404(
        session, L7Policy, request.path_params["l7policy_id"], mutations.SUBROUTE_POLICY
    )
    authorize_object(get_context(request), policy.Rule.READ, row.project_id)
    return row


def _view(session: Session, row: L7Rule) -> dict[str, Any]:
    return l7rule_view(row, load_tags(session, [row.id])[row.id])


@endpoint
def list_l7rules(request: Request, _: Any) -> Response:
    services = get_services(request)
    query = listing.parse_list_query(request, COLLECTION, services.settings.pagination_max_limit)
    with transaction(services.sessions, write=False) as session:
        l7policy = _readable_policy(request, session)
        base = select(R).where(
            R.l7policy_id == l7policy.id, R.provisioning_status != ProvisioningStatus.DELETED.value
        )
        rows = listing.fetch_page(session, COLLECTION, query, base)
        tags = load_tags(session, [row.id for row in rows])
        items = [
            listing.select_fields(l7rule_view(row, tags[row.id]), query.fields) for row in rows
        ]
    links = listing.page_links(request, query, items, [row.id for row in rows])
    return JSONResponse({COLLECTION.list_key: items, COLLECTION.links_key: links})


@endpoint
def create_l7rule(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = L7RULE.parse_create(L7RULE.unwrap(body))
    with transaction(services.sessions) as session:
        row = mutations.create_l7rule(
            session, services, ctx, request.path_params["l7policy_id"], values
        )
        loadbalancer_id = row.l7policy.listener.loadbalancer_id
        view = _view(session, row)
    services.queue.enqueue(loadbalancer_id)
    return JSONResponse({ROOT: view}, status_code=201)


@endpoint
def show_l7rule(request: Request, _: Any) -> Response:
    services = get_services(request)
    with transaction(services.sessions, write=False) as session:
        l7policy = _readable_policy(request, session)
        row = mutations.find_l7rule(session, l7policy, request.path_params["l7rule_id"])
        view = _view(session, row)
    fields = request.query_params.getlist("fields")
    return JSONResponse({ROOT: listing.select_fields(view, fields)})


@endpoint
def update_l7rule(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    values = L7RULE.parse_update(L7RULE.unwrap(body))
    with transaction(services.sessions) as session:
        row = mutations.update_l7rule(
            session,
            services,
            ctx,
            request.path_params["l7policy_id"],
            request.path_params["l7rule_id"],
            values,
        )
        loadbalancer_id = row.l7policy.listener.loadbalancer_id
        session.flush()
        view = _view(session, row)
    services.queue.enqueue(loadbalancer_id)
    return JSONResponse({ROOT: view})


@endpoint
def delete_l7rule(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        loadbalancer_id = mutations.delete_l7rule(
            session,
            services,
            ctx,
            request.path_params["l7policy_id"],
            request.path_params["l7rule_id"],
        )
    services.queue.enqueue(loadbalancer_id)
    return empty_response(204)


def routes() -> list[Route]:
    collection = "/lbaas/l7policies/{l7policy_id}/rules"
    item = f"{collection}/{{l7rule_id}}"
    return [
        Route(collection, list_l7rules, methods=["GET"]),
        Route(collection, create_l7rule, methods=["POST"]),
        Route(item, show_l7rule, methods=["GET"]),
        Route(item, update_l7rule, methods=["PUT"]),
        Route(item, delete_l7rule, methods=["DELETE"]),
    ]
