"""`/v3/auth/tokens`: issue (POST), validate (GET, HEAD) and revoke (DELETE).

Validating or revoking another token needs `admin` or `service`; a token may always look at
or revoke itself (Keystone's `token_subject` rule), which is how the external-Keystone mode
checks tokens without service credentials.
"""

import hmac
from datetime import timedelta

from sqlalchemy import delete
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pier.api.http import JSONResponse, empty_response, read_json
from pier.api.identity.access import denied, is_identity_admin, token_validator
from pier.api.identity.credentials import resolve_grant, unauthorized
from pier.api.identity.passwords import new_audit_id, token_hash
from pier.api.identity.render import token_body
from pier.api.identity.tokens import TokenInfo, issue_token, load_token_info
from pier.api.services import get_context, get_services
from pier.db.engine import transaction
from pier.db.tables.identity import Token
from pier.domain.errors import InvalidInput, NotFound


async def create_token(request: Request) -> Response:
    services = get_services(request)
    body = await read_json(request)
    now = services.clock().replace(microsecond=0)
    expires_at = now + timedelta(seconds=services.settings.token_lifetime_seconds)
    with transaction(services.sessions) as session:
        grant = resolve_grant(session, body, now)
        if grant.expires_at is not None:
            expires_at = min(expires_at, grant.expires_at)
        cred = grant.application_credential
        token = issue_token(
            session,
            user_id=grant.user.id,
            project_id=grant.project.id if grant.project else None,
            methods=grant.methods,
            audit_ids=(new_audit_id(), *grant.parent_audit_ids),
            issued_at=now,
            expires_at=expires_at,
            application_credential_id=cred.id if cred else None,
        )
        info = load_token_info(session, token_hash(token), now)
        if info is None:  # e.g. an application credential whose roles the user lost
            raise unauthorized()
    with_catalog = "nocatalog" not in request.query_params
    return JSONResponse(
        token_body(info, services.settings, with_catalog),
        status_code=201,
        headers={"X-Subject-Token": token},
    )


def _subject(request: Request, action: str) -> tuple[str, TokenInfo]:
    subject = request.headers.get("x-subject-token")
    if not subject:
        raise InvalidInput("Expecting to find X-Subject-Token in request headers.")
    validator = token_validator(get_services(request))
    caller = request.headers.get("x-auth-token", "")
    if hmac.compare_digest(caller.encode(), subject.encode()):
        info = validator.validate(subject)
        if info is None:
            raise unauthorized()
        return subject, info
    ctx = get_context(request)
    if not (is_identity_admin(ctx) or "service" in ctx.roles):
        raise denied(action)
    info = validator.validate(subject)
    if info is None:
        raise NotFound("Could not find token.")
    return subject, info


async def show_token(request: Request) -> Response:
    subject, info = _subject(request, "validate_token")
    headers = {"X-Subject-Token": subject}
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers)
    settings = get_services(request).settings
    with_catalog = "nocatalog" not in request.query_params
    return JSONResponse(token_body(info, settings, with_catalog), headers=headers)


async def revoke_token(request: Request) -> Response:
    _, info = _subject(request, "revoke_token")
    services = get_services(request)
    with transaction(services.sessions) as session:
        session.execute(delete(Token).where(Token.id == info.token_hash))
    token_validator(services).forget(info.token_hash)
    return empty_response(204)


def auth_token_routes() -> list[BaseRoute]:
    return [
        Route("/v3/auth/tokens", create_token, methods=["POST"]),
        Route("/v3/auth/tokens", show_token, methods=["GET", "HEAD"]),
        Route("/v3/auth/tokens", revoke_token, methods=["DELETE"]),
    ]
