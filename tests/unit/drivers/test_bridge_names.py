"""Interface names the bridge driver makes fit the kernel's 15 characters and carry Pier's
prefixes (a sweep removes only what starts with them)."""

import uuid

from pier.drivers.network.bridge import BRIDGE_PREFIX, VETH_PREFIX, bridge_name, veth_name


def test_names_fit_and_are_pier_prefixed() -> None:
    some_id = str(uuid.uuid4())
    assert len(bridge_name(some_id)) <= 15 and bridge_name(some_id).startswith(BRIDGE_PREFIX)
    assert len(veth_name(some_id)) <= 15 and veth_name(some_id).startswith(VETH_PREFIX)
    assert bridge_name(some_id) == bridge_name(some_id)
    assert veth_name(some_id) != veth_name(str(uuid.uuid4()))
