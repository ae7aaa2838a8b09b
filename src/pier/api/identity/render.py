"""Keystone v3 JSON shapes: tokens (golden: shared/spec/clients/keystone30-*.json) and the
admin resources, each with its `links`.
"""

from datetime import datetime
from typing import Any

from pier.api.identity.catalog import build_catalog, identity_url
from pier.api.identity.tokens import TokenInfo
from pier.db.tables.identity import (
    DEFAULT_DOMAIN_ID,
    DEFAULT_DOMAIN_NAME,
    ApplicationCredential,
    Project,
    Role,
    RoleAssignment,
    User,
)
from pier.settings import Settings

DEFAULT_DOMAIN_REF = {"id": DEFAULT_DOMAIN_ID, "name": DEFAULT_DOMAIN_NAME}


def keystone_time(moment: datetime) -> str:
    """Keystone's token timestamps: UTC, whole seconds, six zero decimals, `Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def token_body(info: TokenInfo, settings: Settings, with_catalog: bool) -> dict[str, Any]:
    """The full Keystone token body; the catalog only for a scoped token, as Keystone does."""
    token: dict[str, Any] = {
        "methods": list(info.methods),
        "user": {
            "domain": dict(DEFAULT_DOMAIN_REF),
            "id": info.user_id,
            "name": info.user_name,
            "password_expires_at": None,
        },
        "audit_ids": list(info.audit_ids),
        "expires_at": keystone_time(info.expires_at),
        "issued_at": keystone_time(info.issued_at),
    }
    if info.project_id is not None:
        token["project"] = {
            "domain": dict(DEFAULT_DOMAIN_REF),
            "id": info.project_id,
            "name": info.project_name,
        }
        token["is_domain"] = False
        token["roles"] = [{"id": role.id, "name": role.name} for role in info.roles]
        if with_catalog:
            token["catalog"] = build_catalog(settings)
    if info.application_credential is not None:
        cred = info.application_credential
        token["application_credential"] = {
            "id": cred.id,
            "name": cred.name,
            "restricted": cred.restricted,
        }
    return {"token": token}


def _self(settings: Settings, path: str) -> dict[str, str]:
    return {"self": f"{identity_url(settings)}/{path}"}


def collection(
    settings: Settings, key: str, items: list[dict[str, Any]], path: str
) -> dict[str, Any]:
    return {key: items, "links": {**_self(settings, path), "previous": None, "next": None}}


def project_body(settings: Settings, project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "domain_id": project.domain_id,
        "description": project.description,
        "enabled": project.enabled,
        "parent_id": project.domain_id,
        "is_domain": False,
        "tags": [],
        "options": {},
        "links": _self(settings, f"projects/{project.id}"),
    }


def user_body(settings: Settings, user: User) -> dict[str, Any]:
    body: dict[str, Any] = {
        **user.extra,
        "id": user.id,
        "name": user.name,
        "domain_id": user.domain_id,
        "enabled": user.enabled,
        "password_expires_at": None,
        "options": {},
        "links": _self(settings, f"users/{user.id}"),
    }
    if user.default_project_id is not None:
        body["default_project_id"] = user.default_project_id
    return body


def role_body(settings: Settings, role: Role) -> dict[str, Any]:
    return {
        "id": role.id,
        "name": role.name,
        "domain_id": None,
        "description": None,
        "options": {},
        "links": _self(settings, f"roles/{role.id}"),
    }


def domain_body(settings: Settings) -> dict[str, Any]:
    return {
        "id": DEFAULT_DOMAIN_ID,
        "name": DEFAULT_DOMAIN_NAME,
        "description": "The default domain",
        "enabled": True,
        "tags": [],
        "options": {},
        "links": _self(settings, f"domains/{DEFAULT_DOMAIN_ID}"),
    }


def assignment_body(
    settings: Settings,
    row: RoleAssignment,
    names: tuple[Role, User, Project] | None = None,
) -> dict[str, Any]:
    """One `role_assignments` entry; `names` adds the names `?include_names` asks for."""
    role: dict[str, Any] = {"id": row.role_id}
    user: dict[str, Any] = {"id": row.user_id}
    project: dict[str, Any] = {"id": row.project_id}
    if names is not None:
        role["name"] = names[0].name
        user |= {"name": names[1].name, "domain": dict(DEFAULT_DOMAIN_REF)}
        project |= {"name": names[2].name, "domain": dict(DEFAULT_DOMAIN_REF)}
    path = f"projects/{row.project_id}/users/{row.user_id}/roles/{row.role_id}"
    return {
        "role": role,
        "user": user,
        "scope": {"project": project},
        "links": {"assignment": f"{identity_url(settings)}/{path}"},
    }


def application_credential_body(
    settings: Settings, cred: ApplicationCredential, roles: list[Role], secret: str | None = None
) -> dict[str, Any]:
    """The secret appears only in the create response; Keystone never shows it again."""
    body: dict[str, Any] = {
        "id": cred.id,
        "name": cred.name,
        "description": cred.description,
        "user_id": cred.user_id,
        "project_id": cred.project_id,
        "roles": [{"id": role.id, "name": role.name, "domain_id": None} for role in roles],
        "expires_at": (
            cred.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f") if cred.expires_at else None
        ),
        "unrestricted": cred.unrestricted,
        "system": None,
        "access_rules": [],
        "links": _self(settings, f"users/{cred.user_id}/application_credentials/{cred.id}"),
    }
    if secret is not None:
        body["secret"] = secret
    return body
