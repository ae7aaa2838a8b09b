from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import Amphora
from pier.domain.enums import AmphoraRole
from pier.domain.errors import TransientDriverError
from pier.drivers.compute.base import AmphoraRequest
from pier.drivers.compute.fake import FakeCompute
from pier.drivers.network.fake import FakeNetwork
from pier.worker.resync import (
    delete_orphan_amphorae,
    delete_stray_instances,
    find_orphan_amphorae,
    find_pending,
)
from tests.support.factories import (
    ManualClock,
    make_healthmonitor,
    make_l7policy,
    make_l7rule,
    make_listener,
    make_loadbalancer,
    make_member,
    make_pool,
)

ACTIVE = {"provisioning_status": "ACTIVE"}


def test_find_pending_looks_at_every_table(sessions: SessionFactory) -> None:
    expected = {}
    with transaction(sessions) as session:
        make_loadbalancer(session, **ACTIVE)  # converged: not found
        make_loadbalancer(session, provisioning_status="DELETED")
        expected["lb"] = make_loadbalancer(session, provisioning_status="PENDING_DELETE").id
        for kind in ("listener", "pool", "member", "hm", "policy", "rule", "amphora"):
            lb = make_loadbalancer(session, **ACTIVE)
            expected[kind] = lb.id
            listener = make_listener(session, lb, **ACTIVE)
            pool = make_pool(session, lb, **ACTIVE)
            policy = make_l7policy(session, listener, **ACTIVE)
            pending = {"provisioning_status": "PENDING_UPDATE"}
            if kind == "listener":
                listener.provisioning_status = "PENDING_CREATE"
            elif kind == "pool":
                pool.provisioning_status = "PENDING_DELETE"
            elif kind == "member":
                make_member(session, pool, **pending)
            elif kind == "hm":
                make_healthmonitor(session, pool, **pending)
            elif kind == "policy":
                policy.provisioning_status = "PENDING_UPDATE"
            elif kind == "rule":
                make_l7rule(session, policy, **pending)
            else:
                session.add(Amphora(loadbalancer_id=lb.id, status="PENDING_DELETE"))

    with transaction(sessions, write=False) as session:
        found = find_pending(session)

    assert sorted(found) == sorted(expected.values())
    assert len(found) == len(set(found))


def test_orphan_amphorae_are_deleted_through_compute(
    sessions: SessionFactory, compute: FakeCompute, network: FakeNetwork, clock: ManualClock
) -> None:
    instance = compute.create_amphora(AmphoraRequest("amp-1", "gone-lb", AmphoraRole.STANDALONE))
    with transaction(sessions) as session:
        session.add(Amphora(id="amp-1", status="PENDING_DELETE", compute_id=instance.compute_id))
        session.add(Amphora(id="amp-2", status="PENDING_DELETE"))
        session.add(Amphora(id="amp-3", status="ERROR"))
    compute.fail("find_amphora", TransientDriverError("compute API down"))

    # amp-2 fails, and is retried by a later resync.
    assert delete_orphan_amphorae(sessions, compute, network, clock) == 1

    assert compute.instances == {}
    with transaction(sessions, write=False) as session:
        assert find_orphan_amphorae(session) == [("amp-2", None)]
    assert delete_orphan_amphorae(sessions, compute, network, clock) == 1
    with transaction(sessions, write=False) as session:
        assert find_orphan_amphorae(session) == []
        assert session.get(Amphora, "amp-3").status == "ERROR"  # type: ignore[union-attr]


def test_instances_no_live_amphora_row_wants_are_deleted(
    sessions: SessionFactory, compute: FakeCompute
) -> None:
    for amphora_id in ("kept", "building", "deleted-row", "no-row"):
        compute.create_amphora(AmphoraRequest(amphora_id, "lb-1", AmphoraRole.STANDALONE))
    with transaction(sessions) as session:
        session.add(Amphora(id="kept", status="ALLOCATED"))
        session.add(Amphora(id="building", status="PENDING_CREATE"))  # a create in flight
        session.add(Amphora(id="deleted-row", status="DELETED"))

    assert delete_stray_instances(sessions, compute) == 2

    assert set(compute.inventory()) == {"kept", "building"}
    assert delete_stray_instances(sessions, compute) == 0
