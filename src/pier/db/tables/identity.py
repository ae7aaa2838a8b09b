"""Tables of the embedded identity service (owned by pier.api.identity).

Ids are 32-hex like Keystone's. There is one domain, `default`/`Default`, so no domain table.
Secrets (passwords, application-credential secrets, tokens) are stored only as hashes.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pier.db.base import Base, UtcDateTime

DEFAULT_DOMAIN_ID = "default"
DEFAULT_DOMAIN_NAME = "Default"

IdentityId = String(64)


def new_identity_id() -> str:
    """Keystone's id format: uuid4 as 32 hex digits, no dashes."""
    return uuid.uuid4().hex


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(IdentityId, primary_key=True, default=new_identity_id)
    name: Mapped[str] = mapped_column(String(64))
    domain_id: Mapped[str] = mapped_column(IdentityId, default=DEFAULT_DOMAIN_ID)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    __tablename__ = "user"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(IdentityId, primary_key=True, default=new_identity_id)
    name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[str] = mapped_column(IdentityId, default=DEFAULT_DOMAIN_ID)
    # `scrypt$n$r$p$salt$hash` (pier.api.identity.passwords); NULL = password auth impossible.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Not a foreign key, as in Keystone: deleting a project leaves users alone.
    default_project_id: Mapped[str | None] = mapped_column(IdentityId)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Keystone keeps unknown user attributes (email, description...) and echoes them back.
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Role(Base):
    __tablename__ = "role"

    id: Mapped[str] = mapped_column(IdentityId, primary_key=True, default=new_identity_id)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class RoleAssignment(Base):
    __tablename__ = "role_assignment"

    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id"), primary_key=True, index=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("role.id"), primary_key=True, index=True)


class ApplicationCredential(Base):
    __tablename__ = "application_credential"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[str] = mapped_column(IdentityId, primary_key=True, default=new_identity_id)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    # Role ids the credential may use; a token gets those the user still holds on the project.
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    unrestricted: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Token(Base):
    """An issued token. `id` is the sha256 hex of the opaque token the client holds."""

    __tablename__ = "token"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    project_id: Mapped[str | None] = mapped_column(ForeignKey("project.id"), index=True)
    methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    application_credential_id: Mapped[str | None] = mapped_column(
        ForeignKey("application_credential.id"), index=True
    )
    audit_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
