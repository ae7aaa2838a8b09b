"""An in-memory network driver for unit tests: records releases, fails when told to."""

from collections import Counter, deque

from pier.domain.errors import DriverError


class FakeNetwork:
    def __init__(self) -> None:
        # (loadbalancer_id, port_id) of every release, repeats included.
        self.released: list[tuple[str, str | None]] = []
        self.calls: Counter[str] = Counter()
        self._failures: dict[str, deque[DriverError]] = {}

    def fail(self, method: str, error: DriverError, times: int = 1) -> None:
        """Make the next `times` calls of `method` raise `error`."""
        self._failures.setdefault(method, deque()).extend([error] * times)

    def release_vip(self, loadbalancer_id: str, port_id: str | None) -> None:
        self.calls["release_vip"] += 1
        pending = self._failures.get("release_vip")
        if pending:
            raise pending.popleft()
        self.released.append((loadbalancer_id, port_id))
