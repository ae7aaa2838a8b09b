from datetime import timedelta

import pytest
from sqlalchemy import select

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.lbaas import Amphora, AmphoraHealth
from pier.domain.enums import AmphoraRole
from pier.domain.errors import TransientDriverError
from pier.drivers.compute.base import AmphoraRequest, config_version
from pier.drivers.compute.fake import FakeCompute
from pier.drivers.network.fake import FakeNetwork
from pier.worker.actions import ActionContext, apply, delete_amphora
from pier.worker.plan import CreateAmphora, DeleteAmphora, PushConfig, ReleaseVip
from tests.support.factories import ManualClock, lb_spec, make_loadbalancer

SPEC = lb_spec(id="lb-1", vip_address="10.0.0.10", vip_port_id="port-1")


@pytest.fixture
def context(
    sessions: SessionFactory, compute: FakeCompute, network: FakeNetwork, clock: ManualClock
) -> ActionContext:
    with transaction(sessions) as session:
        make_loadbalancer(session, id=SPEC.id)
    return ActionContext(SPEC, sessions, compute, network, clock)


def rows(sessions: SessionFactory) -> list[Amphora]:
    with transaction(sessions, write=False) as session:
        return list(session.scalars(select(Amphora).order_by(Amphora.created_at)))


def test_the_amphora_row_is_written_before_compute_is_asked(
    context: ActionContext, compute: FakeCompute, sessions: SessionFactory
) -> None:
    compute.fail("create_amphora", TransientDriverError("boom"))
    with pytest.raises(TransientDriverError):
        apply(CreateAmphora(AmphoraRole.MASTER, "cfg", config_version("cfg")), context)

    [row] = rows(sessions)
    assert (row.status, row.role, row.compute_id) == ("PENDING_CREATE", "MASTER", None)
    assert (row.ha_ip, row.ha_port_id, row.vrrp_priority, row.vrrp_id) == (
        "10.0.0.10", "port-1", 100, 1,
    )  # fmt: skip


def test_create_records_the_instance_and_the_pushed_version(
    context: ActionContext, compute: FakeCompute, sessions: SessionFactory, clock: ManualClock
) -> None:
    apply(CreateAmphora(AmphoraRole.STANDALONE, "cfg", config_version("cfg")), context)

    [row] = rows(sessions)
    [instance] = compute.instances.values()
    assert (row.status, row.compute_id, row.config_version) == (
        "BOOTING", instance.compute_id, config_version("cfg"),
    )  # fmt: skip
    assert instance.amphora_id == row.id
    assert row.cert_expiration == clock() + timedelta(days=30)
    assert row.updated_at == clock()


def test_create_gives_the_amphora_its_vrrp_port_and_delete_releases_it(
    context: ActionContext, network: FakeNetwork, sessions: SessionFactory
) -> None:
    apply(CreateAmphora(AmphoraRole.STANDALONE, "cfg", config_version("cfg")), context)
    apply(
        CreateAmphora(AmphoraRole.STANDALONE, "cfg", config_version("cfg"), rows(sessions)[0].id),
        context,
    )

    [row] = rows(sessions)
    port = network.vrrp_ports[row.id]
    assert (row.vrrp_port_id, row.vrrp_ip) == (port.port_id, port.address)

    apply(DeleteAmphora(row.id, row.compute_id), context)
    assert network.vrrp_ports == {}


def test_resuming_a_create_reuses_the_instance_named_after_the_amphora(
    context: ActionContext, compute: FakeCompute, sessions: SessionFactory
) -> None:
    with transaction(sessions) as session:
        session.add(Amphora(id="amp-1", loadbalancer_id=SPEC.id, role="STANDALONE"))
    existing = compute.create_amphora(AmphoraRequest("amp-1", SPEC.id, AmphoraRole.STANDALONE))

    apply(CreateAmphora(AmphoraRole.STANDALONE, "cfg", "v", amphora_id="amp-1"), context)

    assert list(compute.instances) == [existing.compute_id]
    assert compute.calls["create_amphora"] == 1
    assert rows(sessions)[0].compute_id == existing.compute_id


def test_push_config_records_the_version(
    context: ActionContext, compute: FakeCompute, sessions: SessionFactory
) -> None:
    apply(CreateAmphora(AmphoraRole.STANDALONE, "old", config_version("old")), context)
    [row] = rows(sessions)

    apply(PushConfig(row.id, row.compute_id or "", "new", config_version("new")), context)

    assert rows(sessions)[0].config_version == config_version("new")
    assert rows(sessions)[0].updated_at == row.updated_at


def test_delete_finds_the_instance_by_name_when_the_compute_id_was_never_recorded(
    context: ActionContext, compute: FakeCompute, sessions: SessionFactory, clock: ManualClock
) -> None:
    with transaction(sessions) as session:
        session.add(Amphora(id="amp-1", loadbalancer_id=SPEC.id, role="STANDALONE"))
        session.add(AmphoraHealth(amphora_id="amp-1", last_update=clock()))
    compute.create_amphora(AmphoraRequest("amp-1", SPEC.id, AmphoraRole.STANDALONE))

    apply(DeleteAmphora("amp-1", None), context)

    assert compute.instances == {}
    assert rows(sessions)[0].status == "DELETED"
    with transaction(sessions, write=False) as session:
        assert session.get(AmphoraHealth, "amp-1") is None


def test_delete_is_idempotent(
    sessions: SessionFactory, compute: FakeCompute, network: FakeNetwork, clock: ManualClock
) -> None:
    delete_amphora(sessions, compute, network, clock, "never-existed", None)
    delete_amphora(sessions, compute, network, clock, "never-existed", "compute-9")
    assert compute.calls["delete_amphora"] == 1


def test_release_vip_goes_to_the_network_driver(
    context: ActionContext, network: FakeNetwork
) -> None:
    apply(ReleaseVip("port-1"), context)
    assert network.released == [("lb-1", "port-1")]
