"""The network driver for `pier up`: VIPs are rows of Pier's own Neutron subset.

The API allocated the VIP port in the network tables (`pier.api.network.vip`); releasing it
is a database write through that module's `release_vip`, in a transaction of its own.
"""

from pier.db.engine import SessionFactory, transaction


class RecordsNetwork:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def release_vip(self, loadbalancer_id: str, port_id: str | None) -> None:
        """Delete the VIP port Pier created for the load balancer (a missing port is fine).

        `pier.api.network.vip` is imported here, not at module level: it was written alongside
        this driver, and importing the worker's drivers should not pull in the API package
        (Starlette, the Neutron subset) until a VIP is actually released.
        """
        from pier.api.network.vip import release_vip

        with transaction(self._sessions) as session:
            release_vip(session, port_id, created_by_pier=True)
