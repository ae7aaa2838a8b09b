"""Reconcile over a real SQLite database with fake compute and network: the lifecycle.

Trees are written the way the API writes them (rows + PENDING_* statuses), then one
`reconcile(id)` is called and the resulting rows and fake world are checked.
"""

from datetime import timedelta

from sqlalchemy import select

from pier.amphora.bundle import render_amphora_config
from pier.db.engine import SessionFactory, transaction
from pier.db.snapshot import load_spec
from pier.db.tables.lbaas import (
    Amphora,
    HealthMonitor,
    L7Policy,
    L7Rule,
    Listener,
    ListenerStatistics,
    LoadBalancer,
    Member,
    Pool,
    Tag,
)
from pier.drivers.compute.fake import FakeCompute
from pier.drivers.network.fake import FakeNetwork
from pier.wire.agent_api import AmphoraConfig
from pier.worker.plan import AMPHORA_LIMITS
from pier.worker.reconcile import OutcomeKind, Reconciler
from tests.support.factories import (
    ManualClock,
    make_healthmonitor,
)
from tests.unit.worker.trees import amphorae_of, dump, edit, get, row, statuses, write_tree


def test_create_single_becomes_active_with_one_amphora(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute, clock: ManualClock
) -> None:
    ids = write_tree(sessions)

    outcome = reconciler.reconcile(ids.lb)

    assert outcome.kind is OutcomeKind.CONVERGED
    assert statuses(sessions, ids) == {
        "lb": ("ACTIVE", "OFFLINE"),
        "listener": ("ACTIVE", "OFFLINE"),
        "pool": ("ACTIVE", "OFFLINE"),
        "member": ("ACTIVE", "OFFLINE"),
        "healthmonitor": ("ACTIVE", "ONLINE"),
        "l7policy": ("ACTIVE", "ONLINE"),
        "l7rule": ("ACTIVE", "ONLINE"),
    }
    [amphora] = amphorae_of(sessions, ids.lb)
    lb = get(sessions, LoadBalancer, ids.lb)
    assert (amphora.status, amphora.role) == ("ALLOCATED", "STANDALONE")
    assert amphora.vrrp_priority is None
    assert (amphora.ha_ip, amphora.ha_port_id) == (lb.vip_address, lb.vip_port_id)
    assert amphora.cert_expiration == clock() + timedelta(days=30)
    [instance] = compute.instances.values()
    assert amphora.compute_id == instance.compute_id
    assert amphora.lb_network_ip == instance.lb_network_ip
    with transaction(sessions, write=False) as session:
        spec = load_spec(session, ids.lb)
    assert spec is not None
    assert instance.config_text == render_amphora_config(spec, AMPHORA_LIMITS).text
    assert amphora.config_version == instance.config_version
    assert lb.updated_at == clock()


def test_active_standby_gets_a_master_and_a_backup(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute
) -> None:
    ids = write_tree(sessions, topology="ACTIVE_STANDBY")

    assert reconciler.reconcile(ids.lb).kind is OutcomeKind.CONVERGED

    amphorae = amphorae_of(sessions, ids.lb)
    assert sorted((a.role, a.vrrp_priority, a.status) for a in amphorae) == [
        ("BACKUP", 90, "ALLOCATED"),
        ("MASTER", 100, "ALLOCATED"),
    ]
    assert len({i.config_version for i in compute.instances.values()}) == 1
    assert len(compute.instances) == 2


def test_update_pushes_new_config_and_touches_only_changed_rows(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute, clock: ManualClock
) -> None:
    ids = write_tree(sessions)
    reconciler.reconcile(ids.lb)
    created_at_time = clock()
    clock.advance(minutes=5)
    edit(sessions, Listener, ids.listener, provisioning_status="PENDING_UPDATE", protocol_port=8080)
    edit(sessions, LoadBalancer, ids.lb, provisioning_status="PENDING_UPDATE")

    outcome = reconciler.reconcile(ids.lb)

    assert [type(a).__name__ for a in outcome.actions] == ["PushConfig"]
    assert len(compute.pushes) == 2
    assert get(sessions, Listener, ids.listener).updated_at == clock()
    assert get(sessions, LoadBalancer, ids.lb).provisioning_status == "ACTIVE"
    assert get(sessions, Pool, ids.pool).updated_at == created_at_time
    [instance] = compute.instances.values()
    haproxy = AmphoraConfig.from_text(instance.config_text or "").haproxy or ""
    assert ":8080\n" in haproxy


def test_reconcile_twice_changes_nothing(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute
) -> None:
    ids = write_tree(sessions, topology="ACTIVE_STANDBY")
    reconciler.reconcile(ids.lb)
    before, pushes = dump(sessions), list(compute.pushes)

    outcome = reconciler.reconcile(ids.lb)

    assert (outcome.kind, outcome.actions) == (OutcomeKind.CONVERGED, ())
    assert dump(sessions) == before
    assert compute.pushes == pushes


