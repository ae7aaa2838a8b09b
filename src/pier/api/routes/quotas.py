"""`/v2/lbaas/quotas` (spec §4.9, §6)."""

from typing import Any

from sqlalchemy import Select, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pier.api import listing, policy
from pier.api.context import RequestContext
from pier.api.http import JSONResponse, empty_response
from pier.api.mutations import quota as mutations
from pier.api.quota import RESOURCES
from pier.api.routes.common import endpoint
from pier.api.schemas.quota import DEPRECATED_SPELLINGS, parse_quota_update
from pier.api.services import get_context, get_services
from pier.api.views.quota import default_limits, effective_limits, quota_view, stored_limits
from pier.db.engine import transaction
from pier.db.tables import Quota
from pier.domain.errors import Forbidden

# Octavia's own answer at /quotas/defaults is "the quota of project `defaults`" (spec §15.5);
# we serve the configured defaults there, under that same project id.
DEFAULTS_PROJECT = "defaults"


class QuotaKeys:
    """Quota records are keyed by project: listing pages and sorts on `.id`."""

    id = Quota.project_id


integer = listing.parse_int
COLLECTION = listing.Collection(
    table=QuotaKeys,
    list_key="quotas",
    links_key="quotas_links",
    filters={
        "project_id": (Quota.project_id, listing.parse_text),
        "tenant_id": (Quota.project_id, listing.parse_text),
        **{name: (getattr(Quota, name), integer) for name in RESOURCES},
        **{old: (getattr(Quota, new), integer) for old, new in DEPRECATED_SPELLINGS.items()},
    },
    sort_columns={
        "project_id": Quota.project_id,
        **{name: getattr(Quota, name) for name in RESOURCES},
        **{old: getattr(Quota, new) for old, new in DEPRECATED_SPELLINGS.items()},
    },
    tagged=False,
)


def _scoped_quotas(ctx: RequestContext, request: Request) -> Select[Any]:
    """read-quota-global sees every record; others only their own (another project: 403)."""
    statement = select(Quota)
    requested = request.query_params.getlist("project_id")
    if policy.allowed(ctx, policy.Rule.READ_QUOTA_GLOBAL, None):
        return statement
    if any(project != ctx.project_id for project in requested) or ctx.project_id is None:
        raise Forbidden()
    policy.authorize(ctx, policy.Rule.READ_QUOTA, ctx.project_id)
    return statement.where(Quota.project_id == ctx.project_id)


@endpoint
def list_quotas(request: Request, _: Any) -> Response:
    """Stored records only (projects that created something or had a quota set), nulls kept."""
    services, ctx = get_services(request), get_context(request)
    query = listing.parse_list_query(request, COLLECTION, services.settings.pagination_max_limit)
    with transaction(services.sessions, write=False) as session:
        rows = listing.fetch_page(session, COLLECTION, query, _scoped_quotas(ctx, request))
        items = [
            listing.select_fields(quota_view(row.project_id, stored_limits(row)), query.fields)
            for row in rows
        ]
    links = listing.page_links(request, query, items, [row.project_id for row in rows])
    return JSONResponse({COLLECTION.list_key: items, COLLECTION.links_key: links})


def _effective_quota(request: Request, project_id: str) -> dict[str, Any]:
    services = get_services(request)
    with transaction(services.sessions, write=False) as session:
        row = session.get(Quota, project_id)
        return quota_view(project_id, effective_limits(row, services.settings.quota_defaults))


@endpoint
def show_quota(request: Request, _: Any) -> Response:
    """Effective limits: stored values with the configured defaults filled in."""
    project_id = request.path_params["project_id"]
    policy.authorize(get_context(request), policy.Rule.READ_QUOTA, project_id)
    return JSONResponse({"quota": _effective_quota(request, project_id)})


@endpoint
def show_project_defaults(request: Request, _: Any) -> Response:
    project_id = request.path_params["project_id"]
    policy.authorize(get_context(request), policy.Rule.READ_QUOTA, project_id)
    defaults = get_services(request).settings.quota_defaults
    return JSONResponse({"quota": quota_view(project_id, default_limits(defaults))})


@endpoint
def show_defaults(request: Request, _: Any) -> Response:
    """The configured defaults, readable by anyone who may read their own project's quota."""
    ctx = get_context(request)
    policy.authorize(ctx, policy.Rule.READ_QUOTA, ctx.project_id)
    defaults = get_services(request).settings.quota_defaults
    return JSONResponse({"quota": quota_view(DEFAULTS_PROJECT, default_limits(defaults))})


@endpoint
def update_quota(request: Request, body: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    project_id = request.path_params["project_id"]
    values = parse_quota_update(body)
    with transaction(services.sessions) as session:
        row = mutations.update_quota(session, ctx, project_id, values)
        session.flush()
        view = quota_view(project_id, effective_limits(row, services.settings.quota_defaults))
    return JSONResponse({"quota": view}, status_code=202)


@endpoint
def reset_quota(request: Request, _: Any) -> Response:
    services, ctx = get_services(request), get_context(request)
    with transaction(services.sessions) as session:
        mutations.reset_quota(session, ctx, request.path_params["project_id"])
    return empty_response(202)


def routes() -> list[Route]:
    item = "/lbaas/quotas/{project_id}"
    return [
        Route("/lbaas/quotas", list_quotas, methods=["GET"]),
        # Before `{project_id}`: GET /quotas/defaults is the defaults, not project "defaults".
        Route("/lbaas/quotas/defaults", show_defaults, methods=["GET"]),
        Route(item, show_quota, methods=["GET"]),
        Route(item, update_quota, methods=["PUT"]),
        Route(item, reset_quota, methods=["DELETE"]),
        Route(f"{item}/default", show_project_defaults, methods=["GET"]),
    ]
