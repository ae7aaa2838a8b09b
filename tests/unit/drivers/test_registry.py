from pathlib import Path

import pytest

from pier.drivers.compute.fake import FakeCompute
from pier.drivers.network.fake import FakeNetwork
from pier.drivers.network.loopback import LoopbackNetwork
from pier.drivers.network.records import RecordsNetwork
from pier.drivers.registry import build_compute, build_network
from pier.settings import Settings
from tests.support.factories import make_sessions


def test_drivers_are_built_by_name(tmp_path: Path) -> None:
    sessions = make_sessions(tmp_path)
    assert isinstance(build_compute(Settings(compute_driver="fake")), FakeCompute)
    assert isinstance(build_network(Settings(network_driver="fake"), sessions), FakeNetwork)
    assert isinstance(build_network(Settings(network_driver="records"), sessions), RecordsNetwork)
    loopback = build_network(Settings(network_driver="loopback"), sessions)
    assert isinstance(loopback, LoopbackNetwork)


def test_the_local_driver_needs_its_agent() -> None:
    with pytest.raises(ValueError, match="needs a running agent"):
        build_compute(Settings(compute_driver="local"))


def test_each_build_gives_a_fresh_fake() -> None:
    assert build_compute(Settings()) is not build_compute(Settings())


def test_unknown_names_are_rejected_with_the_choices(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match="unknown compute driver 'nova'; choose one of: fake, local"
    ):
        build_compute(Settings(compute_driver="nova"))
    with pytest.raises(ValueError, match="choose one of: bridge, fake, loopback, records"):
        build_network(Settings(network_driver="neutron"), make_sessions(tmp_path))
