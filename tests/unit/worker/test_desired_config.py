import json
from dataclasses import replace

from pier.domain.enums import ProvisioningStatus
from pier.worker.desired_config import render_desired_config
from tests.support.factories import lb_spec, listener_spec, member_spec, pool_spec


def test_the_document_is_canonical_json_without_statuses() -> None:
    spec = lb_spec(listeners=(listener_spec(id="l1"),), pools=(pool_spec(id="p1"),))
    text = render_desired_config(spec)
    document = json.loads(text)
    assert text == json.dumps(document, sort_keys=True, separators=(",", ":"))
    assert "provisioning_status" not in text
    assert document["listeners"][0]["id"] == "l1"
    assert document["pools"][0]["lb_algorithm"] == "ROUND_ROBIN"


def test_recording_statuses_does_not_change_the_text() -> None:
    pending = lb_spec(
        listeners=(listener_spec(id="l1", provisioning_status=ProvisioningStatus.PENDING_CREATE),),
        pools=(
            pool_spec(
                id="p1",
                members=(
                    member_spec(id="m1"),
                    member_spec(id="m2", provisioning_status=ProvisioningStatus.PENDING_DELETE),
                ),
            ),
        ),
    )
    recorded = lb_spec(
        provisioning_status=ProvisioningStatus.ACTIVE,
        listeners=(listener_spec(id="l1"),),
        pools=(pool_spec(id="p1", members=(member_spec(id="m1"),)),),
    )
    assert render_desired_config(pending) == render_desired_config(recorded)


def test_any_desired_change_changes_the_text() -> None:
    spec = lb_spec(listeners=(listener_spec(id="l1"),))
    assert render_desired_config(spec) != render_desired_config(replace(spec, admin_state_up=False))
