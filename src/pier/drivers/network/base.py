"""The network boundary, shaped by what the worker needs (not by Neutron's 29 methods).

The API allocates a load balancer's VIP when it writes the load balancer; the worker only gives
it back once the load balancer is DELETED. `ensure_vip`, `plug` and `unplug` join when the real
network drivers (loopback, bridge) arrive.
"""

from typing import Protocol


class Network(Protocol):
    def release_vip(self, loadbalancer_id: str, port_id: str | None) -> None:
        """Free the VIP port and its addresses. Idempotent: a missing port is not an error."""
