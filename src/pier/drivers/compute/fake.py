"""An in-memory compute driver for unit tests: inspectable, and told when to fail.

    compute = FakeCompute()
    compute.fail("push_config", TransientDriverError("agent timeout"), times=2)
    ...
    assert compute.calls["push_config"] == 3
    assert [i.role for i in compute.instances.values()] == [AmphoraRole.STANDALONE]

All state lives on the instance; two fakes share nothing.
"""

import uuid
from collections import Counter, deque
from dataclasses import dataclass

from pier.domain.enums import AmphoraRole
from pier.domain.errors import DriverError, TransientDriverError
from pier.drivers.compute.base import AmphoraRequest, ComputeInstance, ComputeState, config_version


@dataclass(slots=True)
class FakeInstance:
    compute_id: str
    amphora_id: str
    loadbalancer_id: str
    role: AmphoraRole
    lb_network_ip: str
    state: ComputeState = ComputeState.RUNNING
    config_text: str | None = None
    config_version: str | None = None

    def as_instance(self) -> ComputeInstance:
        return ComputeInstance(compute_id=self.compute_id, lb_network_ip=self.lb_network_ip)


class FakeCompute:
    def __init__(self) -> None:
        self.instances: dict[str, FakeInstance] = {}
        # (compute_id, version) of every push that changed an instance's config.
        self.pushes: list[tuple[str, str]] = []
        self.calls: Counter[str] = Counter()
        self._failures: dict[str, deque[DriverError]] = {}
        self._created = 0

    def fail(self, method: str, error: DriverError, times: int = 1) -> None:
        """Make the next `times` calls of `method` raise `error`."""
        self._failures.setdefault(method, deque()).extend([error] * times)

    def lose(self, compute_id: str, state: ComputeState = ComputeState.MISSING) -> None:
        """Simulate an instance that died (MISSING drops it) or broke (ERROR)."""
        if state is ComputeState.MISSING:
            self.instances.pop(compute_id, None)
        else:
            self.instances[compute_id].state = state

    def _enter(self, method: str) -> None:
        self.calls[method] += 1
        pending = self._failures.get(method)
        if pending:
            raise pending.popleft()

    def find_amphora(self, amphora_id: str) -> ComputeInstance | None:
        self._enter("find_amphora")
        found = [i for i in self.instances.values() if i.amphora_id == amphora_id]
        return found[0].as_instance() if found else None

    def create_amphora(self, request: AmphoraRequest) -> ComputeInstance:
        self._enter("create_amphora")
        for existing in self.instances.values():
            if existing.amphora_id == request.amphora_id:
                return existing.as_instance()
        self._created += 1
        instance = FakeInstance(
            # A UUID, as Nova's (and Octavia's noop driver's) are: clients parse it.
            compute_id=str(uuid.uuid4()),
            amphora_id=request.amphora_id,
            loadbalancer_id=request.loadbalancer_id,
            role=request.role,
            lb_network_ip=f"198.51.100.{self._created % 250 + 1}",
        )
        self.instances[instance.compute_id] = instance
        return instance.as_instance()

    def delete_amphora(self, compute_id: str) -> None:
        self._enter("delete_amphora")
        self.instances.pop(compute_id, None)

    def get_status(self, compute_id: str) -> ComputeState:
        self._enter("get_status")
        instance = self.instances.get(compute_id)
        return ComputeState.MISSING if instance is None else instance.state

    def push_config(self, compute_id: str, config_text: str) -> str:
        self._enter("push_config")
        instance = self.instances.get(compute_id)
        if instance is None or instance.state is not ComputeState.RUNNING:
            raise TransientDriverError(f"amphora instance {compute_id} is not running")
        version = config_version(config_text)
        if instance.config_version != version:
            instance.config_text, instance.config_version = config_text, version
            self.pushes.append((compute_id, version))
        return version

    def get_config_version(self, compute_id: str) -> str | None:
        self._enter("get_config_version")
        instance = self.instances.get(compute_id)
        return None if instance is None else instance.config_version

    def inventory(self) -> dict[str, str]:
        self._enter("inventory")
        return {i.amphora_id: i.compute_id for i in self.instances.values()}
