"""Every identity route, mounted by `pier.api.app` at `/identity`."""

from starlette.routing import BaseRoute

from pier.api.identity.app_credentials import application_credential_routes
from pier.api.identity.auth_tokens import auth_token_routes
from pier.api.identity.domains import domain_routes
from pier.api.identity.projects import project_routes
from pier.api.identity.roles import role_routes
from pier.api.identity.users import user_routes
from pier.api.identity.versions import version_routes


def identity_routes() -> list[BaseRoute]:
    return [
        *version_routes(),
        *auth_token_routes(),
        *project_routes(),
        *user_routes(),
        *role_routes(),
        *domain_routes(),
        *application_credential_routes(),
    ]
