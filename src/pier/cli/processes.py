"""Finding and stopping the processes a Pier data dir runs.

Amphorae outlive `pier up` by design (the next agent adopts them), so whatever started a Pier
for a while (the demo, tests, benchmarks) must remove them itself. The agent, HAProxy and
nginx all take their files from the data dir, so their command lines name it.
"""

import os
import signal
import time
from contextlib import suppress
from pathlib import Path


def processes_under(directory: Path) -> list[int]:
    """Pids of processes (other than this one) whose command line names a path in
    `directory`.
    """
    needle = str(directory.resolve()).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def kill_processes_under(directory: Path, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if they linger past `timeout`, every process under `directory`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in processes_under(directory):
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while processes_under(directory) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not processes_under(directory):
            return
