"""Which amphorae the health manager fails over, and when the circuit breaker holds, over a
real database with a manual clock (octavia-api.md §9.5).
"""

import random
from datetime import UTC, datetime, timedelta

import pytest

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import Amphora, AmphoraHealth, LoadBalancer
from pier.health.failover import FailoverPolicy, FailoverScanner
from tests.support.factories import ManualClock, make_loadbalancer

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TIMEOUT = timedelta(seconds=60)
POLICY = FailoverPolicy(
    heartbeat_timeout=TIMEOUT, check_interval=3, breaker_share=0.5, breaker_min=3
)


class ListQueue:
    def __init__(self) -> None:
        self.ids: list[str] = []

    def enqueue(self, loadbalancer_id: str) -> None:
        self.ids.append(loadbalancer_id)

    def get(self, timeout: float) -> str | None:
        return self.ids.pop(0) if self.ids else None


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def queue() -> ListQueue:
    return ListQueue()


def scanner(
    sessions: SessionFactory, queue: ListQueue, clock: ManualClock, policy: FailoverPolicy = POLICY
) -> FailoverScanner:
    return FailoverScanner(sessions, queue, clock, policy, rng=random.Random(7))


def add_amphora(
    sessions: SessionFactory,
    last_update: datetime | None,
    *,
    status: str = "ALLOCATED",
    lb_status: str = "ACTIVE",
) -> tuple[str, str]:
    """An ACTIVE load balancer with one amphora; its health row when `last_update` is given."""
    with transaction(sessions) as session:
        lb = make_loadbalancer(session, provisioning_status=lb_status)
        amphora = Amphora(loadbalancer_id=lb.id, status=status, role="STANDALONE")
        session.add(amphora)
        session.flush()
        if last_update is not None:
            session.add(AmphoraHealth(amphora_id=amphora.id, last_update=last_update, busy=False))
        return lb.id, amphora.id


def statuses(sessions: SessionFactory, *amphora_ids: str) -> list[str]:
    with transaction(sessions, write=False) as session:
        return [session.get(Amphora, a).status for a in amphora_ids]  # type: ignore[union-attr]


def lb_status(sessions: SessionFactory, lb_id: str) -> str:
    with transaction(sessions, write=False) as session:
        return session.get(LoadBalancer, lb_id).provisioning_status  # type: ignore[union-attr]


def test_a_silent_amphora_is_failed_over(
    sessions: SessionFactory, queue: ListQueue, clock: ManualClock
) -> None:
    lb, silent = add_amphora(sessions, T0 - TIMEOUT - timedelta(seconds=1))
    _, fresh = add_amphora(sessions, T0)
    for _ in range(4):  # enough amphorae heard from that one silent is no trend
        add_amphora(sessions, T0)

    scanner(sessions, queue, clock).scan()

    assert queue.ids == [lb]
    assert statuses(sessions, silent, fresh) == ["PENDING_DELETE", "ALLOCATED"]
    assert lb_status(sessions, lb) == "PENDING_UPDATE"
    with transaction(sessions, write=False) as session:
        assert session.get(AmphoraHealth, silent).busy  # type: ignore[union-attr]


def test_amphorae_that_never_reported_are_not_failed_over(
    sessions: SessionFactory, queue: ListQueue, clock: ManualClock
) -> None:
    _, amphora = add_amphora(sessions, None)

    scanner(sessions, queue, clock).scan()

    assert queue.ids == []
    assert statuses(sessions, amphora) == ["ALLOCATED"]


def test_a_busy_load_balancer_waits_for_the_next_look(
    sessions: SessionFactory, queue: ListQueue, clock: ManualClock
) -> None:
    lb, amphora = add_amphora(
        sessions, T0 - TIMEOUT - timedelta(seconds=1), lb_status="PENDING_UPDATE"
    )
    failover = scanner(sessions, queue, clock)

    failover.scan()

    assert queue.ids == []
    assert statuses(sessions, amphora) == ["ALLOCATED"]
    assert failover.counters["failovers_deferred"] == 1
    with transaction(sessions) as session:
        session.get(LoadBalancer, lb).provisioning_status = "ACTIVE"  # type: ignore[union-attr]
    failover.scan()
    assert queue.ids == [lb]


