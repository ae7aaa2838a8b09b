"""What every route may use, held on `app.state.services` and passed in explicitly at build time."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from starlette.requests import Request

from pier.api.context import RequestContext
from pier.db.engine import SessionFactory
from pier.queue.base import ReconcileQueue
from pier.settings import Settings


class Authenticator(Protocol):
    """Turns a request's credentials into a context.

    Raises `NotAuthenticated` for a missing, unknown or expired token. Must not raise for
    policy reasons: authorization happens in `pier.api.policy`.
    """

    def authenticate(self, request: Request) -> RequestContext: ...


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    sessions: SessionFactory
    queue: ReconcileQueue
    authenticator: Authenticator
    clock: Callable[[], datetime]


def get_services(request: Request) -> Services:
    services = request.app.state.services
    if not isinstance(services, Services):
        raise TypeError("app.state.services is not configured")
    return services


def get_context(request: Request) -> RequestContext:
    """Authenticate once per request; later calls reuse the result."""
    cached = request.scope.get("pier.context")
    if isinstance(cached, RequestContext):
        return cached
    services = get_services(request)
    context = services.authenticator.authenticate(request)
    if context.policy_roles is not services.settings.policy_roles:
        context = replace(context, policy_roles=services.settings.policy_roles)
    request.scope["pier.context"] = context
    return context
