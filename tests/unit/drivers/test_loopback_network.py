from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from pier.api.network.bootstrap import PUBLIC_SUBNET_NAME, ensure_public_network
from pier.db.engine import transaction
from pier.db.tables.network import Subnet
from pier.domain.errors import PermanentDriverError
from pier.drivers.network.loopback import LoopbackNetwork
from pier.settings import Settings
from tests.support.factories import make_sessions


def test_vips_on_loopback_are_accepted_others_refused(tmp_path: Path) -> None:
    network = LoopbackNetwork(make_sessions(tmp_path))
    network.ensure_vip("lb-1", "127.77.0.9")
    with pytest.raises(PermanentDriverError, match=r"not a loopback address.*127\.0\.0\.0/8"):
        network.ensure_vip("lb-1", "198.51.100.7")
    with pytest.raises(PermanentDriverError, match="no VIP address"):
        network.ensure_vip("lb-1", None)


def test_bootstrap_puts_the_public_subnet_in_the_loopback_range(tmp_path: Path) -> None:
    sessions = make_sessions(tmp_path)
    settings = replace(Settings(), network_driver="loopback", loopback_vip_cidr="127.99.0.0/24")
    ensure_public_network(sessions, settings)
    with transaction(sessions, write=False) as session:
        subnet = session.scalars(select(Subnet).where(Subnet.name == PUBLIC_SUBNET_NAME)).one()
    assert (subnet.cidr, subnet.gateway_ip) == ("127.99.0.0/24", "127.99.0.1")
