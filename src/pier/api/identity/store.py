"""Identity queries. `find_*` may return None; `get_*` raise NotFound with Keystone's text."""

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.api.identity.implied_roles import implied_by
from pier.db.tables.identity import (
    DEFAULT_DOMAIN_ID,
    DEFAULT_DOMAIN_NAME,
    ApplicationCredential,
    Project,
    Role,
    RoleAssignment,
    User,
)
from pier.domain.errors import NotFound


def not_found(kind: str, ident: str) -> NotFound:
    return NotFound(f"Could not find {kind}: {ident}.")


def domain_id_of(ref: Any) -> str | None:
    """The domain a `{"id": ...}` / `{"name": ...}` reference names; None if it is not ours."""
    if not isinstance(ref, dict):
        return None
    if "id" in ref:
        return DEFAULT_DOMAIN_ID if ref["id"] == DEFAULT_DOMAIN_ID else None
    if ref.get("name") == DEFAULT_DOMAIN_NAME:
        return DEFAULT_DOMAIN_ID
    return None


def find_project(session: Session, project_id: str) -> Project | None:
    return session.get(Project, project_id)


def find_project_by_name(
    session: Session, name: str, domain_id: str = DEFAULT_DOMAIN_ID
) -> Project | None:
    query = select(Project).where(Project.name == name, Project.domain_id == domain_id)
    return session.scalars(query).first()


def find_project_by_name_or_id(session: Session, ref: str) -> Project | None:
    return find_project(session, ref) or find_project_by_name(session, ref)


def get_project(session: Session, project_id: str) -> Project:
    project = find_project(session, project_id)
    if project is None:
        raise not_found("project", project_id)
    return project


def list_projects(session: Session, name: str | None = None) -> Sequence[Project]:
    query = select(Project).order_by(Project.name)
    if name is not None:
        query = query.where(Project.name == name)
    return session.scalars(query).all()


def find_user(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def find_user_by_name(
    session: Session, name: str, domain_id: str = DEFAULT_DOMAIN_ID
) -> User | None:
    query = select(User).where(User.name == name, User.domain_id == domain_id)
    return session.scalars(query).first()


def find_user_by_name_or_id(session: Session, ref: str) -> User | None:
    return find_user(session, ref) or find_user_by_name(session, ref)


def get_user(session: Session, user_id: str) -> User:
    user = find_user(session, user_id)
    if user is None:
        raise not_found("user", user_id)
    return user


def list_users(session: Session, name: str | None = None) -> Sequence[User]:
    query = select(User).order_by(User.name)
    if name is not None:
        query = query.where(User.name == name)
    return session.scalars(query).all()


def find_role(session: Session, role_id: str) -> Role | None:
    return session.get(Role, role_id)


def find_role_by_name(session: Session, name: str) -> Role | None:
    return session.scalars(select(Role).where(Role.name == name)).first()


def find_role_by_name_or_id(session: Session, ref: str) -> Role | None:
    return find_role(session, ref) or find_role_by_name(session, ref)


def get_role(session: Session, role_id: str) -> Role:
    role = find_role(session, role_id)
    if role is None:
        raise not_found("role", role_id)
    return role


def list_roles(session: Session, name: str | None = None) -> Sequence[Role]:
    query = select(Role).order_by(Role.name)
    if name is not None:
        query = query.where(Role.name == name)
    return session.scalars(query).all()


def list_assignments(
    session: Session,
    user_id: str | None = None,
    project_id: str | None = None,
    role_id: str | None = None,
) -> Sequence[RoleAssignment]:
    query = select(RoleAssignment).order_by(
        RoleAssignment.project_id, RoleAssignment.user_id, RoleAssignment.role_id
    )
    if user_id is not None:
        query = query.where(RoleAssignment.user_id == user_id)
    if project_id is not None:
        query = query.where(RoleAssignment.project_id == project_id)
    if role_id is not None:
        query = query.where(RoleAssignment.role_id == role_id)
    return session.scalars(query).all()


def assigned_roles(session: Session, user_id: str, project_id: str) -> Sequence[Role]:
    query = (
        select(Role)
        .join(RoleAssignment, RoleAssignment.role_id == Role.id)
        .where(RoleAssignment.user_id == user_id, RoleAssignment.project_id == project_id)
        .order_by(Role.name)
    )
    return session.scalars(query).all()


def effective_roles(
    session: Session, user_id: str, project_id: str, allowed: Collection[str] | None = None
) -> list[Role]:
    """The roles a token on `project_id` carries, as Keystone lists them: assigned roles, then
    the roles they imply. `allowed` (an application credential's role ids) keeps only those
    roles, before expanding again. Implied roles without a row are skipped: a token can only
    name roles that exist.
    """
    roles = _with_implied(session, list(assigned_roles(session, user_id, project_id)))
    if allowed is not None:
        roles = _with_implied(session, [role for role in roles if role.id in allowed])
    return roles


def _with_implied(session: Session, roles: list[Role]) -> list[Role]:
    names = {role.name for role in roles}
    for name in [implied for role in list(roles) for implied in implied_by(role.name)]:
        if name not in names and (row := find_role_by_name(session, name)) is not None:
            roles.append(row)
            names.add(name)
    return roles


def user_projects(session: Session, user_id: str) -> Sequence[Project]:
    query = (
        select(Project)
        .where(
            Project.id.in_(
                select(RoleAssignment.project_id).where(RoleAssignment.user_id == user_id)
            )
        )
        .order_by(Project.name)
    )
    return session.scalars(query).all()


def find_application_credential(session: Session, cred_id: str) -> ApplicationCredential | None:
    return session.get(ApplicationCredential, cred_id)


def find_application_credential_by_name(
    session: Session, user_id: str, name: str
) -> ApplicationCredential | None:
    query = select(ApplicationCredential).where(
        ApplicationCredential.user_id == user_id, ApplicationCredential.name == name
    )
    return session.scalars(query).first()


def list_application_credentials(session: Session, user_id: str) -> Sequence[ApplicationCredential]:
    query = (
        select(ApplicationCredential)
        .where(ApplicationCredential.user_id == user_id)
        .order_by(ApplicationCredential.name)
    )
    return session.scalars(query).all()
