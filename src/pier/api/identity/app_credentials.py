"""`/v3/users/{id}/application_credentials`: a user delegates (some of) its roles on the
project its token is scoped to, as Keystone does. Only the owner may create one.
"""

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pier.api.http import JSONResponse, empty_response
from pier.api.identity import changes, store
from pier.api.identity.access import denied, require_admin_or, token_validator
from pier.api.identity.bodies import flag, moment, read_entity, text
from pier.api.identity.render import application_credential_body, collection
from pier.api.services import get_context, get_services
from pier.db.engine import transaction
from pier.db.tables.identity import ApplicationCredential, Role
from pier.domain.errors import Forbidden, InvalidInput


def _requested_roles(entity: dict[str, Any], held: list[Role]) -> list[Role]:
    """The roles asked for (by id or name), each of which the user must hold. None or an empty
    list (what OSC sends without `--role`) means all of them, as in Keystone.
    """
    wanted = entity.get("roles")
    if not wanted:
        return held
    if not isinstance(wanted, list) or not all(isinstance(ref, dict) for ref in wanted):
        raise InvalidInput("Invalid input for field 'roles': expected a list of objects.")
    chosen: list[Role] = []
    for ref in wanted:
        role = next((r for r in held if r.id == ref.get("id") or r.name == ref.get("name")), None)
        if role is None:
            raise Forbidden(f"Could not find role assignment with role: {ref}.")
        chosen.append(role)
    return chosen


def _roles_of(session: Session, cred: ApplicationCredential) -> list[Role]:
    return [role for role_id in cred.roles if (role := store.find_role(session, role_id))]


async def create_application_credential(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    ctx = get_context(request)
    if ctx.user_id != user_id:
        raise denied("create_application_credential")
    if ctx.project_id is None:
        raise InvalidInput("Application credentials need a project-scoped token.")
    entity = await read_entity(request, "application_credential")
    services = get_services(request)
    with transaction(services.sessions) as session:
        user = store.get_user(session, user_id)
        held = store.effective_roles(session, user.id, ctx.project_id)
        roles = _requested_roles(entity, held)
        cred, secret = changes.create_application_credential(
            session,
            user,
            ctx.project_id,
            text(entity, "name", required=True) or "",
            [role.id for role in roles],
            secret=text(entity, "secret"),
            description=text(entity, "description"),
            expires_at=moment(entity, "expires_at"),
            unrestricted=flag(entity, "unrestricted") is True,
        )
        body = application_credential_body(services.settings, cred, roles, secret)
    return JSONResponse({"application_credential": body}, status_code=201)


async def list_application_credentials(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    require_admin_or(request, "list_application_credentials", user_id=user_id)
    services = get_services(request)
    with services.sessions() as session:
        items = [
            application_credential_body(services.settings, row, _roles_of(session, row))
            for row in store.list_application_credentials(session, user_id)
        ]
    return JSONResponse(
        collection(
            services.settings,
            "application_credentials",
            items,
            f"users/{user_id}/application_credentials",
        )
    )


def _owned(session: Session, request: Request) -> ApplicationCredential:
    cred_id = request.path_params["credential_id"]
    cred = store.find_application_credential(session, cred_id)
    if cred is None or cred.user_id != request.path_params["user_id"]:
        raise store.not_found("application credential", cred_id)
    return cred


async def show_application_credential(request: Request) -> Response:
    require_admin_or(request, "get_application_credential", user_id=request.path_params["user_id"])
    services = get_services(request)
    with services.sessions() as session:
        cred = _owned(session, request)
        body = application_credential_body(services.settings, cred, _roles_of(session, cred))
    return JSONResponse({"application_credential": body})


async def delete_application_credential(request: Request) -> Response:
    require_admin_or(
        request, "delete_application_credential", user_id=request.path_params["user_id"]
    )
    services = get_services(request)
    with transaction(services.sessions) as session:
        changes.delete_application_credential(session, _owned(session, request))
    token_validator(services).clear()
    return empty_response(204)


def application_credential_routes() -> list[BaseRoute]:
    one = "/v3/users/{user_id}/application_credentials/{credential_id}"
    return [
        Route(
            "/v3/users/{user_id}/application_credentials",
            list_application_credentials,
            methods=["GET"],
        ),
        Route(
            "/v3/users/{user_id}/application_credentials",
            create_application_credential,
            methods=["POST"],
        ),
        Route(one, show_application_credential, methods=["GET"]),
        Route(one, delete_application_credential, methods=["DELETE"]),
    ]
