"""The network driver for `pier up`: VIPs and VRRP ports are rows of Pier's own Neutron subset.

The API allocated the VIP port in the network tables (`pier.api.network.vip`); releasing it
is a database write through that module's `release_vip`, in a transaction of its own. The
amphorae's VRRP ports are made and deleted the same way (`pier.api.network.vrrp`).
"""

from pier.db.engine import SessionFactory, transaction
from pier.domain.errors import PermanentDriverError, PierError
from pier.drivers.network.base import VrrpPort


class RecordsNetwork:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def ensure_vip(self, loadbalancer_id: str, address: str | None) -> None:
        """Records only: the amphorae of the fake compute driver carry no traffic."""

    def release_vip(self, loadbalancer_id: str, port_id: str | None) -> None:
        """Delete the VIP port Pier created for the load balancer (a missing port is fine).

        `pier.api.network.vip` is imported here, not at module level: it was written alongside
        this driver, and importing the worker's drivers should not pull in the API package
        (Starlette, the Neutron subset) until a VIP is actually released.
        """
        from pier.api.network.vip import release_vip

        with transaction(self._sessions) as session:
            release_vip(session, port_id, created_by_pier=True)

    def ensure_vrrp_port(self, amphora_id: str, subnet_id: str | None) -> VrrpPort:
        """Raises PermanentDriverError when the VIP subnet has no address left for it."""
        from pier.api.network.vrrp import ensure_vrrp_port

        try:
            with transaction(self._sessions) as session:
                port_id, address = ensure_vrrp_port(session, amphora_id, subnet_id)
        except PierError as exc:
            raise PermanentDriverError(f"no VRRP port for amphora {amphora_id}: {exc}") from exc
        return VrrpPort(port_id, address)

    def release_vrrp_port(self, amphora_id: str) -> None:
        from pier.api.network.vrrp import release_vrrp_port

        with transaction(self._sessions) as session:
            release_vrrp_port(session, amphora_id)
