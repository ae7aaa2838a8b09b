import subprocess
import sys
from pathlib import Path

from pier.cli.processes import kill_processes_under, processes_under


def test_processes_naming_the_directory_are_found_and_stopped(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", str(tmp_path / "amphora.cfg")]
    )
    try:
        assert processes_under(tmp_path) == [sleeper.pid]
        assert processes_under(tmp_path.parent / "elsewhere") == []
        kill_processes_under(tmp_path)
        assert sleeper.wait(timeout=10) != 0
        assert processes_under(tmp_path) == []
    finally:
        sleeper.kill()
        sleeper.wait(timeout=10)
