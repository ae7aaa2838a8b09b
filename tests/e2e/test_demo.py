"""`make demo` runs `pier demo`: here it runs the same way, so CI keeps the walk-through true."""

import subprocess
from pathlib import Path

import pytest

from pier.cli.processes import processes_under
from tests.support.processes import BIN

pytestmark = pytest.mark.e2e


def test_the_demo_walks_through_and_cleans_up(tmp_path: Path) -> None:
    work_dir = tmp_path / "demo"
    result = subprocess.run(
        [str(BIN / "pier"), "demo", "--work-dir", str(work_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout
    assert "web1 and web2 alternate." in output
    assert "only web1 answers" in output
    assert "web2 reported ERROR" in output
    assert "web1 and web2 answer again." in output
    assert processes_under(work_dir) == []
