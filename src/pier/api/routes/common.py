"""What every Octavia route shares: the sync-handler adapter, lookups, list scoping."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pier.api import policy
from pier.api.context import RequestContext
from pier.api.http import read_json
from pier.domain.errors import Forbidden, NotFound

Handler = Callable[[Request, Any], Response]


def endpoint(handler: Handler) -> Callable[[Request], Any]:
    """Read the body on the event loop, then run the (blocking, DB-bound) handler in a thread."""

    async def asgi_endpoint(request: Request) -> Response:
        body = await read_json(request) if request.method in ("POST", "PUT") else None
        return await run_in_threadpool(handler, request, body)

    asgi_endpoint.__name__ = handler.__name__
    return asgi_endpoint


def find_or_404(
    session: Session, table: Any, ident: str, resource: str, hidden: tuple[str, ...] = ("DELETED",)
) -> Any:
    """`<Resource> <id> not found.`; rows in a hidden status do not exist for clients."""
    row = session.get(table, ident)
    if row is None or getattr(row, "provisioning_status", None) in hidden:
        raise NotFound.of(resource, ident)
    return row


def authorize_object(ctx: RequestContext, rule: policy.Rule, project_id: str | None) -> None:
    """Another project's object is a 403, not a 404, in Octavia (spec §5.2)."""
    policy.authorize(ctx, rule, project_id)


def scoped_select(
    ctx: RequestContext, table: Any, request: Request, columns: Any = None
) -> Select[Any]:
    """Lists see every project only with read-global; otherwise the caller's own (spec §5.2).

    `columns` selects plain columns instead of ORM objects (see `listing.fetch_page`).
    """
    statement = select(*columns) if columns is not None else select(table)
    requested = request.query_params.getlist("project_id")
    if policy.allowed(ctx, policy.Rule.READ_GLOBAL, None):
        return statement
    if any(project != ctx.project_id for project in requested):
        raise Forbidden()
    policy.authorize(ctx, policy.Rule.READ, ctx.project_id)
    return statement.where(table.project_id == ctx.project_id)
