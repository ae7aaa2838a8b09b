"""Pieces every LBaaS response shares (spec §1.4)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.db.tables import Tag


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 without a zone (UTC implied) and without microseconds, as Octavia renders."""
    if value is None:
        return None
    return value.replace(tzinfo=None, microsecond=0).isoformat()


def text(value: str | None) -> str:
    """`name` and `description` are never null in Octavia's responses."""
    return value or ""


def ownership(row: Any) -> dict[str, Any]:
    return {"project_id": row.project_id, "tenant_id": row.project_id}


def statuses(row: Any) -> dict[str, Any]:
    return {
        "provisioning_status": row.provisioning_status,
        "operating_status": row.operating_status,
    }


def audit_times(row: Any) -> dict[str, Any]:
    return {"created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at)}


def id_list(ids: Iterable[str]) -> list[dict[str, str]]:
    return [{"id": ident} for ident in ids]


def load_tags(session: Session, ids: Iterable[str]) -> dict[str, list[str]]:
    """Tags of many objects in one query."""
    wanted = list(ids)
    result: dict[str, list[str]] = defaultdict(list)
    if not wanted:
        return result
    for chunk_start in range(0, len(wanted), 500):
        chunk = wanted[chunk_start : chunk_start + 500]
        for resource_id, tag in session.execute(
            select(Tag.resource_id, Tag.tag).where(Tag.resource_id.in_(chunk)).order_by(Tag.tag)
        ):
            result[resource_id].append(tag)
    return result


def replace_tags(session: Session, resource_id: str, tags: list[str] | None) -> None:
    """PUT replaces the whole list; None leaves it unchanged (spec §4.8)."""
    if tags is None:
        return
    for row in session.scalars(select(Tag).where(Tag.resource_id == resource_id)):
        session.delete(row)
    session.flush()
    for tag in dict.fromkeys(tags):
        session.add(Tag(resource_id=resource_id, tag=tag))


def delete_tags(session: Session, resource_id: str) -> None:
    for row in session.scalars(select(Tag).where(Tag.resource_id == resource_id)):
        session.delete(row)
