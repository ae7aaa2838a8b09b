"""The four ways a request proves who it is (`Settings.auth`), each an `Authenticator`.

* keystone: Pier's own opaque tokens, checked locally (`pier.api.identity.tokens`).
* noauth: Octavia's noauth — no token check, project from `X-Project-Id`, everyone admin,
  no quotas (shared/spec/octavia-api.md §1.3).
* token: one static secret that maps to a configured project and roles (OSC `admin_token`).
* external: tokens issued by a real Keystone, checked with `GET /v3/auth/tokens`.

Implied roles are expanded in every mode, so policies see `admin ⇒ manager ⇒ member ⇒ reader`.
"""

import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from starlette.requests import Request

from pier.api.context import RequestContext
from pier.api.identity.credentials import UNAUTHORIZED
from pier.api.identity.implied_roles import expand_roles
from pier.api.identity.tokens import TokenValidator
from pier.api.services import Authenticator
from pier.db.engine import SessionFactory
from pier.domain.errors import NotAuthenticated, PierError
from pier.settings import AuthMode, Settings

Clock = Callable[[], datetime]


class IdentityUnavailable(PierError):
    """The external Keystone could not be asked; keystonemiddleware answers 503 too."""

    status = 503


def _token_of(request: Request) -> str:
    token = request.headers.get("x-auth-token")
    if not token:
        raise NotAuthenticated(UNAUTHORIZED)
    return token


class EmbeddedAuthenticator:
    """Tokens issued by Pier's identity service. `tokens` is shared with the identity routes,
    so a revocation there is seen here at once.
    """

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self.tokens = TokenValidator(sessions, clock)

    def authenticate(self, request: Request) -> RequestContext:
        info = self.tokens.validate(_token_of(request))
        if info is None:
            raise NotAuthenticated(UNAUTHORIZED)
        return RequestContext(
            project_id=info.project_id, user_id=info.user_id, roles=expand_roles(info.role_names)
        )


class NoAuthAuthenticator:
    """Octavia's `auth_strategy = noauth`: trusts the identity headers, forces admin."""

    def __init__(self, default_project: str) -> None:
        self._default_project = default_project

    def authenticate(self, request: Request) -> RequestContext:
        headers = request.headers
        named = [r.strip() for r in headers.get("x-roles", "").split(",") if r.strip()]
        return RequestContext(
            project_id=headers.get("x-project-id") or self._default_project,
            user_id=headers.get("x-user-id"),
            roles=expand_roles(["admin", *named]),
            is_admin=True,
            enforce_quota=False,
        )


class StaticTokenAuthenticator:
    """One configured token; compared in constant time so its value cannot be probed."""

    def __init__(self, token: str, project_id: str, roles: tuple[str, ...]) -> None:
        if not token:
            raise ValueError("--auth token needs a non-empty static token")
        self._token = token.encode()
        self._context = RequestContext(project_id=project_id, roles=expand_roles(roles))

    def authenticate(self, request: Request) -> RequestContext:
        if not hmac.compare_digest(_token_of(request).encode(), self._token):
            raise NotAuthenticated(UNAUTHORIZED)
        return self._context


def _v3_url(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v3") else f"{url}/v3"


class ExternalKeystoneAuthenticator:
    """Checks tokens against a real Keystone with `GET /v3/auth/tokens`.

    The token validates itself (Keystone's `token_subject` rule), so Pier needs no service
    account. Results are cached per token hash until the token expires, but for at most
    `cache_seconds` (keystonemiddleware's default 300 s), which bounds how long a token
    revoked in Keystone is still accepted. The call is synchronous; the cache keeps it rare.
    """

    def __init__(
        self,
        url: str,
        clock: Clock,
        client: httpx.Client | None = None,
        cache_size: int = 4096,
        cache_seconds: float = 300.0,
    ) -> None:
        if not url:
            raise ValueError("--auth external needs --external-keystone-url")
        self._url = f"{_v3_url(url)}/auth/tokens"
        self._clock = clock
        self._client = client or httpx.Client(timeout=10.0)
        self._size = cache_size
        self._ttl = timedelta(seconds=cache_seconds)
        self._cache: OrderedDict[str, tuple[RequestContext, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def authenticate(self, request: Request) -> RequestContext:
        token = _token_of(request)
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        with self._lock:
            hit = self._cache.pop(key, None)
            if hit is not None and now < hit[1]:
                self._cache[key] = hit
                return hit[0]
        context, expires_at = self._ask_keystone(token)
        if expires_at <= now:
            raise NotAuthenticated(UNAUTHORIZED)
        with self._lock:
            self._cache[key] = (context, min(expires_at, now + self._ttl))
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return context

    def close(self) -> None:
        """Release the HTTP connection pool (at shutdown)."""
        self._client.close()

    def _ask_keystone(self, token: str) -> tuple[RequestContext, datetime]:
        headers = {"X-Auth-Token": token, "X-Subject-Token": token, "Accept": "application/json"}
        try:
            response = self._client.get(self._url, headers=headers, params={"nocatalog": ""})
        except httpx.HTTPError as exc:
            raise IdentityUnavailable("The Keystone service is temporarily unavailable.") from exc
        if response.status_code in (401, 403, 404):
            raise NotAuthenticated(UNAUTHORIZED)
        if response.status_code != 200:
            raise IdentityUnavailable("The Keystone service is temporarily unavailable.")
        return _context_from_token(response.json())


def _context_from_token(body: Any) -> tuple[RequestContext, datetime]:
    try:
        token = body["token"]
        expires_at = datetime.fromisoformat(token["expires_at"])
        project = token.get("project") or {}
        roles = [role["name"] for role in token.get("roles", [])]
        context = RequestContext(
            project_id=project.get("id"), user_id=token["user"]["id"], roles=expand_roles(roles)
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise IdentityUnavailable("Keystone returned an unreadable token.") from exc
    return context, expires_at


def build_authenticator(
    settings: Settings, sessions: SessionFactory, clock: Clock
) -> Authenticator:
    """The authenticator `settings.auth` selects.

    Raises:
        ValueError: the mode's required setting (static token, Keystone URL) is missing.
    """
    match settings.auth:
        case AuthMode.KEYSTONE:
            return EmbeddedAuthenticator(sessions, clock)
        case AuthMode.NOAUTH:
            return NoAuthAuthenticator(settings.noauth_default_project)
        case AuthMode.TOKEN:
            return StaticTokenAuthenticator(
                settings.static_token, settings.static_token_project, settings.static_token_roles
            )
        case AuthMode.EXTERNAL:
            return ExternalKeystoneAuthenticator(settings.external_keystone_url, clock)
