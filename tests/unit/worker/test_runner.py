import threading
import time
from typing import Any

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import LoadBalancer
from pier.domain.errors import TransientDriverError
from pier.drivers.compute.fake import FakeCompute
from pier.queue.memory import MemoryQueue
from pier.settings import Settings
from pier.worker.reconcile import OutcomeKind, Reconciler
from pier.worker.runner import Worker
from tests.support.factories import make_loadbalancer


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pending_lb(sessions: SessionFactory) -> str:
    with transaction(sessions) as session:
        return make_loadbalancer(session).id


def status(sessions: SessionFactory, lb_id: str) -> str:
    with transaction(sessions, write=False) as session:
        row = session.get(LoadBalancer, lb_id)
        assert row is not None
        return row.provisioning_status


def make_worker(reconciler: Reconciler, queue: MemoryQueue, **options: Any) -> Worker:
    settings = Settings(resync_interval_seconds=options.pop("resync_interval_seconds", 30))
    return Worker(
        sessions=reconciler.sessions,
        queue=queue,
        compute=reconciler.compute,
        network=reconciler.network,
        settings=settings,
        clock=reconciler.clock,
        reconciler=reconciler,
        **options,
    )


def test_the_worker_builds_its_reconciler_from_settings(
    sessions: SessionFactory, reconciler: Reconciler
) -> None:
    worker = Worker(
        sessions=sessions,
        queue=MemoryQueue(),
        compute=reconciler.compute,
        network=reconciler.network,
        settings=Settings(reconcile_max_attempts=7),
        clock=reconciler.clock,
    )
    assert worker.reconciler.max_attempts == 7


def test_resync_enqueues_pending_trees(sessions: SessionFactory, reconciler: Reconciler) -> None:
    queue = MemoryQueue()
    lb_id = pending_lb(sessions)
    worker = make_worker(reconciler, queue)

    assert worker.resync() == 1
    assert queue.get(timeout=0) == lb_id


def test_resync_enqueues_pending_trees_while_the_agent_does_not_answer(
    sessions: SessionFactory, reconciler: Reconciler, compute: FakeCompute
) -> None:
    """At start the agent of another host may not answer yet: the stray-instance sweep fails,
    and the pending trees are enqueued all the same (not 30 s later).
    """
    queue = MemoryQueue()
    lb_id = pending_lb(sessions)
    compute.fail("inventory", TransientDriverError("agent unreachable"))
    worker = make_worker(reconciler, queue)

    assert worker.resync() == 1
    assert queue.get(timeout=0) == lb_id
    assert compute.calls["inventory"] == 1


def test_a_transient_failure_is_requeued_after_its_backoff(
    sessions: SessionFactory, reconciler: Reconciler, compute: FakeCompute
) -> None:
    queue, ticks = MemoryQueue(), Ticks()
    lb_id = pending_lb(sessions)
    compute.fail("create_amphora", TransientDriverError("busy"))
    worker = make_worker(reconciler, queue, monotonic=ticks)

    outcome = worker.handle(lb_id)

    assert outcome is not None and outcome.kind is OutcomeKind.RETRY
    assert worker.pending_retries() == [lb_id]
    assert worker.requeue_due() == 0
    ticks.now += outcome.retry_after or 0
    assert worker.requeue_due() == 1
    assert queue.get(timeout=0) == lb_id
    assert worker.handle(lb_id).kind is OutcomeKind.CONVERGED  # type: ignore[union-attr]


class Exploding(Reconciler):
    def reconcile(self, loadbalancer_id: str):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")


def test_a_crashing_pass_does_not_stop_the_loop(
    sessions: SessionFactory, reconciler: Reconciler
) -> None:
    exploding = Exploding(sessions, reconciler.compute, reconciler.network, reconciler.clock)
    worker = make_worker(exploding, MemoryQueue())

    assert worker.handle("lb-1") is None
    assert worker.pending_retries() == ["lb-1"]


def test_the_thread_converges_what_it_finds_and_stops_cleanly(
    sessions: SessionFactory, reconciler: Reconciler
) -> None:
    lb_id = pending_lb(sessions)
    queue = MemoryQueue()
    worker = make_worker(reconciler, queue, resync_interval_seconds=0.05, poll_seconds=0.01)

    thread = worker.start_in_thread()
    try:
        deadline = time.monotonic() + 20
        while status(sessions, lb_id) != "ACTIVE" and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()

    assert status(sessions, lb_id) == "ACTIVE"
    assert not thread.is_alive()


def test_run_returns_when_stop_is_already_set(reconciler: Reconciler) -> None:
    stop = threading.Event()
    stop.set()
    make_worker(reconciler, MemoryQueue()).run(stop)
