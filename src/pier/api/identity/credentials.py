"""Turn a `POST /v3/auth/tokens` body into a grant: who, scoped to what, by which methods.

Methods: `password` (user by id or name+domain), `application_credential` (by id, or name +
user), `token` (re-scoping an existing token; it keeps that token's expiry). Any credential
failure is the same 401, as in Keystone, so nothing tells a caller which part was wrong.
Request shapes: shared/spec/clients.md §2.2.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pier.api.identity import store
from pier.api.identity.passwords import token_hash, verify_secret
from pier.api.identity.tokens import load_token_info
from pier.db.tables.identity import ApplicationCredential, Project, User
from pier.domain.errors import InvalidInput, NotAuthenticated

UNAUTHORIZED = "The request you have made requires authentication."


def unauthorized() -> NotAuthenticated:
    return NotAuthenticated(UNAUTHORIZED)


@dataclass(frozen=True, slots=True)
class Grant:
    user: User
    project: Project | None
    methods: tuple[str, ...]
    application_credential: ApplicationCredential | None = None
    # Audit ids inherited from a re-scoped token, and the latest expiry allowed.
    parent_audit_ids: tuple[str, ...] = ()
    expires_at: datetime | None = None


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"Invalid input for field '{where}': expected an object.")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise unauthorized()
    return value


def _user_from_ref(session: Session, ref: dict[str, Any]) -> User:
    if "id" in ref:
        user = store.find_user(session, _str(ref["id"]))
    else:
        domain_id = store.domain_id_of(ref.get("domain"))
        user = (
            store.find_user_by_name(session, _str(ref.get("name")), domain_id)
            if domain_id
            else None
        )
    if user is None or not user.enabled:
        raise unauthorized()
    return user


def _password_grant(session: Session, identity: dict[str, Any]) -> Grant:
    ref = _dict(
        _dict(identity.get("password"), "identity/password").get("user"), "identity/password/user"
    )
    secret = _str(ref.get("password"))
    try:
        user = _user_from_ref(session, ref)
    except NotAuthenticated:
        verify_secret(secret, None)  # same cost as a wrong password: no user enumeration
        raise
    if not verify_secret(secret, user.password_hash):
        raise unauthorized()
    return Grant(user=user, project=None, methods=("password",))


def _app_credential_grant(session: Session, identity: dict[str, Any], now: datetime) -> Grant:
    ref = _dict(identity.get("application_credential"), "identity/application_credential")
    secret = _str(ref.get("secret"))
    if "id" in ref:
        cred = store.find_application_credential(session, _str(ref["id"]))
    else:
        owner = _user_from_ref(session, _dict(ref.get("user"), "application_credential/user"))
        cred = store.find_application_credential_by_name(session, owner.id, _str(ref.get("name")))
    if cred is None or not verify_secret(secret, cred.secret_hash):
        raise unauthorized()
    if cred.expires_at is not None and cred.expires_at <= now:
        raise unauthorized()
    user = store.find_user(session, cred.user_id)
    project = store.find_project(session, cred.project_id)
    if user is None or not user.enabled or project is None:
        raise unauthorized()
    return Grant(
        user=user,
        project=project,
        methods=("application_credential",),
        application_credential=cred,
        expires_at=cred.expires_at,
    )


def _token_grant(session: Session, identity: dict[str, Any], now: datetime) -> Grant:
    ref = _dict(identity.get("token"), "identity/token")
    parent = load_token_info(session, token_hash(_str(ref.get("id"))), now)
    # Keystone refuses to re-scope application-credential tokens: they are bound to one project.
    if parent is None or parent.application_credential is not None:
        raise unauthorized()
    user = store.find_user(session, parent.user_id)
    if user is None:
        raise unauthorized()
    methods = ("token", *(m for m in parent.methods if m != "token"))
    return Grant(
        user=user,
        project=None,
        methods=methods,
        parent_audit_ids=parent.audit_ids[-1:],
        expires_at=parent.expires_at,
    )


def _scoped_project(session: Session, scope: Any) -> Project | None:
    """The project a `scope` names; None for an unscoped request. Only project scope exists."""
    if scope is None or scope == "unscoped":
        return None
    ref = _dict(_dict(scope, "scope").get("project"), "scope/project")
    if "id" in ref:
        project = store.find_project(session, _str(ref["id"]))
    else:
        domain_id = store.domain_id_of(ref.get("domain"))
        project = (
            store.find_project_by_name(session, _str(ref.get("name")), domain_id)
            if domain_id
            else None
        )
    if project is None or not project.enabled:
        raise unauthorized()
    return project


def _default_project(session: Session, user: User) -> Project | None:
    """Keystone scopes a scopeless password request to the user's default project, if usable."""
    if user.default_project_id is None:
        return None
    project = store.find_project(session, user.default_project_id)
    if project is None or not project.enabled:
        return None
    return project if store.assigned_roles(session, user.id, project.id) else None


def resolve_grant(session: Session, body: Any, now: datetime) -> Grant:
    """Check the credentials in `body` and decide the token's scope.

    Raises:
        InvalidInput: the body is not an auth request.
        NotAuthenticated: bad credentials, or the user has no role on the requested project.
    """
    auth = _dict(_dict(body, "body").get("auth"), "auth")
    identity = _dict(auth.get("identity"), "auth/identity")
    methods = identity.get("methods")
    if not isinstance(methods, list) or len(methods) != 1:
        raise unauthorized()
    scope = auth.get("scope")
    match methods[0]:
        case "password":
            grant = _password_grant(session, identity)
            project = (
                _scoped_project(session, scope) if scope else _default_project(session, grant.user)
            )
        case "application_credential":
            if scope is not None:
                raise unauthorized()
            return _app_credential_grant(session, identity, now)
        case "token":
            grant = _token_grant(session, identity, now)
            project = _scoped_project(session, scope)
        case _:
            raise unauthorized()
    if project is not None and not store.assigned_roles(session, grant.user.id, project.id):
        raise unauthorized()
    return Grant(
        user=grant.user,
        project=project,
        methods=grant.methods,
        parent_audit_ids=grant.parent_audit_ids,
        expires_at=grant.expires_at,
    )
