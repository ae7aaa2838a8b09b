"""An in-memory network driver for unit tests: records ports and releases, fails when told to."""

import uuid
from collections import Counter, deque

from pier.domain.errors import DriverError
from pier.drivers.network.base import VrrpPort


class FakeNetwork:
    def __init__(self) -> None:
        # (loadbalancer_id, port_id) of every release, repeats included.
        self.released: list[tuple[str, str | None]] = []
        # amphora id -> its VRRP port, while it exists.
        self.vrrp_ports: dict[str, VrrpPort] = {}
        self.calls: Counter[str] = Counter()
        self._failures: dict[str, deque[DriverError]] = {}

    def fail(self, method: str, error: DriverError, times: int = 1) -> None:
        """Make the next `times` calls of `method` raise `error`."""
        self._failures.setdefault(method, deque()).extend([error] * times)

    def _enter(self, method: str) -> None:
        self.calls[method] += 1
        pending = self._failures.get(method)
        if pending:
            raise pending.popleft()

    def ensure_vip(self, loadbalancer_id: str, address: str | None) -> None:
        self._enter("ensure_vip")

    def release_vip(self, loadbalancer_id: str, port_id: str | None) -> None:
        self._enter("release_vip")
        self.released.append((loadbalancer_id, port_id))

    def ensure_vrrp_port(self, amphora_id: str, subnet_id: str | None) -> VrrpPort:
        self._enter("ensure_vrrp_port")
        if amphora_id not in self.vrrp_ports:
            address = f"192.0.2.{len(self.vrrp_ports) % 250 + 2}"
            self.vrrp_ports[amphora_id] = VrrpPort(str(uuid.uuid4()), address)
        return self.vrrp_ports[amphora_id]

    def release_vrrp_port(self, amphora_id: str) -> None:
        self._enter("release_vrrp_port")
        self.vrrp_ports.pop(amphora_id, None)
