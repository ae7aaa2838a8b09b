"""Identity writes, shared by the admin API, the CLI and bootstrap.

Deleting a project, user or role also removes what hangs off it (assignments, tokens,
application credentials), as Keystone does, so no token outlives its grant.
"""

import secrets
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlalchemy.orm import Session

from pier.api.identity import store
from pier.api.identity.passwords import hash_secret
from pier.db.tables.identity import (
    DEFAULT_DOMAIN_ID,
    ApplicationCredential,
    Project,
    Role,
    RoleAssignment,
    Token,
    User,
)
from pier.domain.errors import Conflict


def _duplicate(kind: str, name: str) -> Conflict:
    return Conflict(
        f"Conflict occurred attempting to store {kind} - Duplicate entry found with name "
        f"{name} at domain ID {DEFAULT_DOMAIN_ID}."
    )


def create_project(
    session: Session, name: str, description: str = "", enabled: bool = True
) -> Project:
    if store.find_project_by_name(session, name) is not None:
        raise _duplicate("project", name)
    project = Project(
        name=name, description=description, enabled=enabled, domain_id=DEFAULT_DOMAIN_ID
    )
    session.add(project)
    session.flush()
    return project


def rename_project(session: Session, project: Project, name: str) -> None:
    other = store.find_project_by_name(session, name)
    if other is not None and other.id != project.id:
        raise _duplicate("project", name)
    project.name = name


def delete_project(session: Session, project: Project) -> None:
    session.execute(delete(Token).where(Token.project_id == project.id))
    session.execute(
        delete(ApplicationCredential).where(ApplicationCredential.project_id == project.id)
    )
    session.execute(delete(RoleAssignment).where(RoleAssignment.project_id == project.id))
    session.execute(
        update(User).where(User.default_project_id == project.id).values(default_project_id=None)
    )
    session.delete(project)
    session.flush()


def create_user(
    session: Session,
    name: str,
    password: str | None,
    default_project_id: str | None = None,
    enabled: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> User:
    if store.find_user_by_name(session, name) is not None:
        raise _duplicate("user", name)
    user = User(
        name=name,
        domain_id=DEFAULT_DOMAIN_ID,
        enabled=enabled,
        password_hash=hash_secret(password) if password is not None else None,
        default_project_id=default_project_id,
        extra=dict(extra or {}),
    )
    session.add(user)
    session.flush()
    return user


def rename_user(session: Session, user: User, name: str) -> None:
    other = store.find_user_by_name(session, name)
    if other is not None and other.id != user.id:
        raise _duplicate("user", name)
    user.name = name


def set_password(session: Session, user: User, password: str) -> None:
    """New password; the user's existing tokens are revoked, as Keystone does."""
    user.password_hash = hash_secret(password)
    session.execute(delete(Token).where(Token.user_id == user.id))


def delete_user(session: Session, user: User) -> None:
    session.execute(delete(Token).where(Token.user_id == user.id))
    session.execute(delete(ApplicationCredential).where(ApplicationCredential.user_id == user.id))
    session.execute(delete(RoleAssignment).where(RoleAssignment.user_id == user.id))
    session.delete(user)
    session.flush()


def create_role(session: Session, name: str) -> Role:
    if store.find_role_by_name(session, name) is not None:
        raise _duplicate("role", name)
    role = Role(name=name)
    session.add(role)
    session.flush()
    return role


def ensure_role(session: Session, name: str) -> Role:
    return store.find_role_by_name(session, name) or create_role(session, name)


def delete_role(session: Session, role: Role) -> None:
    session.execute(delete(RoleAssignment).where(RoleAssignment.role_id == role.id))
    session.delete(role)
    session.flush()


def assign_role(session: Session, user_id: str, project_id: str, role_id: str) -> bool:
    """Idempotent grant; True if it was new."""
    if session.get(RoleAssignment, (user_id, project_id, role_id)) is not None:
        return False
    session.add(RoleAssignment(user_id=user_id, project_id=project_id, role_id=role_id))
    session.flush()
    return True


def unassign_role(session: Session, user_id: str, project_id: str, role_id: str) -> bool:
    """Revoke a grant; True if there was one."""
    row = session.get(RoleAssignment, (user_id, project_id, role_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def create_application_credential(
    session: Session,
    user: User,
    project_id: str,
    name: str,
    role_ids: Collection[str],
    *,
    secret: str | None = None,
    description: str | None = None,
    expires_at: datetime | None = None,
    unrestricted: bool = False,
) -> tuple[ApplicationCredential, str]:
    """Create a credential and return it with its secret, which is never readable again."""
    if store.find_application_credential_by_name(session, user.id, name) is not None:
        raise Conflict(
            f"Conflict occurred attempting to store application_credential - "
            f"Duplicate entry found with name {name}."
        )
    secret = secret or secrets.token_urlsafe(64)
    cred = ApplicationCredential(
        name=name,
        description=description,
        user_id=user.id,
        project_id=project_id,
        secret_hash=hash_secret(secret),
        roles=list(role_ids),
        unrestricted=unrestricted,
        expires_at=expires_at,
    )
    session.add(cred)
    session.flush()
    return cred, secret


def delete_application_credential(session: Session, cred: ApplicationCredential) -> None:
    session.execute(delete(Token).where(Token.application_credential_id == cred.id))
    session.delete(cred)
    session.flush()


def purge_expired_tokens(session: Session, now: datetime, user_id: str | None = None) -> int:
    """Delete tokens past their expiry (all users, or one); returns how many went."""
    query = delete(Token).where(Token.expires_at <= now)
    if user_id is not None:
        query = query.where(Token.user_id == user_id)
    result = session.execute(query)
    return cast(CursorResult[Any], result).rowcount
