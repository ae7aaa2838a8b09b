"""HAProxy's master CLI `show proc`, parsed: how a reload is known to have worked.

    #<PID>          <type>          <reloads>       <uptime>        <version>
    7699            master          3 [failed: 1]   0d00h13m01s     2.6.12
    # workers
    15628           worker          0               0d00h00m07s     2.6.12
    # old workers
    15183           worker          1               0d00h00m10s     2.6.12
    # programs

A worker's `<reloads>` counts the reloads since it was forked: 0 for one the last (re)load
started. After a failed reload the master keeps the previous worker, whose count is then 1.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorkerProcess:
    pid: int
    reloads: int


@dataclass(frozen=True, slots=True)
class MasterStatus:
    master_pid: int
    reloads: int
    failed_reloads: int
    workers: tuple[WorkerProcess, ...]
    old_workers: tuple[WorkerProcess, ...]

    @property
    def pids(self) -> frozenset[int]:
        return frozenset(w.pid for w in (*self.workers, *self.old_workers))

    def serving_since(self, before: "MasterStatus") -> int | None:
        """The pid of a worker that a reload after `before` started, if there is one."""
        if self.reloads <= before.reloads:
            return None
        fresh = [w.pid for w in self.workers if w.reloads == 0 and w.pid not in before.pids]
        return fresh[0] if fresh else None

    def failed_since(self, before: "MasterStatus") -> bool:
        return self.failed_reloads > before.failed_reloads


def parse_show_proc(text: str) -> MasterStatus:
    """Raises ValueError when `text` has no master line (not `show proc` output)."""
    master: tuple[int, int, int] | None = None
    sections: dict[str, list[WorkerProcess]] = {"workers": [], "old workers": []}
    section = ""
    for line in text.splitlines():
        if line.startswith("#"):
            section = line.lstrip("#").strip()
            continue
        words = line.split()
        if len(words) < 3 or not words[0].isdigit() or not words[2].isdigit():
            continue
        if words[1] == "master":
            master = (int(words[0]), int(words[2]), _failed(words))
        elif words[1] == "worker" and section in sections:
            sections[section].append(WorkerProcess(int(words[0]), int(words[2])))
    if master is None:
        raise ValueError(f"not `show proc` output: {text[:200]!r}")
    return MasterStatus(
        master_pid=master[0],
        reloads=master[1],
        failed_reloads=master[2],
        workers=tuple(sections["workers"]),
        old_workers=tuple(sections["old workers"]),
    )


def _failed(words: list[str]) -> int:
    """`[failed: N]` after the reload count (HAProxy 2.6+); 0 when absent."""
    if len(words) > 4 and words[3] == "[failed:":
        count = words[4].rstrip("]")
        if count.isdigit():
            return int(count)
    return 0
