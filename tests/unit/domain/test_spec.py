from pier.domain.enums import HealthMonitorType, ProvisioningStatus
from pier.domain.spec import HealthMonitorSpec, provisioning_statuses, without_leaving
from tests.support.factories import lb_spec, listener_spec, member_spec, pool_spec

LEAVING = ProvisioningStatus.PENDING_DELETE


def monitor(status: ProvisioningStatus) -> HealthMonitorSpec:
    return HealthMonitorSpec(
        id="hm-1",
        provisioning_status=status,
        admin_state_up=True,
        type=HealthMonitorType.TCP,
        delay=5,
        timeout=3,
        max_retries=3,
        max_retries_down=3,
    )


def test_provisioning_statuses_cover_the_whole_tree() -> None:
    pool = pool_spec(id="p", members=(member_spec(id="m"),), healthmonitor=monitor(LEAVING))
    spec = lb_spec(listeners=(listener_spec(id="l"),), pools=(pool,))
    assert provisioning_statuses(spec) == {
        "lb-1": ProvisioningStatus.PENDING_CREATE,
        "l": ProvisioningStatus.ACTIVE,
        "p": ProvisioningStatus.ACTIVE,
        "m": ProvisioningStatus.ACTIVE,
        "hm-1": LEAVING,
    }


def test_without_leaving_drops_pending_deletes_and_dangling_default_pools() -> None:
    gone_pool = pool_spec(id="gone", provisioning_status=LEAVING)
    pool = pool_spec(
        id="p",
        members=(member_spec(id="m1"), member_spec(id="m2", provisioning_status=LEAVING)),
        healthmonitor=monitor(LEAVING),
    )
    spec = lb_spec(
        listeners=(
            listener_spec(id="l1", default_pool_id="gone"),
            listener_spec(id="l2", provisioning_status=LEAVING),
        ),
        pools=(gone_pool, pool),
    )
    after = without_leaving(spec)
    assert [listener.id for listener in after.listeners] == ["l1"]
    assert after.listeners[0].default_pool_id is None
    assert [p.id for p in after.pools] == ["p"]
    assert [m.id for m in after.pools[0].members] == ["m1"]
    assert after.pools[0].healthmonitor is None
    assert after.pool("p") is after.pools[0]
    assert after.pool("gone") is None
