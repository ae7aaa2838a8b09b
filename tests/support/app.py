"""Build the real ASGI app on a fresh SQLite database, with fakes passed in, for unit tests."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from starlette.requests import Request
from starlette.testclient import TestClient

from pier.api.app import build_app
from pier.api.context import RequestContext
from pier.api.services import Authenticator, Services
from pier.db.engine import make_session_factory
from pier.domain.errors import NotAuthenticated
from pier.queue.memory import MemoryQueue
from pier.settings import Settings
from tests.support.databases import engine_for_test

IMPLIED_ROLES = {
    "admin": {"manager", "member", "reader"},
    "manager": {"member", "reader"},
    "member": {"reader"},
}


class HeaderAuthenticator:
    """Test identity: project from X-Project-Id, roles from X-Roles (implied roles expanded).

    Like Octavia's `testing` auth strategy; lets a test act as any role in one line.
    """

    def authenticate(self, request: Request) -> RequestContext:
        project = request.headers.get("x-project-id")
        if project is None:
            raise NotAuthenticated("The request you have made requires authentication.")
        roles = {r.strip() for r in request.headers.get("x-roles", "member").split(",") if r}
        for role in list(roles):
            roles |= IMPLIED_ROLES.get(role, set())
        return RequestContext(
            project_id=project, user_id=request.headers.get("x-user-id"), roles=frozenset(roles)
        )


def make_services(
    tmp_path: Path, settings: Settings | None = None, authenticator: Authenticator | None = None
) -> Services:
    settings = replace(settings or Settings(), data_dir=tmp_path)
    engine = engine_for_test(tmp_path)
    return Services(
        settings=settings,
        sessions=make_session_factory(engine),
        queue=MemoryQueue(),
        authenticator=authenticator or HeaderAuthenticator(),
        clock=lambda: datetime.now(UTC),
    )


@contextmanager
def api_client(services: Services) -> Iterator[TestClient]:
    with TestClient(build_app(services), raise_server_exceptions=False) as client:
        yield client


def as_project(project_id: str, *roles: str) -> dict[str, str]:
    """Headers that make a request come from `project_id` with `roles` (default member)."""
    return {"X-Project-Id": project_id, "X-Roles": ",".join(roles or ("member",))}


def converge(services: Services) -> None:
    """Run the worker until every queued load balancer has been reconciled (fake drivers).

    Tests call this where a real deployment would wait for `--wait`.
    """
    from tests.support.worker import run_queued  # the worker wiring lives beside its fakes

    run_queued(services)
