"""The network boundary, shaped by what the worker needs (not by Neutron's 29 methods).

The API allocates a load balancer's VIP when it writes the load balancer; the worker makes it
reachable on the amphorae' host (`ensure_vip`) before it pushes configuration, and gives it
back once the load balancer is DELETED. `plug` and `unplug` (member subnets) join with the
bridge driver. Each amphora also gets its own "base"/VRRP port on
the VIP network (octavia-api.md §7), which the worker ensures and releases with the amphora.
"""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class VrrpPort:
    port_id: str
    address: str | None


class Network(Protocol):
    def ensure_vip(self, loadbalancer_id: str, address: str | None) -> None:
        """Make the VIP address usable by the load balancer's amphorae. Idempotent; raises
        PermanentDriverError when this driver cannot carry that address.
        """

    def release_vip(self, loadbalancer_id: str, port_id: str | None) -> None:
        """Free the VIP port and its addresses. Idempotent: a missing port is not an error."""

    def ensure_vrrp_port(self, amphora_id: str, subnet_id: str | None) -> VrrpPort:
        """The amphora's own port on the VIP subnet's network, with an address from it.

        Idempotent: the port is found by amphora id before one is made.
        """

    def release_vrrp_port(self, amphora_id: str) -> None:
        """Delete the amphora's VRRP port. Idempotent: a missing port is not an error."""
