"""Every golden nginx UDP configuration passes the real `nginx -t`, without a warning, and still
does once the agent has marked every checked member `down` (all members down is a state the
health checks can reach).

`nginx -t` binds the listening addresses (an address in use is tolerated), so the golden VIPs are
on loopback. It runs under a temporary prefix, where the relative pid and error log paths land.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pier.wire.udp_checks import mark_down, parse_udp_records
from tests.unit.amphora.test_nginx_config import SCENARIOS

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parents[2] / "unit" / "amphora" / "golden_udp"
NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None
)
STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")


@pytest.fixture(scope="module")
def nginx() -> str:
    if NGINX is None or not STREAM_MODULE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("nginx with the stream module is not installed; CI must check goldens")
        pytest.skip("nginx is not installed (apt-get install -y nginx-light libnginx-mod-stream)")
    return NGINX


def nginx_check(nginx: str, text: str, prefix: Path) -> str:
    prefix.mkdir()
    config = prefix / "nginx.conf"
    config.write_text(text)
    result = subprocess.run(
        [nginx, "-t", "-p", f"{prefix}/", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[warn]" not in output, output
    assert "[emerg]" not in output, output
    return output


def test_there_are_golden_files() -> None:
    assert len(list(GOLDEN.glob("*.conf"))) >= len(SCENARIOS) > 0


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.conf")), ids=lambda path: path.stem)
def test_nginx_accepts_the_golden_file(golden: Path, nginx: str, tmp_path: Path) -> None:
    output = nginx_check(nginx, golden.read_text(), tmp_path / "amphora")
    assert "test is successful" in output
    # The relative paths resolved under the prefix, not in a system directory.
    assert (tmp_path / "amphora" / "nginx-error.log").exists()


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.conf")), ids=lambda path: path.stem)
def test_nginx_accepts_the_golden_file_with_every_member_down(
    golden: Path, nginx: str, tmp_path: Path
) -> None:
    text = golden.read_text()
    every_member = {member.ref for member in parse_udp_records(text).members}
    served = mark_down(text, every_member)
    nginx_check(nginx, served, tmp_path / "amphora")
