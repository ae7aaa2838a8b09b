from pathlib import Path

import pytest

from pier.db.engine import SessionFactory
from pier.drivers.compute.fake import FakeCompute
from pier.drivers.network.fake import FakeNetwork
from pier.worker.reconcile import Reconciler
from tests.support.factories import ManualClock, make_sessions


@pytest.fixture
def sessions(tmp_path: Path) -> SessionFactory:
    return make_sessions(tmp_path)


@pytest.fixture
def compute() -> FakeCompute:
    return FakeCompute()


@pytest.fixture
def network() -> FakeNetwork:
    return FakeNetwork()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def reconciler(
    sessions: SessionFactory, compute: FakeCompute, network: FakeNetwork, clock: ManualClock
) -> Reconciler:
    return Reconciler(sessions, compute, network, clock, max_attempts=3, owner="worker-a")
