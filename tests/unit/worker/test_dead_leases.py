"""A worker killed mid-pass leaves its lease behind; the next worker on the same host drops
it at start instead of waiting out the TTL (crash safety: resumed within seconds).
"""

import os
import socket
import subprocess
from datetime import timedelta

from sqlalchemy import select

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.worker import ReconcileLease, take_lease
from pier.worker.reconcile import Reconciler
from tests.support.factories import ManualClock


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_leases_of_dead_workers_on_this_host_are_released(
    sessions: SessionFactory, reconciler: Reconciler, clock: ManualClock
) -> None:
    host = socket.gethostname()
    owners = {
        "dead": f"{host}:{dead_pid()}:aaaa",
        "alive": f"{host}:{os.getpid()}:bbbb",
        "elsewhere": "another-host:1:cccc",
        "odd": "not-an-owner-we-made",
    }
    with transaction(sessions) as session:
        for lb_id, owner in owners.items():
            assert take_lease(session, lb_id, owner, clock(), timedelta(minutes=2))

    assert reconciler.release_dead_leases() == 1

    with transaction(sessions, write=False) as session:
        left = set(session.scalars(select(ReconcileLease.loadbalancer_id)))
    assert left == {"alive", "elsewhere", "odd"}
