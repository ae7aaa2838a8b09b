"""Real processes for tests: start on a free loopback port, wait until healthy, always stop."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from pier.cli.processes import kill_processes_under

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vip_cidr() -> str:
    """A random /24 in 127.100.0.0-127.199.255.0, clear of the backends' 127.0.x addresses."""
    return f"127.{secrets.randbelow(100) + 100}.{secrets.randbelow(256)}.0/24"


@dataclass
class PierProcess:
    url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def clouds_yaml(self) -> Path:
        return self.data_dir / "clouds.yaml"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"pier up exited with {process.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        try:
            if httpx.get(f"{url}/", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"pier up not healthy after {timeout}s:\n{log_path.read_text()}")


@contextmanager
def pier_up(
    data_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> Iterator[PierProcess]:
    """`pier up` on free ports; on exit it is stopped and every amphora process it left
    (amphorae outlive `pier up` by design) is killed.
    """
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    # A VIP range of its own: Piers of tiers running side by side would otherwise hand out the
    # same VIP, and HAProxy (SO_REUSEPORT) would let two load balancers share one address.
    if "--loopback-vip-cidr" not in extra:
        extra = ("--loopback-vip-cidr", vip_cidr(), *extra)
    log_path = data_dir / "pier.log"
    command: Sequence[str] = [
        str(BIN / "pier"),
        "up",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--agent-port",
        str(free_port()),
        "--health-port",
        "0",
        *extra,
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log_path)
        yield PierProcess(url=url, data_dir=data_dir, log_path=log_path, process=process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        kill_processes_under(data_dir)
