"""Who may use the identity admin API: Keystone's defaults, reduced to what Pier serves.

The `admin` role (or noauth's forced admin) may do everything; anyone else may read only
themselves and their own project. Denials are 403 with Keystone's text.
"""

from starlette.requests import Request

from pier.api.context import RequestContext
from pier.api.identity.tokens import TokenValidator
from pier.api.services import Services, get_context
from pier.domain.errors import Forbidden


def is_identity_admin(ctx: RequestContext) -> bool:
    return ctx.is_admin or "admin" in ctx.roles


def denied(action: str) -> Forbidden:
    return Forbidden(f"You are not authorized to perform the requested action: identity:{action}.")


def require_admin(request: Request, action: str) -> RequestContext:
    """The caller's context if it is an identity admin; otherwise 403 (401 if no token)."""
    ctx = get_context(request)
    if not is_identity_admin(ctx):
        raise denied(action)
    return ctx


def require_admin_or(
    request: Request, action: str, *, user_id: str | None = None, project_id: str | None = None
) -> RequestContext:
    """Admin, or the caller is `user_id` / is scoped to `project_id`."""
    ctx = get_context(request)
    if is_identity_admin(ctx):
        return ctx
    if user_id is not None and ctx.user_id == user_id:
        return ctx
    if project_id is not None and ctx.project_id == project_id:
        return ctx
    raise denied(action)


def token_validator(services: Services) -> TokenValidator:
    """The validator whose cache the authenticator reads, so a revocation here is seen at once.

    Outside the embedded mode there is no shared cache, and an uncached validator is used.
    """
    shared = getattr(services.authenticator, "tokens", None)
    if isinstance(shared, TokenValidator):
        return shared
    return TokenValidator(services.sessions, services.clock, cache_size=0)
