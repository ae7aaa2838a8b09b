"""The real worker (Reconciler) with in-memory compute, run until the queue is empty."""

from datetime import UTC, datetime

from pier.api.services import Services
from pier.drivers.compute.fake import FakeCompute
from pier.drivers.network.records import RecordsNetwork
from pier.queue.memory import MemoryQueue
from pier.worker.reconcile import OutcomeKind, Reconciler

_computes: dict[int, FakeCompute] = {}


def compute_of(services: Services) -> FakeCompute:
    """One FakeCompute per Services, so amphorae survive between converge() calls."""
    return _computes.setdefault(id(services), FakeCompute())


def run_queued(services: Services, max_passes: int = 10_000) -> None:
    queue = services.queue
    if not isinstance(queue, MemoryQueue):
        raise TypeError("converge() needs the in-process MemoryQueue")
    reconciler = Reconciler(
        services.sessions,
        compute_of(services),
        RecordsNetwork(services.sessions),
        lambda: datetime.now(UTC),
        backoff_base_seconds=0.0,
    )
    for _ in range(max_passes):
        loadbalancer_id = queue.get(timeout=0)
        if loadbalancer_id is None:
            return
        outcome = reconciler.reconcile(loadbalancer_id)
        if outcome.kind == OutcomeKind.RETRY:
            queue.enqueue(loadbalancer_id)
    raise RuntimeError(f"the worker did not converge within {max_passes} passes")
