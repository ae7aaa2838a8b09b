from pathlib import Path

import pytest

from pier.api.network.vip import allocate_vip
from pier.db.engine import SessionFactory, transaction
from pier.db.tables.network import Network, Port, Subnet
from pier.domain.errors import PermanentDriverError
from pier.drivers.network.records import RecordsNetwork
from tests.support.factories import make_sessions


def test_release_deletes_the_vip_port_pier_made_and_tolerates_missing_ones(
    tmp_path: Path,
) -> None:
    sessions = make_sessions(tmp_path)
    with transaction(sessions) as session:
        network = Network(id="net-1", project_id="p1")
        subnet = Subnet(
            id="sub-1", project_id="p1", network_id="net-1", cidr="10.0.0.0/24", ip_version=4,
            allocation_pools=[{"start": "10.0.0.2", "end": "10.0.0.254"}],
        )  # fmt: skip
        session.add_all([network, subnet])
        session.flush()
        vip = allocate_vip(
            session, project_id="p1", subnet_id="sub-1", network_id=None, port_id=None,
            address=None, loadbalancer_id="lb-1", accept_any_subnet=False,
        )  # fmt: skip

    records = RecordsNetwork(sessions)
    records.release_vip("lb-1", vip.port_id)
    records.release_vip("lb-1", vip.port_id)
    records.release_vip("lb-1", None)

    with transaction(sessions, write=False) as session:
        assert session.get(Port, vip.port_id) is None


def add_subnet(sessions: SessionFactory, last: str = "10.0.0.254") -> None:
    with transaction(sessions) as session:
        session.add(Network(id="net-1", project_id="p1"))
        session.add(
            Subnet(
                id="sub-1", project_id="p1", network_id="net-1", cidr="10.0.0.0/24",
                ip_version=4, allocation_pools=[{"start": "10.0.0.2", "end": last}],
            )
        )  # fmt: skip


def test_a_vrrp_port_is_made_once_on_the_vip_subnet_and_released(tmp_path: Path) -> None:
    sessions = make_sessions(tmp_path)
    add_subnet(sessions)
    records = RecordsNetwork(sessions)

    port = records.ensure_vrrp_port("amp-1", "sub-1")
    assert records.ensure_vrrp_port("amp-1", "sub-1") == port
    with transaction(sessions, write=False) as session:
        row = session.get(Port, port.port_id)
        assert row is not None
        assert (row.network_id, row.device_id) == ("net-1", "amp-1")
        assert [ip.ip_address for ip in row.ips] == [port.address]

    records.release_vrrp_port("amp-1")
    records.release_vrrp_port("amp-1")
    with transaction(sessions, write=False) as session:
        assert session.get(Port, port.port_id) is None


def test_an_unknown_subnet_gets_a_stable_noop_port(tmp_path: Path) -> None:
    records = RecordsNetwork(make_sessions(tmp_path))
    port = records.ensure_vrrp_port("amp-1", "not-in-pier")
    assert port == records.ensure_vrrp_port("amp-1", "not-in-pier")
    assert port.address == "198.51.100.1"


def test_a_full_vip_subnet_is_a_permanent_error(tmp_path: Path) -> None:
    sessions = make_sessions(tmp_path)
    add_subnet(sessions, last="10.0.0.2")
    records = RecordsNetwork(sessions)
    records.ensure_vrrp_port("amp-1", "sub-1")
    with pytest.raises(PermanentDriverError, match="amp-2"):
        records.ensure_vrrp_port("amp-2", "sub-1")
