"""The writer over a real database: liveness, statuses written only on change, statistics."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import (
    Amphora,
    AmphoraHealth,
    Listener,
    ListenerStatistics,
    LoadBalancer,
    Member,
    Pool,
)
from pier.health.receiver import Received, combine
from pier.health.writer import HeartbeatWriter
from pier.wire.heartbeat import HeartbeatMessage, ListenerReport, ListenerStats, PoolReport
from tests.support.factories import (
    ManualClock,
    make_listener,
    make_loadbalancer,
    make_member,
    make_pool,
)

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
STALE_AFTER = timedelta(seconds=10)


@dataclass(frozen=True)
class Ids:
    lb: str
    listener: str
    pool: str
    members: tuple[str, str]
    amphora: str


@pytest.fixture
def writer(sessions: SessionFactory, clock: ManualClock) -> HeartbeatWriter:
    return HeartbeatWriter(sessions, clock, stale_after=STALE_AFTER)


@pytest.fixture
def ids(sessions: SessionFactory) -> Ids:
    """An ACTIVE tree as the worker leaves it: operating statuses OFFLINE, one amphora."""
    with transaction(sessions) as session:
        lb = make_loadbalancer(session, provisioning_status="ACTIVE")
        pool = make_pool(session, lb, provisioning_status="ACTIVE")
        listener = make_listener(session, lb, provisioning_status="ACTIVE", default_pool_id=pool.id)
        members = tuple(
            make_member(session, pool, provisioning_status="ACTIVE", operating_status="OFFLINE").id
            for _ in range(2)
        )
        amphora = Amphora(loadbalancer_id=lb.id, status="ALLOCATED", role="STANDALONE")
        session.add(amphora)
        session.flush()
        return Ids(lb.id, listener.id, pool.id, (members[0], members[1]), amphora.id)


def heartbeat(
    ids: Ids,
    seq: int = 1,
    *,
    members: tuple[str, str] = ("UP", "UP"),
    listeners: dict[str, ListenerStats] | None = None,
    version: int = 3,
    amphora_id: str | None = None,
) -> HeartbeatMessage:
    listeners = {ids.listener: ListenerStats()} if listeners is None else listeners
    return HeartbeatMessage(
        amphora_id or ids.amphora,
        seq,
        version,
        {listener_id: ListenerReport("OPEN", stats) for listener_id, stats in listeners.items()},
        {
            f"{ids.pool}:{ids.listener}": PoolReport(
                "UP", dict(zip(ids.members, members, strict=True))
            )
        },
    )


def write(writer: HeartbeatWriter, *messages: HeartbeatMessage, at: datetime = T0) -> None:
    batch: dict[str, Received] = {}
    for message in messages:
        received = Received.of(message, at)
        older = batch.get(message.amphora_id)
        batch[message.amphora_id] = received if older is None else combine(older, received)
    writer.write(batch)


def operating(sessions: SessionFactory, ids: Ids) -> dict[str, Any]:
    with transaction(sessions, write=False) as session:
        return {
            "lb": session.get(LoadBalancer, ids.lb).operating_status,  # type: ignore[union-attr]
            "listener": session.get(Listener, ids.listener).operating_status,  # type: ignore[union-attr]
            "pool": session.get(Pool, ids.pool).operating_status,  # type: ignore[union-attr]
            "members": [
                session.get(Member, m).operating_status  # type: ignore[union-attr]
                for m in ids.members
            ],
        }


def health(sessions: SessionFactory, amphora_id: str) -> AmphoraHealth | None:
    with transaction(sessions, write=False) as session:
        return session.get(AmphoraHealth, amphora_id)


def stats(sessions: SessionFactory, ids: Ids) -> ListenerStatistics | None:
    with transaction(sessions, write=False) as session:
        return session.get(ListenerStatistics, (ids.listener, ids.amphora))


def updated_at(sessions: SessionFactory, table: type[Any], row_id: str) -> datetime | None:
    with transaction(sessions, write=False) as session:
        row = session.get(table, row_id)
        assert row is not None
        return row.updated_at  # type: ignore[no-any-return]


def test_a_heartbeat_brings_the_tree_online_and_refreshes_liveness(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    write(writer, heartbeat(ids))

    assert operating(sessions, ids) == {
        "lb": "ONLINE",
        "listener": "ONLINE",
        "pool": "ONLINE",
        "members": ["ONLINE", "ONLINE"],
    }
    row = health(sessions, ids.amphora)
    assert row is not None and (row.last_update, row.busy) == (T0, False)
    assert writer.counters["written"] == 1 and writer.counters["status_changes"] == 5


def test_a_down_member_degrades_pool_and_loadbalancer_and_recovers(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    write(writer, heartbeat(ids, 1, members=("UP", "DOWN")))
    degraded = operating(sessions, ids)
    write(writer, heartbeat(ids, 2))

    assert degraded == {
        "lb": "DEGRADED",
        "listener": "ONLINE",
        "pool": "DEGRADED",
        "members": ["ONLINE", "ERROR"],
    }
    assert operating(sessions, ids)["members"] == ["ONLINE", "ONLINE"]
    assert operating(sessions, ids)["lb"] == "ONLINE"


def test_statuses_are_written_only_when_they_change(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids, clock: ManualClock
) -> None:
    write(writer, heartbeat(ids, 1))
    first = updated_at(sessions, LoadBalancer, ids.lb)
    clock.advance(seconds=5)

    write(writer, heartbeat(ids, 2), at=clock())

    assert first == T0
    assert updated_at(sessions, LoadBalancer, ids.lb) == T0
    assert updated_at(sessions, Member, ids.members[0]) == T0
    assert writer.counters["status_changes"] == 5
    row = health(sessions, ids.amphora)
    assert row is not None and row.last_update == T0 + timedelta(seconds=5)


def test_liveness_never_moves_backwards(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    write(writer, heartbeat(ids, 2), at=T0)
    write(writer, heartbeat(ids, 1), at=T0 - timedelta(seconds=3))  # e.g. another manager's

    row = health(sessions, ids.amphora)
    assert row is not None and row.last_update == T0


def test_a_listener_count_mismatch_updates_statuses_but_not_liveness(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    write(writer, heartbeat(ids, listeners={}))

    assert health(sessions, ids.amphora) is None
    assert operating(sessions, ids)["listener"] == "ERROR"  # enabled, LB ACTIVE, not reported
    assert writer.counters["listener_count_mismatch"] == 1


def test_while_pending_the_listener_count_is_not_checked(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    with transaction(sessions) as session:
        session.get(LoadBalancer, ids.lb).provisioning_status = "PENDING_UPDATE"  # type: ignore[union-attr]

    write(writer, heartbeat(ids, listeners={}))

    assert health(sessions, ids.amphora) is not None
    assert operating(sessions, ids)["listener"] == "OFFLINE"


def test_a_stale_heartbeat_only_adds_its_statistics(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids, clock: ManualClock
) -> None:
    clock.advance(seconds=11)

    write(writer, heartbeat(ids, listeners={ids.listener: ListenerStats(rx=7)}), at=T0)

    assert health(sessions, ids.amphora) is None
    assert operating(sessions, ids)["lb"] == "OFFLINE"
    row = stats(sessions, ids)
    assert row is not None and row.bytes_in == 7
    assert writer.counters["stale"] == 1


def test_a_heartbeat_built_before_the_last_push_only_adds_its_statistics(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    """A new listener is missing from a heartbeat built before the push that added it."""
    with transaction(sessions) as session:
        session.get(Amphora, ids.amphora).config_version = "v2"  # type: ignore[union-attr]
    before = replace(heartbeat(ids, listeners={}), config_version="v1")

    write(writer, before)

    assert operating(sessions, ids)["listener"] == "OFFLINE"  # not ERROR
    assert health(sessions, ids.amphora) is None
    assert writer.counters["other_config"] == 1

    write(writer, replace(heartbeat(ids, seq=2), config_version="v2"))
    assert operating(sessions, ids)["listener"] == "ONLINE"


def test_version_3_statistics_are_added_and_active_connections_overwritten(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    write(writer, heartbeat(ids, 1, listeners={ids.listener: ListenerStats(10, 20, 3, 4, 1)}))
    write(
        writer,
        heartbeat(ids, 2, listeners={ids.listener: ListenerStats(1, 2, 1, 1, 0)}),
        heartbeat(ids, 3, listeners={ids.listener: ListenerStats(1, 2, 5, 1, 1)}),
    )

    row = stats(sessions, ids)
    assert row is not None
    assert (row.bytes_out, row.bytes_in, row.total_connections, row.request_errors) == (
        12,
        24,
        6,
        2,
    )
    assert row.active_connections == 5


def test_older_versions_replace_the_statistics(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    write(writer, heartbeat(ids, 1, listeners={ids.listener: ListenerStats(10, 20, 3, 4, 1)}))
    write(
        writer,
        heartbeat(ids, 2, version=2, listeners={ids.listener: ListenerStats(5, 6, 0, 7, 0)}),
    )

    row = stats(sessions, ids)
    assert row is not None
    assert (row.bytes_out, row.bytes_in, row.active_connections, row.total_connections) == (
        5,
        6,
        0,
        7,
    )


def test_statistics_only_for_listeners_of_the_amphoras_loadbalancer(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    listeners = {ids.listener: ListenerStats(rx=1), "deleted-listener": ListenerStats(rx=1)}

    write(writer, heartbeat(ids, listeners=listeners))

    with transaction(sessions, write=False) as session:
        rows = session.scalars(select(ListenerStatistics.listener_id)).all()
    assert rows == [ids.listener]


def test_a_heartbeat_from_an_amphora_not_in_the_database_is_counted_and_ignored(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    write(writer, heartbeat(ids, amphora_id="stranger"))

    assert writer.counters["unknown_amphora"] == 1
    assert health(sessions, "stranger") is None
    assert operating(sessions, ids)["lb"] == "OFFLINE"


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        (Amphora, "status", "DELETED"),
        (LoadBalancer, "provisioning_status", "DELETED"),
        (Amphora, "loadbalancer_id", None),
    ],
)
def test_an_amphora_without_a_live_loadbalancer_is_ignored(
    writer: HeartbeatWriter,
    sessions: SessionFactory,
    ids: Ids,
    table: type[Any],
    column: str,
    value: Any,
) -> None:
    with transaction(sessions) as session:
        row_id = ids.amphora if table is Amphora else ids.lb
        setattr(session.get(table, row_id), column, value)

    write(writer, heartbeat(ids))

    assert writer.counters["no_loadbalancer"] == 1
    assert health(sessions, ids.amphora) is None
    assert stats(sessions, ids) is None


def add_amphora(sessions: SessionFactory, ids: Ids, role: str = "BACKUP") -> str:
    with transaction(sessions) as session:
        other = Amphora(loadbalancer_id=ids.lb, status="ALLOCATED", role=role)
        session.add(other)
        session.flush()
        return other.id


def test_a_failure_confined_to_one_amphora_does_not_stop_the_others(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    other_id = add_amphora(sessions, ids)
    batch = {
        other_id: Received(None, T0, {}, True),  # type: ignore[arg-type]  # judging it raises
        ids.amphora: Received.of(heartbeat(ids), T0),
    }

    writer.write(batch)

    assert writer.counters["failed"] == 1
    assert operating(sessions, ids)["lb"] == "ONLINE"
    assert health(sessions, other_id) is None and health(sessions, ids.amphora) is not None


def test_two_amphorae_of_one_loadbalancer_in_one_flush_are_judged_in_turn(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids, clock: ManualClock
) -> None:
    other_id = add_amphora(sessions, ids)
    write(writer, heartbeat(ids, 1))
    clock.advance(seconds=1)

    # The first says a member is down, the second (judged after it) that all are up again:
    # the statuses end where they were, so no row is written.
    write(
        writer,
        heartbeat(ids, 2, members=("UP", "DOWN")),
        heartbeat(ids, 1, amphora_id=other_id),
        at=clock(),
    )

    assert operating(sessions, ids)["members"] == ["ONLINE", "ONLINE"]
    assert updated_at(sessions, Member, ids.members[1]) == T0
    assert updated_at(sessions, LoadBalancer, ids.lb) == T0
    row = health(sessions, other_id)
    assert row is not None and row.last_update == clock()


def test_udp_listeners_and_pools_are_neither_judged_nor_expected(
    writer: HeartbeatWriter, sessions: SessionFactory, ids: Ids
) -> None:
    with transaction(sessions) as session:
        lb = session.get(LoadBalancer, ids.lb)
        assert lb is not None
        # Stored ONLINE: judged, the pool would turn OFFLINE (unreported), the listener ERROR.
        pool = make_pool(
            session, lb, protocol="UDP", provisioning_status="ACTIVE", operating_status="ONLINE"
        )
        udp = make_listener(
            session, lb, protocol="UDP", protocol_port=53, default_pool_id=pool.id,
            provisioning_status="ACTIVE", operating_status="ONLINE",
        )  # fmt: skip
        udp_ids = (udp.id, pool.id)

    write(writer, heartbeat(ids))  # HAProxy's listener only: still the expected count

    assert health(sessions, ids.amphora) is not None
    with transaction(sessions, write=False) as session:
        assert session.get(Listener, udp_ids[0]).operating_status == "ONLINE"  # type: ignore[union-attr]
        assert session.get(Pool, udp_ids[1]).operating_status == "ONLINE"  # type: ignore[union-attr]
    assert writer.counters["listener_count_mismatch"] == 0
