"""Who holds a reconcile lease, named so that a worker on the same host can tell it is dead.

A lease names its owner `host:pid:start:pidns:tag`: the host name, the worker's pid, the
process's start time (clock ticks since boot, /proc/<pid>/stat field 22), the inode of its pid
namespace, and a random tag. A lease outlives a worker killed mid-pass; waiting out its TTL
would keep that load balancer PENDING_* for minutes, so a worker releases at once the leases
of owners it can prove dead, and only those:

- on another host, or in another pid namespace (a container sharing the host name): it cannot
  see that process, so the TTL decides;
- the pid is gone, is a zombie, or started at another time: that worker is dead, even when
  its pid was reused (a restarted container's `pier up` is pid 1 again).

`host:pid:tag` (owners named before the start time and namespace were) count as dead only
when the pid is gone.
"""

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """What tells this process from every other one, past or present, on this host."""

    host: str
    pid: int
    start: int | None  # None where /proc cannot say
    pidns: int | None

    def owner(self, tag: str | None = None) -> str:
        tag = tag or uuid.uuid4().hex[:8]
        return f"{self.host}:{self.pid}:{self.start or 0}:{self.pidns or 0}:{tag}"


def this_process(proc: Path = PROC) -> ProcessIdentity:
    pid = os.getpid()
    return ProcessIdentity(
        host=socket.gethostname(),
        pid=pid,
        start=start_time(pid, proc),
        pidns=pid_namespace(proc),
    )


def start_time(pid: int, proc: Path = PROC) -> int | None:
    """The start time of `pid` in clock ticks since boot; None if it is gone or a zombie."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = stat.rsplit(")", 1)[-1].split()
    if not fields or fields[0] in ("Z", "X") or len(fields) < 20:
        return None
    return int(fields[19])


def pid_namespace(proc: Path = PROC) -> int | None:
    try:
        return (proc / "self" / "ns" / "pid").stat().st_ino
    except OSError:
        return None


def is_dead(owner: str, me: ProcessIdentity, proc: Path = PROC) -> bool:
    """Whether `owner` is a worker of this host and pid namespace that no longer runs.
    Anything this process cannot judge (another host, another shape) is not dead.
    """
    parts = owner.split(":")
    if len(parts) not in (3, 5) or parts[0] != me.host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if len(parts) == 3:  # host:pid:tag
        return start_time(pid, proc) is None
    start, pidns = parts[2], parts[3]
    if not (start.isdigit() and pidns.isdigit()) or me.pidns is None or int(pidns) != me.pidns:
        return False
    running_since = start_time(pid, proc)
    return running_since is None or (int(start) != 0 and running_since != int(start))
