"""Build the ASGI app: Octavia at `/` (`/v2` and `/v2.0`), identity at `/identity`, network at
`/network` (and the Neutron paths at the root, for single-endpoint client modes, clients.md §1.2).
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pier.api import faults
from pier.api.identity import versions as identity_versions
from pier.api.identity.routes import identity_routes
from pier.api.network.routes import network_routes
from pier.api.response_cache import ResponseCache
from pier.api.routes import lbaas_routes
from pier.api.services import Services
from pier.db.revision import find_revision_source
from pier.domain.errors import PierError


class RequestIdMiddleware:
    """Every response carries `x-openstack-request-id`; OSC and the SDK read it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req-{uuid.uuid4()}".encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-openstack-request-id", request_id)]
            await send(message)

        await self.app(scope, receive, send_with_id)


def build_app(services: Services) -> Starlette:
    routes: list[BaseRoute] = [
        # Unversioned auth URLs are given without the slash; answer without a redirect.
        Route("/identity", identity_versions.show_versions, methods=["GET"]),
        Mount("/identity", routes=identity_routes()),
        Mount("/network", routes=network_routes()),
        *network_routes(root=True),
        *lbaas_routes(),
    ]
    engine = services.sessions.kw.get("bind")
    source = find_revision_source(engine) if isinstance(engine, Engine) else None

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        if source is not None:
            source.close()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(RequestIdMiddleware)],
        exception_handlers={
            PierError: faults.handle_pier_error,
            HTTPException: faults.handle_http_exception,
            Exception: faults.handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.response_cache = ResponseCache(source)
    return app
