"""Every golden haproxy.cfg passes the real `haproxy -c`, without a warning.

The golden files name their sockets and scripts under `specs.GOLDEN_ROOT`; each file is checked
from a copy where that directory is a temporary one holding those files, as an agent's would.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.amphora import specs

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parents[2] / "unit" / "amphora" / "golden"
HAPROXY = shutil.which("haproxy")


@pytest.fixture(scope="module")
def haproxy() -> str:
    if HAPROXY is None:
        if os.environ.get("CI") == "true":
            pytest.fail("haproxy is not installed; CI must check the golden files with it")
        pytest.skip("haproxy is not installed (apt-get install -y haproxy)")
    return HAPROXY


def test_there_are_golden_files() -> None:
    assert len(list(GOLDEN.glob("*.cfg"))) >= len(specs.SCENARIOS) > 0


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.cfg")), ids=lambda path: path.stem)
def test_haproxy_accepts_the_golden_file(golden: Path, haproxy: str, tmp_path: Path) -> None:
    root = tmp_path / "amphora"
    root.mkdir()
    # What `show servers state` writes for a fresh amphora: the format version, no servers.
    (root / "servers-state").write_text("1\n")
    ping = root / "ping-wrapper.sh"
    ping.write_text("#!/bin/sh\nexit 0\n")
    ping.chmod(0o755)
    config = tmp_path / "haproxy.cfg"
    config.write_text(golden.read_text().replace(specs.GOLDEN_ROOT, str(root)))

    result = subprocess.run(
        [haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30, check=False
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[WARNING]" not in output, output
    assert "[ALERT]" not in output, output
