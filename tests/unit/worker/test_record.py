from pier.db.engine import SessionFactory, transaction
from pier.db.snapshot import load_spec
from pier.db.tables.lbaas import Amphora, LoadBalancer
from pier.worker.record import is_stale, load_tree, record_failed
from tests.support.factories import ManualClock, make_listener, make_loadbalancer, make_pool


def test_a_tree_is_stale_when_rows_changed_since_the_spec_was_loaded(
    sessions: SessionFactory,
) -> None:
    with transaction(sessions) as session:
        lb = make_loadbalancer(session, provisioning_status="ACTIVE")
        spec = load_spec(session, lb.id)
        assert spec is not None
        tree = load_tree(session, lb.id)
        assert tree is not None
        assert not is_stale(tree, spec)
        make_listener(session, lb)
        assert is_stale(load_tree(session, lb.id), spec)  # type: ignore[arg-type]


def test_failure_puts_pending_children_in_error_and_a_failed_delete_lb_in_error(
    sessions: SessionFactory, clock: ManualClock
) -> None:
    with transaction(sessions) as session:
        lb = make_loadbalancer(session, provisioning_status="PENDING_DELETE")
        pool = make_pool(session, lb, provisioning_status="PENDING_UPDATE")
        session.add(Amphora(loadbalancer_id=lb.id, status="ALLOCATED"))
        tree = load_tree(session, lb.id)
        assert tree is not None
        record_failed(session, tree, "compute said no", clock())
    with transaction(sessions, write=False) as session:
        row = session.get(LoadBalancer, lb.id)
        assert row is not None
        assert (row.provisioning_status, row.status_reason) == ("ERROR", "compute said no")
        assert tree.pools[0].id == pool.id
        assert tree.pools[0].provisioning_status == "ERROR"
        assert tree.pools[0].updated_at == clock()


def test_failure_of_an_active_lb_without_a_serving_amphora_is_error(
    sessions: SessionFactory, clock: ManualClock
) -> None:
    with transaction(sessions) as session:
        lb = make_loadbalancer(session, provisioning_status="ACTIVE")
        session.add(Amphora(loadbalancer_id=lb.id, status="ERROR"))
        tree = load_tree(session, lb.id)
        assert tree is not None
        record_failed(session, tree, "lost", clock())
        assert lb.provisioning_status == "ERROR"
