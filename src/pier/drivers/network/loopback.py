"""The `loopback` network driver: VIPs live in 127.0.0.0/8, which Linux routes to `lo` whole.

An amphora on this host binds its VIP without root and without plugging anything: `pier up`
bootstraps `public-subnet` inside `Settings.loopback_vip_cidr`, and the API allocates VIPs
from it like any subnet. Members are reached at their own (loopback) addresses. Ports and
their bookkeeping are the rows of Pier's Neutron subset, as with the `records` driver.
"""

import ipaddress

from pier.domain.errors import PermanentDriverError
from pier.drivers.network.records import RecordsNetwork

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


class LoopbackNetwork(RecordsNetwork):
    def ensure_vip(self, loadbalancer_id: str, address: str | None) -> None:
        """Nothing to plug; refuse a VIP that no amphora on this host could bind."""
        if address is None:
            raise PermanentDriverError(f"Load balancer {loadbalancer_id} has no VIP address.")
        if ipaddress.ip_address(address) not in LOOPBACK:
            raise PermanentDriverError(
                f"VIP {address} is not a loopback address: the loopback network driver "
                f"serves VIPs in {LOOPBACK} only (use the public-subnet)."
            )