def test_deleting_a_pool_cascades_to_members_monitor_and_tags(
    reconciler: Reconciler, sessions: SessionFactory
) -> None:
    ids = write_tree(sessions)
    reconciler.reconcile(ids.lb)
    with transaction(sessions) as session:
        session.add_all([Tag(resource_id=ids.pool, tag="a"), Tag(resource_id=ids.member, tag="b")])
    edit(sessions, Pool, ids.pool, provisioning_status="PENDING_DELETE")
    edit(sessions, Listener, ids.listener, provisioning_status="PENDING_UPDATE")
    edit(sessions, LoadBalancer, ids.lb, provisioning_status="PENDING_UPDATE")

    assert reconciler.reconcile(ids.lb).kind is OutcomeKind.CONVERGED

    assert get(sessions, Pool, ids.pool) is None
    assert get(sessions, Member, ids.member) is None
    assert get(sessions, HealthMonitor, ids.healthmonitor) is None
    listener = get(sessions, Listener, ids.listener)
    assert (listener.provisioning_status, listener.default_pool_id) == ("ACTIVE", None)
    with transaction(sessions, write=False) as session:
        assert session.scalars(select(Tag)).all() == []
    assert reconciler.reconcile(ids.lb).actions == ()


def test_deleting_a_listener_removes_its_l7_policies_rules_and_statistics(
    reconciler: Reconciler, sessions: SessionFactory
) -> None:
    ids = write_tree(sessions)
    reconciler.reconcile(ids.lb)
    [amphora] = amphorae_of(sessions, ids.lb)
    with transaction(sessions) as session:
        session.add(ListenerStatistics(listener_id=ids.listener, amphora_id=amphora.id))
    edit(sessions, Listener, ids.listener, provisioning_status="PENDING_DELETE")
    edit(sessions, LoadBalancer, ids.lb, provisioning_status="PENDING_UPDATE")

    reconciler.reconcile(ids.lb)

    for table, row_id in [(Listener, ids.listener), (L7Policy, ids.l7policy), (L7Rule, ids.l7rule)]:
        assert get(sessions, table, row_id) is None
    assert get(sessions, Pool, ids.pool).provisioning_status == "ACTIVE"
    with transaction(sessions, write=False) as session:
        assert session.scalars(select(ListenerStatistics)).all() == []


def test_member_status_follows_the_pool_monitor(
    reconciler: Reconciler, sessions: SessionFactory
) -> None:
    ids = write_tree(sessions)
    reconciler.reconcile(ids.lb)
    edit(sessions, HealthMonitor, ids.healthmonitor, provisioning_status="PENDING_DELETE")
    edit(sessions, LoadBalancer, ids.lb, provisioning_status="PENDING_UPDATE")
    reconciler.reconcile(ids.lb)
    assert get(sessions, Member, ids.member).operating_status == "NO_MONITOR"

    with transaction(sessions) as session:
        monitor = make_healthmonitor(session, row(session, Pool, ids.pool), admin_state_up=False)
        row(session, LoadBalancer, ids.lb).provisioning_status = "PENDING_UPDATE"
    reconciler.reconcile(ids.lb)
    assert get(sessions, Member, ids.member).operating_status == "OFFLINE"
    assert get(sessions, HealthMonitor, monitor.id).operating_status == "OFFLINE"


def test_lb_delete_cascades_to_deleted_and_releases_the_vip(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute, network: FakeNetwork
) -> None:
    ids = write_tree(sessions, topology="ACTIVE_STANDBY")
    reconciler.reconcile(ids.lb)
    edit(sessions, LoadBalancer, ids.lb, provisioning_status="PENDING_DELETE")

    assert reconciler.reconcile(ids.lb).kind is OutcomeKind.CONVERGED

    lb = get(sessions, LoadBalancer, ids.lb)
    assert lb.provisioning_status == "DELETED"
    children = [
        (Listener, ids.listener), (Pool, ids.pool), (Member, ids.member),
        (HealthMonitor, ids.healthmonitor), (L7Policy, ids.l7policy), (L7Rule, ids.l7rule),
    ]  # fmt: skip
    for table, row_id in children:
        assert get(sessions, table, row_id) is None
    assert [a.status for a in amphorae_of(sessions, ids.lb)] == ["DELETED", "DELETED"]
    assert compute.instances == {}
    assert network.released == [(ids.lb, lb.vip_port_id)]
    assert reconciler.reconcile(ids.lb).actions == ()


def test_failover_replaces_the_amphora_keeping_the_vip(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute
) -> None:
    ids = write_tree(sessions)
    reconciler.reconcile(ids.lb)
    [old] = amphorae_of(sessions, ids.lb)
    edit(sessions, Amphora, old.id, status="PENDING_DELETE")
    edit(sessions, LoadBalancer, ids.lb, provisioning_status="PENDING_UPDATE")

    assert reconciler.reconcile(ids.lb).kind is OutcomeKind.CONVERGED

    gone, new = amphorae_of(sessions, ids.lb)
    assert (gone.id, gone.status) == (old.id, "DELETED")
    assert new.id != old.id
    assert (new.status, new.role, new.ha_ip, new.ha_port_id) == (
        "ALLOCATED", "STANDALONE", old.ha_ip, old.ha_port_id,
    )  # fmt: skip
    assert list(compute.instances) == [new.compute_id]
    assert get(sessions, LoadBalancer, ids.lb).provisioning_status == "ACTIVE"


def test_a_lost_instance_is_replaced_on_the_next_pass(
    reconciler: Reconciler, sessions: SessionFactory, compute: FakeCompute
) -> None:
    ids = write_tree(sessions)
    reconciler.reconcile(ids.lb)
    [old] = amphorae_of(sessions, ids.lb)
    compute.lose(old.compute_id or "")

    reconciler.reconcile(ids.lb)

    assert [a.status for a in amphorae_of(sessions, ids.lb)] == ["DELETED", "ALLOCATED"]
