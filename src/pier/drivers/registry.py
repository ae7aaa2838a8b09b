"""Driver names (`Settings.compute_driver`, `Settings.network_driver`) -> implementations.

A dict, not plugin machinery: the set of drivers is closed and lives in this repository.
"""

from collections.abc import Callable, Mapping

from pier.db.engine import SessionFactory
from pier.drivers.compute.base import Compute
from pier.drivers.compute.fake import FakeCompute
from pier.drivers.network.base import Network
from pier.drivers.network.fake import FakeNetwork
from pier.drivers.network.records import RecordsNetwork
from pier.settings import Settings

COMPUTE_DRIVERS: dict[str, Callable[[], Compute]] = {
    "fake": FakeCompute,
}

NETWORK_DRIVERS: dict[str, Callable[[SessionFactory], Network]] = {
    "fake": lambda _sessions: FakeNetwork(),
    "records": RecordsNetwork,
}


def build_compute(settings: Settings) -> Compute:
    try:
        factory = COMPUTE_DRIVERS[settings.compute_driver]
    except KeyError:
        raise ValueError(_unknown("compute", settings.compute_driver, COMPUTE_DRIVERS)) from None
    return factory()


def build_network(settings: Settings, sessions: SessionFactory) -> Network:
    try:
        factory = NETWORK_DRIVERS[settings.network_driver]
    except KeyError:
        raise ValueError(_unknown("network", settings.network_driver, NETWORK_DRIVERS)) from None
    return factory(sessions)


def _unknown(kind: str, name: str, known: Mapping[str, object]) -> str:
    return f"unknown {kind} driver {name!r}; choose one of: {', '.join(sorted(known))}"
