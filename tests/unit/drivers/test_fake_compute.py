from uuid import UUID

import pytest

from pier.domain.enums import AmphoraRole
from pier.domain.errors import PermanentDriverError, TransientDriverError
from pier.drivers.compute.base import AmphoraRequest, Compute, ComputeState, config_version
from pier.drivers.compute.fake import FakeCompute

REQUEST = AmphoraRequest("amp-1", "lb-1", AmphoraRole.MASTER, vip_address="10.0.0.10")


def test_it_satisfies_the_protocol() -> None:
    compute: Compute = FakeCompute()
    assert compute.find_amphora("amp-1") is None


def test_create_is_idempotent_by_amphora_id() -> None:
    compute = FakeCompute()
    first = compute.create_amphora(REQUEST)
    assert compute.create_amphora(REQUEST) == first
    assert compute.find_amphora("amp-1") == first
    assert list(compute.instances) == [first.compute_id]
    assert compute.instances[first.compute_id].role is AmphoraRole.MASTER
    assert compute.get_status(first.compute_id) is ComputeState.RUNNING


def test_delete_is_idempotent() -> None:
    compute = FakeCompute()
    instance = compute.create_amphora(REQUEST)
    compute.delete_amphora(instance.compute_id)
    compute.delete_amphora(instance.compute_id)
    assert compute.get_status(instance.compute_id) is ComputeState.MISSING
    assert compute.calls["delete_amphora"] == 2


def test_pushing_the_same_text_twice_is_a_no_op() -> None:
    compute = FakeCompute()
    compute_id = compute.create_amphora(REQUEST).compute_id
    assert compute.get_config_version(compute_id) is None

    assert compute.push_config(compute_id, "a") == config_version("a")
    compute.push_config(compute_id, "a")
    compute.push_config(compute_id, "b")

    assert compute.pushes == [(compute_id, config_version("a")), (compute_id, config_version("b"))]
    assert compute.get_config_version(compute_id) == config_version("b")
    assert compute.instances[compute_id].config_text == "b"


def test_failures_are_injected_per_method_and_per_instance() -> None:
    compute, other = FakeCompute(), FakeCompute()
    compute.fail("create_amphora", TransientDriverError("slow"), times=2)
    compute.fail("get_status", PermanentDriverError("gone for good"))

    for _ in range(2):
        with pytest.raises(TransientDriverError, match="slow"):
            compute.create_amphora(REQUEST)
    instance = compute.create_amphora(REQUEST)
    with pytest.raises(PermanentDriverError):
        compute.get_status(instance.compute_id)
    assert compute.get_status(instance.compute_id) is ComputeState.RUNNING
    unshared = other.create_amphora(REQUEST).compute_id
    assert list(other.instances) == [unshared]
    assert unshared not in compute.instances
    assert compute.calls["create_amphora"] == 3


def test_instances_can_be_lost_or_broken() -> None:
    compute = FakeCompute()
    broken = compute.create_amphora(REQUEST).compute_id
    lost = compute.create_amphora(AmphoraRequest("amp-2", "lb-1", AmphoraRole.BACKUP)).compute_id
    compute.lose(broken, ComputeState.ERROR)
    compute.lose(lost)
    assert compute.get_status(broken) is ComputeState.ERROR
    assert compute.get_status(lost) is ComputeState.MISSING
    with pytest.raises(TransientDriverError):
        compute.push_config(broken, "cfg")


def test_compute_ids_are_uuids_like_novas() -> None:
    compute = FakeCompute()
    first = compute.create_amphora(REQUEST).compute_id
    second = compute.create_amphora(AmphoraRequest("amp-2", "lb-1", AmphoraRole.BACKUP)).compute_id
    assert str(UUID(first)) == first
    assert first != second
