import pytest

from pier.domain.errors import TransientDriverError
from pier.drivers.network.base import Network
from pier.drivers.network.fake import FakeNetwork


def test_releases_are_recorded_and_failures_injected() -> None:
    fake = FakeNetwork()
    network: Network = fake
    fake.fail("release_vip", TransientDriverError("busy"))

    with pytest.raises(TransientDriverError):
        network.release_vip("lb-1", "port-1")
    network.release_vip("lb-1", "port-1")
    network.release_vip("lb-2", None)

    assert fake.released == [("lb-1", "port-1"), ("lb-2", None)]
    assert fake.calls["release_vip"] == 3


def test_vrrp_ports_are_kept_per_amphora_until_released() -> None:
    fake = FakeNetwork()
    port = fake.ensure_vrrp_port("amp-1", "sub-1")
    assert fake.ensure_vrrp_port("amp-1", "sub-1") == port
    fake.release_vrrp_port("amp-1")
    fake.release_vrrp_port("amp-1")
    assert fake.vrrp_ports == {}
