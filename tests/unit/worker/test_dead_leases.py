"""A worker killed mid-pass leaves its lease behind; the next worker on the same host drops
it (at start, at each resync, or when the lease is in its way) instead of waiting out the TTL:
crash safety means resumed within seconds. Only owners it can prove dead: not those of other
hosts or other pid namespaces, not a live worker, but yes a pid reused by another process.
"""

import os
import socket
import subprocess
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from pier.db.engine import SessionFactory, transaction
from pier.db.tables.worker import ReconcileLease, take_lease
from pier.worker.owner import ProcessIdentity, is_dead, start_time, this_process
from pier.worker.reconcile import OutcomeKind, Reconciler
from tests.support.factories import ManualClock
from tests.unit.worker.trees import write_tree


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def fake_proc(tmp_path: Path, processes: dict[int, tuple[str, int]]) -> Path:
    """A /proc with `pid -> (state, start time)` entries, in the kernel's stat layout."""
    for pid, (state, start) in processes.items():
        directory = tmp_path / str(pid)
        directory.mkdir(parents=True)
        fields = [state, *["0"] * 18, str(start), "0"]  # field 3 .. field 23
        (directory / "stat").write_text(f"{pid} (pier up (x)) {' '.join(fields)}\n")
    return tmp_path


ME = ProcessIdentity(host="h1", pid=10, start=500, pidns=4026531836)


def test_an_owner_names_host_pid_start_time_and_pid_namespace() -> None:
    me = this_process()
    host, pid, start, pidns, tag = me.owner().split(":")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
    assert int(start) == start_time(os.getpid()) and int(pidns) == me.pidns
    assert len(tag) == 8


def test_dead_means_gone_a_zombie_or_a_reused_pid(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {20: ("S", 700), 21: ("Z", 800), 22: ("S", 999)})
    ns = ME.pidns

    assert not is_dead(f"h1:20:700:{ns}:aaaa", ME, proc)  # alive
    assert is_dead(f"h1:21:800:{ns}:aaaa", ME, proc)  # a zombie
    assert is_dead(f"h1:22:800:{ns}:aaaa", ME, proc)  # pid reused since
    assert is_dead(f"h1:23:800:{ns}:aaaa", ME, proc)  # gone
    assert is_dead("h1:23:aaaa", ME, proc)  # the older three-part name: pid gone
    assert not is_dead("h1:22:aaaa", ME, proc)  # ... and only that


def test_owners_this_host_cannot_judge_are_left_to_their_ttl(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {})
    ns = ME.pidns

    assert not is_dead(f"h2:23:800:{ns}:aaaa", ME, proc)  # another host
    assert not is_dead("h1:23:800:4026532000:aaaa", ME, proc)  # another pid namespace
    assert not is_dead("not-an-owner-we-made", ME, proc)
    assert not is_dead("h1:x:800:1:aaaa", ME, proc)
    unknown_ns = ProcessIdentity(host="h1", pid=10, start=500, pidns=None)
    assert not is_dead(f"h1:23:800:{ns}:aaaa", unknown_ns, proc)


def test_leases_of_dead_workers_on_this_host_are_released(
    sessions: SessionFactory, reconciler: Reconciler, clock: ManualClock
) -> None:
    me = this_process()
    host, ns = me.host, me.pidns
    owners = {
        "dead": f"{host}:{dead_pid()}:1:{ns}:aaaa",
        "reused": f"{host}:{os.getpid()}:1:{ns}:aaaa",  # our pid, another start time
        "legacy-dead": f"{host}:{dead_pid()}:aaaa",
        "alive": me.owner("bbbb"),
        "elsewhere": "another-host:1:1:1:cccc",
        "odd": "not-an-owner-we-made",
    }
    with transaction(sessions) as session:
        for lb_id, owner in owners.items():
            assert take_lease(session, lb_id, owner, clock(), timedelta(minutes=2))

    assert reconciler.release_dead_leases() == 3

    with transaction(sessions, write=False) as session:
        left = set(session.scalars(select(ReconcileLease.loadbalancer_id)))
    assert left == {"alive", "elsewhere", "odd"}


def test_a_dead_workers_lease_does_not_keep_a_reconcile_waiting(
    sessions: SessionFactory, reconciler: Reconciler, clock: ManualClock
) -> None:
    ids = write_tree(sessions)
    me = this_process()
    with transaction(sessions) as session:
        dead = f"{me.host}:{dead_pid()}:1:{me.pidns}:aaaa"
        assert take_lease(session, ids.lb, dead, clock(), timedelta(minutes=2))

    assert reconciler.reconcile(ids.lb).kind is OutcomeKind.CONVERGED


def test_a_live_workers_lease_still_does(
    sessions: SessionFactory, reconciler: Reconciler, clock: ManualClock
) -> None:
    ids = write_tree(sessions)
    with transaction(sessions) as session:
        assert take_lease(session, ids.lb, this_process().owner(), clock(), timedelta(minutes=2))

    assert reconciler.reconcile(ids.lb).kind is OutcomeKind.BUSY
