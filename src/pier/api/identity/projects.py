"""`/v3/projects` and `/v3/users/{id}/projects`.

Non-admins see only the project their token is scoped to: enough for OSC's `--project NAME`
lookup (GET by id, then `?name=`), without telling them what other projects exist.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pier.api.http import JSONResponse, empty_response
from pier.api.identity import changes, store
from pier.api.identity.access import (
    is_identity_admin,
    require_admin,
    require_admin_or,
    token_validator,
)
from pier.api.identity.bodies import check_default_domain, flag, read_entity, text
from pier.api.identity.render import collection, project_body
from pier.api.services import get_context, get_services
from pier.db.engine import transaction
from pier.domain.errors import InvalidInput


async def list_projects(request: Request) -> Response:
    services = get_services(request)
    ctx = get_context(request)
    with services.sessions() as session:
        rows = store.list_projects(session, request.query_params.get("name"))
        if not is_identity_admin(ctx):
            rows = [row for row in rows if row.id == ctx.project_id]
        items = [project_body(services.settings, row) for row in rows]
    return JSONResponse(collection(services.settings, "projects", items, "projects"))


async def create_project(request: Request) -> Response:
    require_admin(request, "create_project")
    entity = await read_entity(request, "project")
    check_default_domain(entity)
    if entity.get("is_domain"):
        raise InvalidInput("Pier has a single domain; is_domain projects are not supported.")
    services = get_services(request)
    with transaction(services.sessions) as session:
        project = changes.create_project(
            session,
            text(entity, "name", required=True) or "",
            description=text(entity, "description") or "",
            enabled=flag(entity, "enabled") is not False,
        )
        body = project_body(services.settings, project)
    return JSONResponse({"project": body}, status_code=201)


async def show_project(request: Request) -> Response:
    project_id = request.path_params["project_id"]
    services = get_services(request)
    with services.sessions() as session:
        project = store.get_project(session, project_id)
        require_admin_or(request, "get_project", project_id=project.id)
        body = project_body(services.settings, project)
    return JSONResponse({"project": body})


async def update_project(request: Request) -> Response:
    require_admin(request, "update_project")
    entity = await read_entity(request, "project")
    check_default_domain(entity)
    services = get_services(request)
    with transaction(services.sessions) as session:
        project = store.get_project(session, request.path_params["project_id"])
        if (name := text(entity, "name")) is not None:
            changes.rename_project(session, project, name)
        if (description := text(entity, "description")) is not None:
            project.description = description
        if (enabled := flag(entity, "enabled")) is not None:
            project.enabled = enabled
        session.flush()
        body = project_body(services.settings, project)
    token_validator(services).clear()
    return JSONResponse({"project": body})


async def delete_project(request: Request) -> Response:
    require_admin(request, "delete_project")
    services = get_services(request)
    with transaction(services.sessions) as session:
        project = store.get_project(session, request.path_params["project_id"])
        changes.delete_project(session, project)
    token_validator(services).clear()
    return empty_response(204)


async def list_user_projects(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    require_admin_or(request, "list_user_projects", user_id=user_id)
    services = get_services(request)
    with services.sessions() as session:
        store.get_user(session, user_id)
        items = [
            project_body(services.settings, row) for row in store.user_projects(session, user_id)
        ]
    return JSONResponse(
        collection(services.settings, "projects", items, f"users/{user_id}/projects")
    )


def project_routes() -> list[BaseRoute]:
    return [
        Route("/v3/projects", list_projects, methods=["GET"]),
        Route("/v3/projects", create_project, methods=["POST"]),
        Route("/v3/projects/{project_id}", show_project, methods=["GET"]),
        Route("/v3/projects/{project_id}", update_project, methods=["PATCH"]),
        Route("/v3/projects/{project_id}", delete_project, methods=["DELETE"]),
        Route("/v3/users/{user_id}/projects", list_user_projects, methods=["GET"]),
    ]
