"""Issued tokens: store (hash only), load with effective roles, validate through an LRU cache.

A token is valid while its row exists, `now < expires_at` (the injected clock), its user and
project are enabled, and (if scoped) the user still holds a role there. The cache makes the
per-request check a dict lookup; entries live at most `cache_seconds`, which bounds how long
another process may keep honouring a token revoked elsewhere.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pier.api.identity import changes, store
from pier.api.identity.passwords import new_token, token_hash
from pier.db.engine import SessionFactory
from pier.db.tables.identity import ApplicationCredential, Token


@dataclass(frozen=True, slots=True)
class RoleRef:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class AppCredentialRef:
    id: str
    name: str
    restricted: bool


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a valid token stands for, roles already expanded; everything a token body shows."""

    token_hash: str
    user_id: str
    user_name: str
    project_id: str | None
    project_name: str | None
    methods: tuple[str, ...]
    roles: tuple[RoleRef, ...]
    application_credential: AppCredentialRef | None
    audit_ids: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(role.name for role in self.roles)


def issue_token(
    session: Session,
    *,
    user_id: str,
    project_id: str | None,
    methods: tuple[str, ...],
    audit_ids: tuple[str, ...],
    issued_at: datetime,
    expires_at: datetime,
    application_credential_id: str | None = None,
) -> str:
    """Store a new token and return the opaque value; only its hash is kept. Also drops the
    user's expired tokens, which keeps the table from growing without a housekeeping job.
    """
    changes.purge_expired_tokens(session, issued_at, user_id=user_id)
    token = new_token()
    session.add(
        Token(
            id=token_hash(token),
            user_id=user_id,
            project_id=project_id,
            methods=list(methods),
            application_credential_id=application_credential_id,
            audit_ids=list(audit_ids),
            issued_at=issued_at,
            expires_at=expires_at,
        )
    )
    session.flush()
    return token


def _usable_credential(
    session: Session, cred_id: str | None, now: datetime
) -> ApplicationCredential | None | bool:
    """The token's application credential, None if it has none, False if it is gone/expired."""
    if cred_id is None:
        return None
    cred = store.find_application_credential(session, cred_id)
    if cred is None or (cred.expires_at is not None and cred.expires_at <= now):
        return False
    return cred


def load_token_info(session: Session, hashed: str, now: datetime) -> TokenInfo | None:
    """The token's meaning now, or None if it is unknown, expired or no longer grants access."""
    row = session.get(Token, hashed)
    if row is None or row.expires_at <= now:
        return None
    user = store.find_user(session, row.user_id)
    cred = _usable_credential(session, row.application_credential_id, now)
    if user is None or not user.enabled or cred is False:
        return None
    project_name: str | None = None
    roles: tuple[RoleRef, ...] = ()
    if row.project_id is not None:
        project = store.find_project(session, row.project_id)
        if project is None or not project.enabled:
            return None
        allowed = cred.roles if isinstance(cred, ApplicationCredential) else None
        found = store.effective_roles(session, user.id, project.id, allowed)
        if not found:
            return None
        project_name, roles = project.name, tuple(RoleRef(r.id, r.name) for r in found)
    return TokenInfo(
        token_hash=hashed,
        user_id=user.id,
        user_name=user.name,
        project_id=row.project_id,
        project_name=project_name,
        methods=tuple(row.methods),
        roles=roles,
        application_credential=(
            AppCredentialRef(cred.id, cred.name, not cred.unrestricted)
            if isinstance(cred, ApplicationCredential)
            else None
        ),
        audit_ids=tuple(row.audit_ids),
        issued_at=row.issued_at,
        expires_at=row.expires_at,
    )


class TokenValidator:
    """Validates opaque tokens against the database, with a small per-process LRU cache."""

    def __init__(
        self,
        sessions: SessionFactory,
        clock: Callable[[], datetime],
        cache_size: int = 4096,
        cache_seconds: float = 60.0,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._size = cache_size
        self._ttl = timedelta(seconds=cache_seconds)
        self._cache: OrderedDict[str, tuple[TokenInfo, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def validate(self, token: str) -> TokenInfo | None:
        """The token's info, or None if it is unknown, expired, revoked or lost its grant."""
        hashed = token_hash(token)
        now = self._clock()
        with self._lock:
            hit = self._cache.get(hashed)
            if hit is not None and now < hit[1]:
                self._cache.move_to_end(hashed)
                return hit[0]
            self._cache.pop(hashed, None)
        with self._sessions() as session:
            info = load_token_info(session, hashed, now)
        if info is not None and self._size > 0:
            with self._lock:
                self._cache[hashed] = (info, min(info.expires_at, now + self._ttl))
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return info

    def forget(self, hashed: str) -> None:
        with self._lock:
            self._cache.pop(hashed, None)

    def clear(self) -> None:
        """Drop every cached entry: called after any change that may revoke or alter grants."""
        with self._lock:
            self._cache.clear()
