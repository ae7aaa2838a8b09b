"""`/v3/users`: admin CRUD; a user may read itself.

Attributes Keystone does not model (email, description, tempest's `project_id`) are kept and
echoed back, as Keystone does with its `extra` column.
"""

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pier.api.http import JSONResponse, empty_response
from pier.api.identity import changes, store
from pier.api.identity.access import require_admin, require_admin_or, token_validator
from pier.api.identity.bodies import check_default_domain, flag, read_entity, text
from pier.api.identity.credentials import unauthorized
from pier.api.identity.passwords import verify_secret
from pier.api.identity.render import collection, user_body
from pier.api.services import get_services
from pier.db.engine import transaction
from pier.db.tables.identity import User
from pier.domain.errors import InvalidInput

_MODELLED = {
    "id",
    "name",
    "password",
    "domain_id",
    "default_project_id",
    "enabled",
    "links",
    "options",
    "password_expires_at",
}


def _extra(entity: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entity.items() if key not in _MODELLED}


def _default_project(session: Session, entity: dict[str, Any]) -> str | None:
    project_id = text(entity, "default_project_id")
    if project_id is not None and store.find_project(session, project_id) is None:
        raise InvalidInput(
            f"Invalid input for field 'default_project_id': project {project_id} does not exist."
        )
    return project_id


async def list_users(request: Request) -> Response:
    require_admin(request, "list_users")
    services = get_services(request)
    with services.sessions() as session:
        items = [
            user_body(services.settings, row)
            for row in store.list_users(session, request.query_params.get("name"))
        ]
    return JSONResponse(collection(services.settings, "users", items, "users"))


async def create_user(request: Request) -> Response:
    require_admin(request, "create_user")
    entity = await read_entity(request, "user")
    check_default_domain(entity)
    services = get_services(request)
    with transaction(services.sessions) as session:
        user = changes.create_user(
            session,
            text(entity, "name", required=True) or "",
            text(entity, "password"),
            default_project_id=_default_project(session, entity),
            enabled=flag(entity, "enabled") is not False,
            extra=_extra(entity),
        )
        body = user_body(services.settings, user)
    return JSONResponse({"user": body}, status_code=201)


async def show_user(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    require_admin_or(request, "get_user", user_id=user_id)
    services = get_services(request)
    with services.sessions() as session:
        body = user_body(services.settings, store.get_user(session, user_id))
    return JSONResponse({"user": body})


def _apply(session: Session, user: User, entity: dict[str, Any]) -> None:
    if (name := text(entity, "name")) is not None:
        changes.rename_user(session, user, name)
    if (password := text(entity, "password")) is not None:
        changes.set_password(session, user, password)
    if (enabled := flag(entity, "enabled")) is not None:
        user.enabled = enabled
    if "default_project_id" in entity:
        user.default_project_id = _default_project(session, entity)
    if extra := _extra(entity):
        user.extra = {**user.extra, **extra}


async def update_user(request: Request) -> Response:
    require_admin(request, "update_user")
    entity = await read_entity(request, "user")
    check_default_domain(entity)
    services = get_services(request)
    with transaction(services.sessions) as session:
        user = store.get_user(session, request.path_params["user_id"])
        _apply(session, user, entity)
        session.flush()
        body = user_body(services.settings, user)
    token_validator(services).clear()
    return JSONResponse({"user": body})


async def delete_user(request: Request) -> Response:
    require_admin(request, "delete_user")
    services = get_services(request)
    with transaction(services.sessions) as session:
        changes.delete_user(session, store.get_user(session, request.path_params["user_id"]))
    token_validator(services).clear()
    return empty_response(204)


async def change_password(request: Request) -> Response:
    """Self-service change; proving the original password is the authorization, as in
    Keystone (it works without a token, so an expired password can still be changed).
    """
    entity = await read_entity(request, "user")
    new, original = (
        text(entity, "password", required=True),
        text(entity, "original_password", required=True),
    )
    services = get_services(request)
    with transaction(services.sessions) as session:
        user = store.find_user(session, request.path_params["user_id"])
        if user is None or not verify_secret(original or "", user.password_hash):
            raise unauthorized()
        changes.set_password(session, user, new or "")
    token_validator(services).clear()
    return empty_response(204)


def user_routes() -> list[BaseRoute]:
    return [
        Route("/v3/users", list_users, methods=["GET"]),
        Route("/v3/users", create_user, methods=["POST"]),
        Route("/v3/users/{user_id}", show_user, methods=["GET"]),
        Route("/v3/users/{user_id}", update_user, methods=["PATCH"]),
        Route("/v3/users/{user_id}", delete_user, methods=["DELETE"]),
        Route("/v3/users/{user_id}/password", change_password, methods=["POST"]),
    ]
