"""Reconcile when things go wrong: driver failures, crashes, leases, concurrent API writes."""

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import (
    Amphora,
    L7Rule,
    Listener,
    LoadBalancer,
    Member,
    Pool,
)
from pier.db.tables.worker import take_lease
from pier.domain.enums import AmphoraRole
from pier.domain.errors import PermanentDriverError, TransientDriverError
from pier.drivers.compute.base import AmphoraRequest, ComputeState
from pier.drivers.compute.fake import FakeCompute
from pier.drivers.network.fake import FakeNetwork
from pier.worker.reconcile import OutcomeKind, Reconciler
from tests.support.factories import (
    ManualClock,
    make_listener,
    make_member,
)
from tests.unit.worker.trees import amphorae_of, edit, get, row, statuses, write_tree


def test_transient_failure_keeps_pending_and_retries_with_backoff(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute
) -> None:
    ids = write_tree(sessions)
    compute.fail("push_config", TransientDriverError("agent timed out"), times=2)

    first, second = reconciler.reconcile(ids.lb), reconciler.reconcile(ids.lb)

    assert (first.kind, first.retry_after, first.reason) == (
        OutcomeKind.RETRY, 1.0, "agent timed out",
    )  # fmt: skip
    assert (second.kind, second.retry_after) == (OutcomeKind.RETRY, 2.0)
    assert get(sessions, LoadBalancer, ids.lb).provisioning_status == "PENDING_CREATE"
    assert reconciler.reconcile(ids.lb).kind is OutcomeKind.CONVERGED
    assert len(compute.instances) == 1
    assert [a.status for a in amphorae_of(sessions, ids.lb)] == ["ALLOCATED"]


def test_unexpected_driver_errors_are_retried_too(
    reconciler: Reconciler, sessions: SessionFactory, network: FakeNetwork
) -> None:
    ids = write_tree(sessions, provisioning_status="PENDING_DELETE")
    network.fail("release_vip", TimeoutError())  # type: ignore[arg-type]

    outcome = reconciler.reconcile(ids.lb)

    assert (outcome.kind, outcome.reason) == (OutcomeKind.RETRY, "TimeoutError")
    assert reconciler.reconcile(ids.lb).kind is OutcomeKind.CONVERGED


def test_too_many_attempts_record_error(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute
) -> None:
    ids = write_tree(sessions)
    compute.fail("create_amphora", TransientDriverError("no capacity right now"), times=3)

    outcomes = [reconciler.reconcile(ids.lb).kind for _ in range(3)]

    assert outcomes == [OutcomeKind.RETRY, OutcomeKind.RETRY, OutcomeKind.FAILED]
    lb = get(sessions, LoadBalancer, ids.lb)
    assert lb.provisioning_status == "ERROR"
    assert lb.status_reason == "no capacity right now (gave up after 3 attempts)"


def test_permanent_failure_on_create_records_error_with_the_reason(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute
) -> None:
    ids = write_tree(sessions)
    compute.fail("create_amphora", PermanentDriverError("image amphora-x not found"))

    outcome = reconciler.reconcile(ids.lb)

    assert (outcome.kind, outcome.retry_after) == (OutcomeKind.FAILED, None)
    assert {status for status, _ in statuses(sessions, ids).values()} == {"ERROR"}
    assert get(sessions, LoadBalancer, ids.lb).status_reason == "image amphora-x not found"


def test_permanent_failure_on_update_leaves_a_serving_lb_active(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute
) -> None:
    ids = write_tree(sessions)
    reconciler.reconcile(ids.lb)
    edit(sessions, Listener, ids.listener, provisioning_status="PENDING_UPDATE", protocol_port=8081)
    edit(sessions, LoadBalancer, ids.lb, provisioning_status="PENDING_UPDATE")
    compute.fail("push_config", PermanentDriverError("haproxy -c rejected the config"))

    reconciler.reconcile(ids.lb)

    assert statuses(sessions, ids)["listener"][0] == "ERROR"
    lb = get(sessions, LoadBalancer, ids.lb)
    assert (lb.provisioning_status, lb.status_reason) == (
        "ACTIVE", "haproxy -c rejected the config",
    )  # fmt: skip
    edit(sessions, Listener, ids.listener, provisioning_status="PENDING_UPDATE")
    edit(sessions, LoadBalancer, ids.lb, provisioning_status="PENDING_UPDATE")
    reconciler.reconcile(ids.lb)
    assert get(sessions, LoadBalancer, ids.lb).status_reason is None


def test_an_inconsistent_tree_is_recorded_as_error(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute
) -> None:
    ids = write_tree(sessions)
    with transaction(sessions) as session:
        make_listener(session, row(session, LoadBalancer, ids.lb), protocol="TCP")

    outcome = reconciler.reconcile(ids.lb)

    assert outcome.kind is OutcomeKind.FAILED
    assert "both use TCP port 80" in (outcome.reason or "")
    assert compute.instances == {}


