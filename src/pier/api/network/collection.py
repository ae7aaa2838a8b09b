"""One Neutron collection as Starlette routes: list/create on `/v2.0/<path>`, show/update/delete
on `/v2.0/<path>/{id}`.

Resource modules provide plain synchronous functions over a `Session`; this module runs each
in one transaction on a worker thread, applies `fields=` and list filters, and wraps the
result in Neutron's `{"<singular>": ...}` / `{"<plural>": [...]}` envelopes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pier.api.context import RequestContext
from pier.api.http import JSONResponse, empty_response, read_json
from pier.api.network.fields import Body, resource_body
from pier.api.network.query import filter_views, select_fields
from pier.api.network.views import View
from pier.api.services import get_context, get_services
from pier.db.engine import transaction

T = TypeVar("T")

ListViews = Callable[[Session, RequestContext], list[View]]
ShowView = Callable[[Session, RequestContext, str], View]
CreateView = Callable[[Session, RequestContext, Body], View]
UpdateView = Callable[[Session, RequestContext, str, Body], View]
Delete = Callable[[Session, RequestContext, str], None]


@dataclass(frozen=True, slots=True)
class Collection:
    path: str  # below /v2.0, e.g. "subnets" or "qos/policies"
    singular: str
    plural: str
    list_views: ListViews
    show_view: ShowView
    create_view: CreateView | None = None
    update_view: UpdateView | None = None
    delete: Delete | None = None


async def run_in_transaction(request: Request, work: Callable[[Session, RequestContext], T]) -> T:
    """Authenticate, then run `work` in one transaction off the event loop."""
    context = get_context(request)
    sessions = get_services(request).sessions

    def in_transaction() -> T:
        with transaction(sessions) as session:
            return work(session, context)

    return await run_in_threadpool(in_transaction)


def collection_routes(
    collection: Collection, prefixes: tuple[str, ...] = ("/v2.0",)
) -> list[BaseRoute]:
    async def on_collection(request: Request) -> Response:
        get_context(request)  # 401 before any body parsing
        if request.method == "POST" and collection.create_view is not None:
            create = collection.create_view
            body = resource_body(await read_json(request), collection.singular)
            view = await run_in_transaction(request, lambda s, c: create(s, c, body))
            return JSONResponse({collection.singular: view}, status_code=201)
        params = request.query_params.multi_items()
        views = await run_in_transaction(request, collection.list_views)
        selected = [select_fields(view, params) for view in filter_views(views, params)]
        return JSONResponse({collection.plural: selected})

    async def on_item(request: Request) -> Response:
        get_context(request)  # 401 before any body parsing
        ident: str = request.path_params["id"]
        if request.method == "PUT" and collection.update_view is not None:
            update = collection.update_view
            body = resource_body(await read_json(request), collection.singular)
            view = await run_in_transaction(request, lambda s, c: update(s, c, ident, body))
            return JSONResponse({collection.singular: view})
        if request.method == "DELETE" and collection.delete is not None:
            delete = collection.delete
            await run_in_transaction(request, lambda s, c: delete(s, c, ident))
            return empty_response(204)
        show = collection.show_view
        view = await run_in_transaction(request, lambda s, c: show(s, c, ident))
        params = request.query_params.multi_items()
        return JSONResponse({collection.singular: select_fields(view, params)})

    collection_methods = ["GET"] + (["POST"] if collection.create_view else [])
    item_methods = ["GET"]
    item_methods += ["PUT"] if collection.update_view else []
    item_methods += ["DELETE"] if collection.delete else []
    routes: list[BaseRoute] = []
    for prefix in prefixes:
        base = f"{prefix}/{collection.path}"
        routes.append(Route(base, on_collection, methods=collection_methods))
        routes.append(Route(base + "/{id}", on_item, methods=item_methods))
    return routes
