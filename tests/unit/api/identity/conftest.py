"""An app with the embedded identity (bootstrapped) on a fake clock, and request helpers."""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pier.api.auth import EmbeddedAuthenticator
from pier.api.identity.bootstrap import BootstrapResult, ensure_identity_bootstrap
from pier.api.identity.clouds import read_passwords
from pier.api.services import Services
from pier.db.base import Base
from pier.db.engine import transaction
from pier.settings import Settings
from tests.support.app import api_client, make_services

BASE = "http://pier.test:9876"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 14, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def password_body(
    user: str, password: str, project: str | None = None, scope: dict[str, Any] | None = None
) -> dict[str, Any]:
    auth: dict[str, Any] = {
        "identity": {
            "methods": ["password"],
            "password": {
                "user": {"name": user, "password": password, "domain": {"name": "Default"}}
            },
        }
    }
    if project is not None:
        auth["scope"] = {"project": {"name": project, "domain": {"name": "Default"}}}
    if scope:
        auth["scope"] = scope
    return {"auth": auth}


@dataclass
class Identity:
    client: TestClient
    services: Services
    clock: FakeClock
    boot: BootstrapResult
    passwords: dict[str, str]

    def token(
        self, user: str = "admin", project: str | None = None, password: str | None = None
    ) -> str:
        project = project if project is not None else user
        body = password_body(user, password or self.passwords[user], project)
        response = self.client.post("/identity/v3/auth/tokens", json=body)
        assert response.status_code == 201, response.text
        return str(response.headers["X-Subject-Token"])

    def headers(self, user: str = "admin", project: str | None = None) -> dict[str, str]:
        return {"X-Auth-Token": self.token(user, project)}


IDENTITY_TABLES = ("role", "project", "user", "role_assignment")


@dataclass(frozen=True)
class Template:
    """Bootstrapped identity rows, replayed into each test's fresh database: scrypt makes a
    real bootstrap cost ~150 ms, too much to repeat in every test.
    """

    rows: dict[str, list[dict[str, Any]]]
    boot: BootstrapResult
    passwords: dict[str, str]

    def load(self, services: Services) -> None:
        with transaction(services.sessions) as session:
            for name in IDENTITY_TABLES:
                session.execute(Base.metadata.tables[name].insert(), self.rows[name])


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    data_dir = tmp_path_factory.mktemp("identity-template")
    services = make_services(data_dir, Settings(public_url=BASE))
    boot = ensure_identity_bootstrap(services.sessions, services.settings)
    with services.sessions() as session:
        rows = {
            name: [
                dict(row._mapping) for row in session.execute(Base.metadata.tables[name].select())
            ]
            for name in IDENTITY_TABLES
        }
    return Template(rows, boot, read_passwords(data_dir))


@pytest.fixture
def identity(tmp_path: Path, template: Template) -> Iterator[Identity]:
    clock = FakeClock()
    services = make_services(tmp_path, Settings(public_url=BASE))
    services = replace(
        services, clock=clock, authenticator=EmbeddedAuthenticator(services.sessions, clock)
    )
    template.load(services)
    with api_client(services) as client:
        yield Identity(client, services, clock, template.boot, dict(template.passwords))