def test_resync_finds_a_tree_left_pending_by_a_crash_and_converges_it(
    reconciler: Reconciler, sessions: SessionFactory
) -> None:
    crashed_create = write_tree(sessions)
    quiet = write_tree(sessions)
    reconciler.reconcile(quiet.lb)
    edit(sessions, L7Rule, quiet.l7rule, provisioning_status="PENDING_UPDATE")

    pending = reconciler.find_pending()

    assert sorted(pending) == sorted([crashed_create.lb, quiet.lb])
    for lb_id in pending:
        assert reconciler.reconcile(lb_id).kind is OutcomeKind.CONVERGED
    assert reconciler.find_pending() == []
    assert statuses(sessions, quiet)["l7rule"] == ("ACTIVE", "ONLINE")


def test_a_crash_inside_amphora_create_is_resumed_without_a_second_instance(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute
) -> None:
    ids = write_tree(sessions)
    with transaction(sessions) as session:
        session.add(Amphora(id="amp-1", loadbalancer_id=ids.lb, role="STANDALONE"))
    compute.create_amphora(AmphoraRequest("amp-1", ids.lb, AmphoraRole.STANDALONE))

    reconciler.reconcile(ids.lb)

    [amphora] = amphorae_of(sessions, ids.lb)
    assert (amphora.id, amphora.status) == ("amp-1", "ALLOCATED")
    assert len(compute.instances) == 1
    assert compute.get_status(amphora.compute_id or "") is ComputeState.RUNNING


def test_the_lease_keeps_a_second_reconciler_off_the_same_tree(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute, clock: ManualClock
) -> None:
    ids = write_tree(sessions)
    with transaction(sessions) as session:
        assert take_lease(session, ids.lb, "worker-b", clock(), timedelta(minutes=2))

    busy = reconciler.reconcile(ids.lb)

    assert busy.kind is OutcomeKind.BUSY and busy.retry_after is not None
    assert compute.calls == {}
    assert get(sessions, LoadBalancer, ids.lb).provisioning_status == "PENDING_CREATE"
    clock.advance(minutes=3)  # worker-b died; its lease expires
    assert reconciler.reconcile(ids.lb).kind is OutcomeKind.CONVERGED


class WritesDuringPush(FakeCompute):
    """A compute whose next config push happens while the API writes to the tree."""

    def __init__(self) -> None:
        super().__init__()
        self.during_next_push: Callable[[], None] | None = None

    def push_config(self, compute_id: str, config_text: str) -> str:
        write, self.during_next_push = self.during_next_push, None
        if write is not None:
            write()
        return super().push_config(compute_id, config_text)


def test_an_api_write_during_the_pass_means_another_pass(
    sessions: SessionFactory, network: FakeNetwork, clock: ManualClock
) -> None:
    compute = WritesDuringPush()
    reconciler = Reconciler(sessions, compute, network, clock)
    ids = write_tree(sessions)
    reconciler.reconcile(ids.lb)

    def api_adds_a_member() -> None:
        with transaction(sessions) as session:
            make_member(session, row(session, Pool, ids.pool))

    compute.during_next_push = api_adds_a_member
    edit(sessions, Listener, ids.listener, provisioning_status="PENDING_UPDATE", protocol_port=8081)
    edit(sessions, LoadBalancer, ids.lb, provisioning_status="PENDING_UPDATE")

    stale = reconciler.reconcile(ids.lb)

    assert (stale.kind, stale.retry_after) == (OutcomeKind.RETRY, 0.0)
    assert get(sessions, Listener, ids.listener).provisioning_status == "PENDING_UPDATE"
    assert reconciler.reconcile(ids.lb).kind is OutcomeKind.CONVERGED
    with transaction(sessions, write=False) as session:
        members = session.scalars(select(Member)).all()
    assert {m.provisioning_status for m in members} == {"ACTIVE"}
    assert len(compute.pushes) == 3


def test_an_unreadable_row_is_recorded_as_error(
    reconciler: Reconciler, sessions: SessionFactory
) -> None:
    ids = write_tree(sessions)
    edit(sessions, Pool, ids.pool, lb_algorithm="FASTEST")

    outcome = reconciler.reconcile(ids.lb)

    assert outcome.kind is OutcomeKind.FAILED
    assert get(sessions, LoadBalancer, ids.lb).status_reason == (
        "Unreadable configuration: 'FASTEST' is not a valid LbAlgorithm"
    )


def test_an_unknown_load_balancer_is_missing(reconciler: Reconciler) -> None:
    assert reconciler.reconcile("nope").kind is OutcomeKind.MISSING
