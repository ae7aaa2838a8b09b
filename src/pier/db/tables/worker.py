"""Worker bookkeeping: the reconcile lease that keeps two workers off the same tree.

Taking a lease is two statements, each atomic on its own on SQLite, PostgreSQL and MariaDB:
an INSERT that does nothing if the row exists, then, if that inserted nothing, an UPDATE that
only matches an expired lease or one we already own. A row count of one means the lease is ours.
No SELECT ... FOR UPDATE, no savepoint (pysqlite's savepoints are unreliable).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Executable, Insert, String, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column

from pier.db.base import Base, UtcDateTime


class ReconcileLease(Base):
    """Who is reconciling a load balancer, until when. No FK: leases outlive purged rows."""

    __tablename__ = "reconcile_lease"

    loadbalancer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


def _insert_if_absent(session: Session, values: dict[str, object]) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(ReconcileLease).values(values).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql.insert(ReconcileLease).values(values).on_conflict_do_nothing()
    # MariaDB / MySQL: IGNORE turns the duplicate-key error into a warning and zero rows.
    return insert(ReconcileLease).values(values).prefix_with("IGNORE")


def _rowcount(session: Session, statement: Executable) -> int:
    result = session.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError("expected a cursor result from a DML statement")
    return result.rowcount


def take_lease(
    session: Session, loadbalancer_id: str, owner: str, now: datetime, ttl: timedelta
) -> bool:
    """Take or extend the lease; False when another owner holds an unexpired one."""
    expires_at = now + ttl
    values: dict[str, object] = {
        "loadbalancer_id": loadbalancer_id,
        "owner": owner,
        "expires_at": expires_at,
    }
    if _rowcount(session, _insert_if_absent(session, values)) == 1:
        return True
    statement = (
        update(ReconcileLease)
        .where(ReconcileLease.loadbalancer_id == loadbalancer_id)
        .where(or_(ReconcileLease.expires_at < now, ReconcileLease.owner == owner))
        .values(owner=owner, expires_at=expires_at)
    )
    return _rowcount(session, statement) == 1


def release_lease(session: Session, loadbalancer_id: str, owner: str) -> None:
    """Give the lease up, if it is still ours."""
    session.execute(
        delete(ReconcileLease)
        .where(ReconcileLease.loadbalancer_id == loadbalancer_id)
        .where(ReconcileLease.owner == owner)
    )


def lease_owners(session: Session) -> set[str]:
    return set(session.scalars(select(ReconcileLease.owner).distinct()))


def lease_owner(session: Session, loadbalancer_id: str) -> str | None:
    """Who holds this load balancer's lease (expired or not), if anyone."""
    return session.scalar(
        select(ReconcileLease.owner).where(ReconcileLease.loadbalancer_id == loadbalancer_id)
    )


def release_leases_of(session: Session, owners: Iterable[str]) -> int:
    """Drop every lease these owners hold (they are known to be gone); returns how many."""
    owners = list(owners)
    if not owners:
        return 0
    return _rowcount(session, delete(ReconcileLease).where(ReconcileLease.owner.in_(owners)))
