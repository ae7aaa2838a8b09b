"""Which pids count as this amphora's HAProxy: alive, and naming its configuration file."""

import subprocess
import sys
import time
from pathlib import Path

from pier.agent.process_table import is_alive, is_running_config


def test_a_process_counts_while_it_runs_the_configuration(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "-f", str(config)]
    )
    try:
        assert is_alive(process.pid)
        assert is_running_config(process.pid, config)
        assert not is_running_config(process.pid, tmp_path / "other.cfg")
    finally:
        process.kill()
        process.wait(timeout=30)
    assert not is_alive(process.pid)
    assert not is_running_config(process.pid, config)


def test_a_zombie_is_not_alive() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        # Not reaped yet, so a zombie once it exits: poll /proc until the state says so.
        stat = Path(f"/proc/{process.pid}/stat")
        deadline = time.monotonic() + 30
        while stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child did not exit"
            time.sleep(0.01)
        assert not is_alive(process.pid)
    finally:
        process.wait(timeout=30)
