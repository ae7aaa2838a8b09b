from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.worker import ReconcileLease, release_lease, take_lease
from tests.support.factories import make_sessions

NOW = datetime(2025, 6, 1, tzinfo=UTC)
TTL = timedelta(minutes=2)


@pytest.fixture
def sessions(tmp_path: Path) -> SessionFactory:
    return make_sessions(tmp_path)


def take(sessions: SessionFactory, owner: str, now: datetime = NOW) -> bool:
    with transaction(sessions) as session:
        return take_lease(session, "lb-1", owner, now, TTL)


def test_only_one_owner_holds_a_lease_until_it_expires(sessions: SessionFactory) -> None:
    assert take(sessions, "a")
    assert not take(sessions, "b")
    assert take(sessions, "a", NOW + timedelta(minutes=1))  # renewal by the holder
    assert not take(sessions, "b", NOW + timedelta(minutes=2))  # renewed: not yet expired
    assert take(sessions, "b", NOW + timedelta(minutes=4))
    with transaction(sessions, write=False) as session:
        lease = session.get(ReconcileLease, "lb-1")
        assert lease is not None
        assert (lease.owner, lease.expires_at) == ("b", NOW + timedelta(minutes=6))


def test_release_frees_only_your_own_lease(sessions: SessionFactory) -> None:
    assert take(sessions, "a")
    with transaction(sessions) as session:
        release_lease(session, "lb-1", "b")
    assert not take(sessions, "b")
    with transaction(sessions) as session:
        release_lease(session, "lb-1", "a")
    assert take(sessions, "b")
