"""First-start identity: the roles Octavia's policies name, `admin` and `demo` projects and
users, and the client files for them. Idempotent: every start runs it.

Passwords are random on first start and live only in the data-dir files (mode 0600). Later
starts read them back from `clouds.yaml`; if those files are gone, the bootstrap users get
new passwords. A password changed through the API wins: bootstrap then leaves it alone and
warns that the files are stale. Passwords are never logged.
"""

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from pier.api.identity import changes, store
from pier.api.identity.clouds import CloudAccount, read_passwords, write_client_files
from pier.api.identity.passwords import verify_secret
from pier.db.engine import SessionFactory, transaction
from pier.db.tables.identity import Project, Role
from pier.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_ROLES = (
    "admin",
    "manager",
    "member",
    "reader",
    "service",
    "load-balancer_observer",
    "load-balancer_global_observer",
    "load-balancer_member",
    "load-balancer_quota_admin",
    "load-balancer_admin",
)

# Each account: user name, project name, the roles it gets there.
BOOTSTRAP_ACCOUNTS = (
    ("admin", "admin", ("admin",)),
    ("demo", "demo", ("load-balancer_member", "member")),
)


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    project_ids: dict[str, str]
    user_ids: dict[str, str]
    files: tuple[Path, ...]
    # What this run created or reset, e.g. ("role reader", "user demo", "password admin").
    changed: tuple[str, ...]


def ensure_default_roles(session: Session) -> tuple[dict[str, Role], list[str]]:
    """Create any missing default role; returns every default role by name, and what was new."""
    roles: dict[str, Role] = {}
    created: list[str] = []
    for name in DEFAULT_ROLES:
        role = store.find_role_by_name(session, name)
        if role is None:
            role = changes.create_role(session, name)
            created.append(f"role {name}")
        roles[name] = role
    return roles, created


def _ensure_project(session: Session, name: str, changed: list[str]) -> Project:
    project = store.find_project_by_name(session, name)
    if project is None:
        project = changes.create_project(session, name, description=f"Pier bootstrap: {name}")
        changed.append(f"project {name}")
    return project


def _ensure_user(
    session: Session, name: str, project: Project, known: str | None, changed: list[str]
) -> tuple[str, str]:
    """The user's id and the password the client files should carry."""
    user = store.find_user_by_name(session, name)
    if user is None:
        password = known or secrets.token_urlsafe(24)
        user = changes.create_user(session, name, password, default_project_id=project.id)
        changed.append(f"user {name}")
    elif known is None:
        password = secrets.token_urlsafe(24)
        changes.set_password(session, user, password)
        changed.append(f"password {name}")
        log.warning("identity bootstrap: no client files for user %s, set a new password", name)
    else:
        password = known
        if not verify_secret(known, user.password_hash):
            log.warning(
                "identity bootstrap: the password of user %s was changed; the client "
                "files in the data dir no longer work for it",
                name,
            )
    return user.id, password


def ensure_identity_bootstrap(sessions: SessionFactory, settings: Settings) -> BootstrapResult:
    known = read_passwords(settings.data_dir)
    changed: list[str] = []
    accounts: list[CloudAccount] = []
    project_ids: dict[str, str] = {}
    user_ids: dict[str, str] = {}
    with transaction(sessions) as session:
        roles, changed = ensure_default_roles(session)
        for user_name, project_name, role_names in BOOTSTRAP_ACCOUNTS:
            project = _ensure_project(session, project_name, changed)
            user_id, password = _ensure_user(
                session, user_name, project, known.get(user_name), changed
            )
            for role_name in role_names:
                changes.assign_role(session, user_id, project.id, roles[role_name].id)
            project_ids[project_name], user_ids[user_name] = project.id, user_id
            accounts.append(CloudAccount(user_name, project_name, password))
    files = write_client_files(settings, accounts)
    if changed:
        log.info(
            "identity bootstrap: %s; client files in %s", ", ".join(changed), settings.data_dir
        )
    return BootstrapResult(
        project_ids=project_ids, user_ids=user_ids, files=tuple(files), changed=tuple(changed)
    )
