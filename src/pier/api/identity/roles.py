"""`/v3/roles`, project role grants and `/v3/role_assignments` (admin; a user may list its own).

These are what tempest's dynamic credentials and `log_user_roles` call (clients.md §4.2).
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pier.api.http import JSONResponse, empty_response
from pier.api.identity import changes, store
from pier.api.identity.access import require_admin, require_admin_or, token_validator
from pier.api.identity.bodies import read_entity, text
from pier.api.identity.render import assignment_body, collection, role_body
from pier.api.services import get_services
from pier.db.engine import transaction


async def list_roles(request: Request) -> Response:
    require_admin(request, "list_roles")
    services = get_services(request)
    with services.sessions() as session:
        items = [
            role_body(services.settings, row)
            for row in store.list_roles(session, request.query_params.get("name"))
        ]
    return JSONResponse(collection(services.settings, "roles", items, "roles"))


async def create_role(request: Request) -> Response:
    require_admin(request, "create_role")
    entity = await read_entity(request, "role")
    services = get_services(request)
    with transaction(services.sessions) as session:
        role = changes.create_role(session, text(entity, "name", required=True) or "")
        body = role_body(services.settings, role)
    return JSONResponse({"role": body}, status_code=201)


async def show_role(request: Request) -> Response:
    require_admin(request, "get_role")
    services = get_services(request)
    with services.sessions() as session:
        body = role_body(services.settings, store.get_role(session, request.path_params["role_id"]))
    return JSONResponse({"role": body})


async def delete_role(request: Request) -> Response:
    require_admin(request, "delete_role")
    services = get_services(request)
    with transaction(services.sessions) as session:
        changes.delete_role(session, store.get_role(session, request.path_params["role_id"]))
    token_validator(services).clear()
    return empty_response(204)


async def grant(request: Request) -> Response:
    """PUT grants, HEAD checks, DELETE revokes one project role of a user."""
    p = request.path_params
    action = {"PUT": "create_grant", "HEAD": "check_grant", "DELETE": "revoke_grant"}
    require_admin(request, action[request.method])
    services = get_services(request)
    with transaction(services.sessions) as session:
        project = store.get_project(session, p["project_id"])
        user = store.get_user(session, p["user_id"])
        role = store.get_role(session, p["role_id"])
        if request.method == "PUT":
            changes.assign_role(session, user.id, project.id, role.id)
        elif request.method == "DELETE":
            if not changes.unassign_role(session, user.id, project.id, role.id):
                raise store.not_found("grant", role.id)
        elif not store.list_assignments(session, user.id, project.id, role.id):
            raise store.not_found("grant", role.id)
    if request.method == "DELETE":
        token_validator(services).clear()
    return empty_response(204)


async def list_grants(request: Request) -> Response:
    p = request.path_params
    require_admin_or(request, "list_grants", user_id=p["user_id"])
    services = get_services(request)
    with services.sessions() as session:
        project = store.get_project(session, p["project_id"])
        user = store.get_user(session, p["user_id"])
        items = [
            role_body(services.settings, row)
            for row in store.assigned_roles(session, user.id, project.id)
        ]
    return JSONResponse(
        collection(
            services.settings, "roles", items, f"projects/{project.id}/users/{user.id}/roles"
        )
    )


async def list_role_assignments(request: Request) -> Response:
    query = request.query_params
    user_id = query.get("user.id")
    require_admin_or(request, "list_role_assignments", user_id=user_id)
    include_names = "include_names" in query and query["include_names"].lower() != "false"
    services = get_services(request)
    with services.sessions() as session:
        rows = store.list_assignments(
            session, user_id, query.get("scope.project.id"), query.get("role.id")
        )
        items = []
        for row in rows:
            names = None
            if include_names:
                names = (
                    store.get_role(session, row.role_id),
                    store.get_user(session, row.user_id),
                    store.get_project(session, row.project_id),
                )
            items.append(assignment_body(services.settings, row, names))
    return JSONResponse(
        collection(services.settings, "role_assignments", items, "role_assignments")
    )


def role_routes() -> list[BaseRoute]:
    grant_path = "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"
    return [
        Route("/v3/roles", list_roles, methods=["GET"]),
        Route("/v3/roles", create_role, methods=["POST"]),
        Route("/v3/roles/{role_id}", show_role, methods=["GET"]),
        Route("/v3/roles/{role_id}", delete_role, methods=["DELETE"]),
        Route(grant_path, grant, methods=["PUT", "HEAD", "DELETE"]),
        Route("/v3/projects/{project_id}/users/{user_id}/roles", list_grants, methods=["GET"]),
        Route("/v3/role_assignments", list_role_assignments, methods=["GET"]),
    ]
