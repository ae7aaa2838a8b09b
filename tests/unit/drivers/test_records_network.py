from pathlib import Path

from pier.api.network.vip import allocate_vip
from pier.db.engine import transaction
from pier.db.tables.network import Network, Port, Subnet
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
