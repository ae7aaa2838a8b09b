"""The four authenticators of pier.api.auth, each against real requests."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from pier.api.app import build_app
from pier.api.auth import (
    EmbeddedAuthenticator,
    ExternalKeystoneAuthenticator,
    IdentityUnavailable,
    NoAuthAuthenticator,
    StaticTokenAuthenticator,
    build_authenticator,
)
from pier.api.context import RequestContext
from pier.api.services import Authenticator
from pier.domain.errors import NotAuthenticated
from pier.settings import AuthMode, Settings
from tests.support.app import api_client, make_services
from tests.unit.api.identity.conftest import FakeClock, Identity, Template
from tests.unit.api.identity.serving import bound_socket, serve

ALL_UP = frozenset({"admin", "manager", "member", "reader"})


def request(**headers: str) -> Request:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/v2/lbaas/loadbalancers",
            "headers": raw,
            "query_string": b"",
        }
    )


def test_noauth_is_octavia_noauth() -> None:
    auth = NoAuthAuthenticator("default-project")

    plain = auth.authenticate(request())
    named = auth.authenticate(
        request(x_project_id="p1", x_roles="load-balancer_member", x_auth_token="notused")
    )

    assert plain == RequestContext(
        project_id="default-project", roles=ALL_UP, is_admin=True, enforce_quota=False
    )
    assert named.project_id == "p1" and named.is_admin and not named.enforce_quota
    assert named.roles == ALL_UP | {"load-balancer_member"}


def test_static_token() -> None:
    auth = StaticTokenAuthenticator("s3cret", "proj", ("member",))

    context = auth.authenticate(request(x_auth_token="s3cret"))

    assert context == RequestContext(project_id="proj", roles=frozenset({"member", "reader"}))
    for headers in ({"x_auth_token": "s3cret-not"}, {"x_auth_token": "s3cre"}, {}):
        with pytest.raises(NotAuthenticated):
            auth.authenticate(request(**headers))


def test_static_token_through_the_app_gives_401_with_header(tmp_path: Path) -> None:
    settings = Settings(auth=AuthMode.TOKEN, static_token="s3cret", public_url="http://x")
    services = make_services(tmp_path, settings)
    services = replace(
        services,
        authenticator=build_authenticator(services.settings, services.sessions, services.clock),
    )

    with api_client(services) as client:
        wrong = client.get("/identity/v3/domains", headers={"X-Auth-Token": "nope"})
        right = client.get("/identity/v3/domains", headers={"X-Auth-Token": "s3cret"})

    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == 'Keystone uri="http://x/identity"'
    assert right.status_code == 200


def test_build_authenticator_picks_the_mode_and_checks_settings(tmp_path: Path) -> None:
    services = make_services(tmp_path)

    def build(**changes: object) -> Authenticator:
        settings = replace(services.settings, **changes)  # type: ignore[arg-type]
        return build_authenticator(settings, services.sessions, services.clock)

    assert isinstance(build(auth=AuthMode.KEYSTONE), EmbeddedAuthenticator)
    assert isinstance(build(auth=AuthMode.NOAUTH), NoAuthAuthenticator)
    assert isinstance(build(auth=AuthMode.TOKEN, static_token="t"), StaticTokenAuthenticator)
    external = build(auth=AuthMode.EXTERNAL, external_keystone_url="http://k/v3")
    assert isinstance(external, ExternalKeystoneAuthenticator)
    external.close()
    with pytest.raises(ValueError, match="static token"):
        build(auth=AuthMode.TOKEN, static_token="")
    with pytest.raises(ValueError, match="external-keystone-url"):
        build(auth=AuthMode.EXTERNAL)


def test_embedded_tokens(identity: Identity) -> None:
    auth = identity.services.authenticator
    token = identity.token("demo")

    context = auth.authenticate(request(x_auth_token=token))

    assert context == RequestContext(
        project_id=identity.boot.project_ids["demo"],
        user_id=identity.boot.user_ids["demo"],
        roles=frozenset({"member", "reader", "load-balancer_member"}),
    )
    for headers in ({"x_auth_token": "unknown"}, {}):
        with pytest.raises(NotAuthenticated):
            auth.authenticate(request(**headers))
    identity.clock.advance(3600)
    with pytest.raises(NotAuthenticated):
        auth.authenticate(request(x_auth_token=token))


@pytest.fixture
def keystone(tmp_path: Path, template: Template) -> Iterator[tuple[str, Identity]]:
    """Pier's embedded identity, served over real HTTP, as the 'external' Keystone."""
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    clock = FakeClock()
    services = make_services(tmp_path, Settings(public_url=url))
    services = replace(
        services, clock=clock, authenticator=EmbeddedAuthenticator(services.sessions, clock)
    )
    template.load(services)
    with serve(build_app(services), sock), api_client(services) as client:
        yield url, Identity(client, services, clock, template.boot, dict(template.passwords))


@pytest.fixture
def closing() -> Iterator[list[ExternalKeystoneAuthenticator]]:
    made: list[ExternalKeystoneAuthenticator] = []
    yield made
    for auth in made:
        auth.close()


def test_external_keystone_over_http(
    keystone: tuple[str, Identity], closing: list[ExternalKeystoneAuthenticator]
) -> None:
    url, identity = keystone
    clock = FakeClock()
    auth = ExternalKeystoneAuthenticator(f"{url}/identity/v3", clock, cache_seconds=60)
    closing.append(auth)
    token = identity.token("demo")

    context = auth.authenticate(request(x_auth_token=token))

    assert context == RequestContext(
        project_id=identity.boot.project_ids["demo"],
        user_id=identity.boot.user_ids["demo"],
        roles=frozenset({"member", "reader", "load-balancer_member"}),
    )
    with pytest.raises(NotAuthenticated):
        auth.authenticate(request(x_auth_token="forged"))
    with pytest.raises(NotAuthenticated):
        auth.authenticate(request())

    # Revoked in "Keystone": still cached for at most cache_seconds, then refused.
    revoke = identity.client.delete(
        "/identity/v3/auth/tokens", headers={"X-Auth-Token": token, "X-Subject-Token": token}
    )
    assert revoke.status_code == 204
    assert auth.authenticate(request(x_auth_token=token)) == context
    clock.advance(61)
    with pytest.raises(NotAuthenticated):
        auth.authenticate(request(x_auth_token=token))


def test_external_keystone_admin_token_and_unversioned_url(
    keystone: tuple[str, Identity], closing: list[ExternalKeystoneAuthenticator]
) -> None:
    url, identity = keystone
    auth = ExternalKeystoneAuthenticator(f"{url}/identity", FakeClock())
    closing.append(auth)

    context = auth.authenticate(request(x_auth_token=identity.token("admin")))

    assert context.roles == ALL_UP
    assert context.project_id == identity.boot.project_ids["admin"]


def test_external_keystone_unreachable_is_503(closing: list[ExternalKeystoneAuthenticator]) -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    auth = ExternalKeystoneAuthenticator(
        f"http://127.0.0.1:{port}/v3", FakeClock(), client=httpx.Client(timeout=2.0)
    )
    closing.append(auth)

    with pytest.raises(IdentityUnavailable) as caught:
        auth.authenticate(request(x_auth_token="anything"))
    assert caught.value.status == 503
