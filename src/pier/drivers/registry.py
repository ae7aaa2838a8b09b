"""Driver names (`Settings.compute_driver`, `Settings.network_driver`) -> implementations.

A dict, not plugin machinery: the set of drivers is closed and lives in this repository.
"""

from collections.abc import Callable, Mapping

from pier.db.engine import SessionFactory
from pier.drivers.compute.base import Compute
from pier.drivers.compute.fake import FakeCompute
from pier.drivers.compute.local import AgentEndpoint, LocalCompute
from pier.drivers.network.base import Network
from pier.drivers.network.bridge import BridgeNetwork
from pier.drivers.network.fake import FakeNetwork
from pier.drivers.network.loopback import LoopbackNetwork
from pier.drivers.network.records import RecordsNetwork
from pier.settings import Settings

# `local` needs its agent's endpoint, which only `pier up` knows once the agent runs.
COMPUTE_DRIVERS: dict[str, Callable[[AgentEndpoint | None], Compute]] = {
    "fake": lambda _agent: FakeCompute(),
    "local": lambda agent: LocalCompute(_required(agent)),
}

NETWORK_DRIVERS: dict[str, Callable[[SessionFactory], Network]] = {
    "fake": lambda _sessions: FakeNetwork(),
    "records": RecordsNetwork,
    "loopback": LoopbackNetwork,
    "bridge": BridgeNetwork,
}


def build_compute(settings: Settings, agent: AgentEndpoint | None = None) -> Compute:
    try:
        factory = COMPUTE_DRIVERS[settings.compute_driver]
    except KeyError:
        raise ValueError(_unknown("compute", settings.compute_driver, COMPUTE_DRIVERS)) from None
    return factory(agent)


def _required(agent: AgentEndpoint | None) -> AgentEndpoint:
    if agent is None:
        raise ValueError("the local compute driver needs a running agent")
    return agent


def build_network(settings: Settings, sessions: SessionFactory) -> Network:
    try:
        factory = NETWORK_DRIVERS[settings.network_driver]
    except KeyError:
        raise ValueError(_unknown("network", settings.network_driver, NETWORK_DRIVERS)) from None
    return factory(sessions)


def _unknown(kind: str, name: str, known: Mapping[str, object]) -> str:
    return f"unknown {kind} driver {name!r}; choose one of: {', '.join(sorted(known))}"
