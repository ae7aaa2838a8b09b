"""The spare pool and the claim of a spare by a create, with the fake compute over a real
database.
"""

from pathlib import Path

import pytest
from sqlalchemy import select

from pier.db.engine import SessionFactory, make_session_factory, transaction
from pier.db.tables.lbaas import Amphora
from pier.domain.enums import AmphoraRole
from pier.drivers.compute.base import config_version
from pier.drivers.compute.fake import FakeCompute
from pier.drivers.network.fake import FakeNetwork
from pier.housekeeping.spares import SparePool
from pier.worker.actions import ActionContext, apply
from pier.worker.plan import CreateAmphora
from tests.support.databases import engine_for_test
from tests.support.factories import ManualClock, lb_spec, make_loadbalancer


@pytest.fixture
def sessions(tmp_path: Path) -> SessionFactory:
    return make_session_factory(engine_for_test(tmp_path))


def statuses(sessions: SessionFactory) -> dict[str, tuple[str, str | None]]:
    with transaction(sessions, write=False) as session:
        return {a.id: (a.status, a.loadbalancer_id) for a in session.scalars(select(Amphora)).all()}


def test_the_pool_is_filled_finished_and_trimmed(sessions: SessionFactory) -> None:
    compute, clock = FakeCompute(), ManualClock()
    # A fill that crashed after writing its row: finished, not duplicated.
    with transaction(sessions) as session:
        session.add(Amphora(id="half", status="BOOTING"))

    assert SparePool(sessions, compute, clock, 3).run_once() == 2

    rows = statuses(sessions)
    assert sorted(rows.values()) == [("READY", None)] * 3
    assert set(compute.inventory()) == set(rows)

    SparePool(sessions, compute, clock, 1).run_once()
    assert sorted(s for s, _ in statuses(sessions).values()) == [
        "PENDING_DELETE", "PENDING_DELETE", "READY",
    ]  # fmt: skip


def test_a_create_claims_a_spare_instead_of_a_new_instance(sessions: SessionFactory) -> None:
    compute, clock = FakeCompute(), ManualClock()
    SparePool(sessions, compute, clock, 2).run_once()
    spares = set(statuses(sessions))
    made = dict(compute.calls)["create_amphora"]
    contexts = []
    for lb_id in ("lb-1", "lb-2"):
        with transaction(sessions) as session:
            make_loadbalancer(session, id=lb_id)
        contexts.append(ActionContext(lb_spec(id=lb_id), sessions, compute, FakeNetwork(), clock))

    for context in contexts:
        apply(CreateAmphora(AmphoraRole.STANDALONE, "cfg", config_version("cfg")), context)

    rows = statuses(sessions)
    assert compute.calls["create_amphora"] == made  # no new instance
    assert {rows[a][1] for a in spares} == {"lb-1", "lb-2"}  # one spare each
    assert {rows[a][0] for a in spares} == {"BOOTING"}

    # No spare left: the next create makes its own.
    with transaction(sessions) as session:
        make_loadbalancer(session, id="lb-3")
    third = ActionContext(lb_spec(id="lb-3"), sessions, compute, FakeNetwork(), clock)
    apply(CreateAmphora(AmphoraRole.STANDALONE, "cfg", config_version("cfg")), third)
    assert compute.calls["create_amphora"] == made + 1
