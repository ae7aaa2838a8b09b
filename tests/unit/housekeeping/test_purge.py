"""Purge of DELETED rows over a real database (octavia-api.md §10)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pier.db.engine import SessionFactory, make_session_factory, transaction
from pier.db.tables.lbaas import Amphora, AmphoraHealth, LoadBalancer, Tag
from pier.housekeeping.purge import purge_deleted
from tests.support.databases import engine_for_test
from tests.support.factories import make_loadbalancer

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
AGE = timedelta(days=7)
OLD, RECENT = NOW - AGE - timedelta(hours=1), NOW - timedelta(hours=1)


@pytest.fixture
def sessions(tmp_path: Path) -> SessionFactory:
    return make_session_factory(engine_for_test(tmp_path))


def purge(sessions: SessionFactory) -> tuple[int, int]:
    with transaction(sessions) as session:
        purged = purge_deleted(session, NOW, loadbalancer_age=AGE, amphora_age=AGE)
    return purged.loadbalancers, purged.amphorae


def ids(sessions: SessionFactory, table: type[LoadBalancer] | type[Amphora]) -> set[str]:
    with transaction(sessions, write=False) as session:
        return set(session.scalars(select(table.id)))


def test_old_deleted_load_balancers_and_amphorae_go_the_rest_stays(
    sessions: SessionFactory,
) -> None:
    with transaction(sessions) as session:
        old_lb = make_loadbalancer(session, provisioning_status="DELETED", updated_at=OLD)
        recent_lb = make_loadbalancer(session, provisioning_status="DELETED", updated_at=RECENT)
        live_lb = make_loadbalancer(session, provisioning_status="ACTIVE", updated_at=OLD)
        session.add(Tag(resource_id=old_lb.id, tag="blue"))
        for amphora_id, status, updated in [
            ("old", "DELETED", OLD),
            ("recent", "DELETED", RECENT),
            ("live", "ALLOCATED", OLD),
            ("late-heartbeat", "DELETED", OLD),
        ]:
            session.add(
                Amphora(id=amphora_id, status=status, updated_at=updated, loadbalancer_id=old_lb.id)
            )
        session.add(AmphoraHealth(amphora_id="late-heartbeat", last_update=RECENT, busy=False))
        session.add(AmphoraHealth(amphora_id="old", last_update=OLD, busy=False))

    assert purge(sessions) == (1, 1)

    assert ids(sessions, LoadBalancer) == {recent_lb.id, live_lb.id}
    assert ids(sessions, Amphora) == {"recent", "live", "late-heartbeat"}
    with transaction(sessions, write=False) as session:
        assert session.get(AmphoraHealth, "old") is None
        assert session.scalars(select(Tag)).all() == []
        assert session.get(Amphora, "live").loadbalancer_id is None  # type: ignore[union-attr]
    assert purge(sessions) == (0, 0)