def test_the_breaker_holds_when_most_amphorae_go_silent_at_once(
    sessions: SessionFactory, queue: ListQueue, clock: ManualClock
) -> None:
    old = T0 - TIMEOUT - timedelta(seconds=1)
    silent = [add_amphora(sessions, old)[1] for _ in range(3)]
    _, fresh = add_amphora(sessions, T0)
    failover = scanner(sessions, queue, clock)

    failover.scan()
    failover.scan()  # holding: nothing more, and the trip is counted once

    assert queue.ids == []
    assert statuses(sessions, *silent) == ["FAILOVER_STOPPED"] * 3
    assert statuses(sessions, fresh) == ["ALLOCATED"]
    assert failover.breaker_open
    assert failover.counters["breaker_trips"] == 1
    assert failover.counters["stopped_by_breaker"] == 3

    # Heartbeats resume: the amphorae are released, the breaker closes, nothing failed over.
    with transaction(sessions) as session:
        for amphora_id in silent:
            session.get(AmphoraHealth, amphora_id).last_update = T0  # type: ignore[union-attr]
    failover.scan()
    assert statuses(sessions, *silent) == ["ALLOCATED"] * 3
    assert not failover.breaker_open
    assert queue.ids == []


def test_held_amphorae_still_silent_once_the_breaker_closes_are_failed_over(
    sessions: SessionFactory, queue: ListQueue, clock: ManualClock
) -> None:
    old = T0 - TIMEOUT - timedelta(seconds=1)
    held = [add_amphora(sessions, old) for _ in range(3)]
    failover = scanner(sessions, queue, clock)
    failover.scan()
    assert statuses(sessions, *(a for _, a in held)) == ["FAILOVER_STOPPED"] * 3

    # Two come back; one stays silent, which alone is no controller problem.
    with transaction(sessions) as session:
        for _, amphora_id in held[:2]:
            session.get(AmphoraHealth, amphora_id).last_update = T0  # type: ignore[union-attr]
    failover.scan()

    assert queue.ids == [held[2][0]]
    assert statuses(sessions, held[2][1]) == ["PENDING_DELETE"]


def test_few_silent_amphorae_do_not_trip_the_breaker(
    sessions: SessionFactory, queue: ListQueue, clock: ManualClock
) -> None:
    old = T0 - TIMEOUT - timedelta(seconds=1)
    silent = [add_amphora(sessions, old) for _ in range(2)]  # below breaker_min, though 100 %

    scanner(sessions, queue, clock).scan()

    assert sorted(queue.ids) == sorted(lb for lb, _ in silent)


def test_a_breaker_share_of_zero_turns_it_off(
    sessions: SessionFactory, queue: ListQueue, clock: ManualClock
) -> None:
    old = T0 - TIMEOUT - timedelta(seconds=1)
    silent = [add_amphora(sessions, old) for _ in range(5)]
    policy = FailoverPolicy(
        heartbeat_timeout=TIMEOUT, check_interval=3, breaker_share=0, breaker_min=3
    )

    scanner(sessions, queue, clock, policy).scan()

    assert sorted(queue.ids) == sorted(lb for lb, _ in silent)


@pytest.mark.parametrize(
    ("silent", "watched", "trips"),
    [(2, 2, False), (3, 3, True), (3, 6, False), (4, 6, True), (500, 1000, False)],
)
def test_breaker_arithmetic(silent: int, watched: int, trips: bool) -> None:
    assert POLICY.breaker_trips(silent, watched) is trips


def test_no_look_for_silence_until_amphorae_had_a_timeout_to_report(
    sessions: SessionFactory, queue: ListQueue, clock: ManualClock
) -> None:
    """After a restart every health row looks old; the first look waits one timeout."""
    lb, _ = add_amphora(sessions, T0 - timedelta(hours=1))
    monotonic = Monotonic()
    failover = FailoverScanner(sessions, queue, clock, POLICY, monotonic=monotonic)

    failover.step()
    assert queue.ids == []
    monotonic.now += TIMEOUT.total_seconds()
    failover.step()
    assert queue.ids == [lb]


def test_a_dead_haproxy_is_failed_over_at_once(
    sessions: SessionFactory, queue: ListQueue, clock: ManualClock
) -> None:
    lb, amphora = add_amphora(sessions, T0)
    failover = scanner(sessions, queue, clock)

    failover.report_down(amphora, ["haproxy"])
    failover.step()
    failover.report_down(amphora, ["haproxy"])  # the next heartbeat says it again
    failover.step()

    assert queue.ids == [lb]
    assert statuses(sessions, amphora) == ["PENDING_DELETE"]
    assert failover.counters["failovers"] == 1


def test_a_dead_haproxy_of_an_amphora_being_built_is_left_to_the_worker(
    sessions: SessionFactory, queue: ListQueue, clock: ManualClock
) -> None:
    _, amphora = add_amphora(sessions, T0, status="BOOTING", lb_status="PENDING_CREATE")
    failover = scanner(sessions, queue, clock)

    failover.report_down(amphora, ["haproxy"])
    failover.step()

    assert queue.ids == []
    assert statuses(sessions, amphora) == ["BOOTING"]
