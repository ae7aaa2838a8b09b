"""Whole trees written the way the API writes them, and row helpers for reconcile tests."""

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from pier.db.base import Base
from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import (
    Amphora,
    HealthMonitor,
    L7Policy,
    L7Rule,
    Listener,
    LoadBalancer,
    Member,
    Pool,
)
from tests.support.factories import (
    make_healthmonitor,
    make_l7policy,
    make_l7rule,
    make_listener,
    make_loadbalancer,
    make_member,
    make_pool,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Ids:
    lb: str
    listener: str
    pool: str
    member: str
    healthmonitor: str
    l7policy: str
    l7rule: str


def write_tree(sessions: SessionFactory, **lb: Any) -> Ids:
    """A single-call create: every object PENDING_CREATE."""
    with transaction(sessions) as session:
        loadbalancer = make_loadbalancer(session, **lb)
        pool = make_pool(session, loadbalancer)
        listener = make_listener(session, loadbalancer, default_pool_id=pool.id)
        member = make_member(session, pool, operating_status="OFFLINE")
        monitor = make_healthmonitor(session, pool)
        policy = make_l7policy(session, listener)
        rule = make_l7rule(session, policy)
        return Ids(loadbalancer.id, listener.id, pool.id, member.id, monitor.id, policy.id, rule.id)


def row(session: Session, table: type[T], row_id: str) -> T:
    found = session.get(table, row_id)
    assert found is not None
    return found


def get(sessions: SessionFactory, table: type[Any], row_id: str) -> Any:
    with transaction(sessions, write=False) as session:
        return session.get(table, row_id)


def amphorae_of(sessions: SessionFactory, lb_id: str) -> list[Amphora]:
    query = select(Amphora).where(Amphora.loadbalancer_id == lb_id).order_by(Amphora.created_at)
    with transaction(sessions, write=False) as session:
        return list(session.scalars(query))


def statuses(sessions: SessionFactory, ids: Ids) -> dict[str, tuple[str, str]]:
    tables = {
        "lb": LoadBalancer, "listener": Listener, "pool": Pool, "member": Member,
        "healthmonitor": HealthMonitor, "l7policy": L7Policy, "l7rule": L7Rule,
    }  # fmt: skip
    result = {}
    for name, table in tables.items():
        row = get(sessions, table, getattr(ids, name))
        result[name] = (row.provisioning_status, row.operating_status)
    return result


def edit(sessions: SessionFactory, table: type[Any], row_id: str, **values: Any) -> None:
    with transaction(sessions) as session:
        row = session.get(table, row_id)
        for column, value in values.items():
            setattr(row, column, value)


def dump(sessions: SessionFactory) -> dict[str, list[tuple[Any, ...]]]:
    with transaction(sessions, write=False) as session:
        return {
            table.name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
            for table in Base.metadata.sorted_tables
        }
