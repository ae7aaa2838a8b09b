"""A real `pier agent` for integration tests: certificates from Pier's own CA, a subprocess on
a free loopback port, httpx clients with or without the controller's certificate, and a
teardown that also kills every HAProxy the agent left under its state dir.
"""

import contextlib
import os
import random
import shutil
import signal
import ssl
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx

from pier.agent.layout import amphora_directory
from pier.drivers.certs import CertificatePaths, LocalCertificateAuthority
from pier.wire.agent_api import PREFIX
from tests.support.processes import BIN, free_port

DAY = timedelta(days=1)
# Bounds for polling, not expectations: the shared test machine can stall anything.
DEADLINE_S = 30.0
T = TypeVar("T")


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server: CertificatePaths
    client: CertificatePaths
    stranger: CertificatePaths  # a client certificate from a CA the agent does not trust


def make_certificates(directory: Path) -> Certificates:
    def now() -> datetime:
        return datetime.now(UTC)

    ca = LocalCertificateAuthority(directory / "ca", now)
    other = LocalCertificateAuthority(directory / "other-ca", now)
    return Certificates(
        ca=ca.ensure(),
        server=ca.ensure_pair(
            "agent", server=True, sans=["127.0.0.1"], lifetime=DAY, renew_before=0 * DAY
        ),
        client=ca.ensure_pair(
            "controller", server=False, sans=[], lifetime=DAY, renew_before=0 * DAY
        ),
        stranger=other.ensure_pair(
            "stranger", server=False, sans=[], lifetime=DAY, renew_before=0 * DAY
        ),
    )


def wait_until(check: Callable[[], T | None], what: str, timeout: float = DEADLINE_S) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.05)


def loopback_network() -> str:
    """`127.91.x.y` with y < 200: an address of its own for each test, with room above it."""
    return f"127.91.{random.randint(0, 255)}.{random.randint(1, 199)}"


class AgentProcess:
    def __init__(
        self, certificates: Certificates, state_dir: Path, log_path: Path, *extra: str
    ) -> None:
        self.certificates = certificates
        self.extra = extra
        self.state_dir = state_dir
        self.log_path = log_path
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        certificates = self.certificates
        command = [
            str(BIN / "pier"),
            "agent",
            "--state-dir",
            str(self.state_dir),
            "--port",
            str(self.port),
            "--cert",
            str(certificates.server.cert),
            "--key",
            str(certificates.server.key),
            "--ca",
            str(certificates.ca),
            *self.extra,
        ]
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )
        with self.client() as client:
            wait_until(lambda: self._answers(client), f"pier agent answering:\n{self.log()}")

    def _answers(self, client: httpx.Client) -> bool | None:
        if self._process is not None and self._process.poll() is not None:
            raise AssertionError(f"pier agent exited:\n{self.log()}")
        try:
            return client.get(self.url + "/").status_code == 200 or None
        except httpx.TransportError:
            return None

    def kill(self) -> None:
        """SIGKILL, as a crash: the agent's session only; HAProxy runs in sessions of its own."""
        process = self._process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=DEADLINE_S)

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=DEADLINE_S)

    def client(self, *, cert: CertificatePaths | None = None, trust: bool = True) -> httpx.Client:
        """The controller's client by default; `cert` replaces its certificate."""
        cert = cert if cert is not None else self.certificates.client
        context = ssl.create_default_context(cafile=self.certificates.ca)
        context.load_cert_chain(str(cert.cert), str(cert.key))
        return httpx.Client(base_url=self.url + PREFIX, verify=context, timeout=60.0)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


def haproxy_pids(state_dir: Path) -> list[int]:
    """Every live HAProxy process whose command line names a file under `state_dir`."""
    return sorted(
        pid
        for pid, (arguments, _) in _processes().items()
        if arguments[0].endswith(b"haproxy") and _names(arguments, state_dir)
    )


def nginx_pids(state_dir: Path) -> list[int]:
    """nginx masters run under `state_dir` (UDP listeners), and their workers: the masters'
    process group, which outlives a master killed under it.
    """
    processes = _processes()
    masters = {
        pid
        for pid, (arguments, _) in processes.items()
        if arguments[0].startswith(b"nginx:") and _names(arguments, state_dir)
    }
    return sorted(
        pid for pid, (_, group) in processes.items() if pid in masters or group in masters
    )


def kill_processes(state_dir: Path) -> None:
    """Whatever a test left running under `state_dir`, HAProxy and nginx."""
    for pid in [*haproxy_pids(state_dir), *nginx_pids(state_dir)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: not (haproxy_pids(state_dir) or nginx_pids(state_dir)) or None,
        "processes under the state dir gone",
    )


def _names(arguments: list[bytes], state_dir: Path) -> bool:
    marker = str(state_dir).encode()
    return any(marker in argument for argument in arguments)


def _processes() -> dict[int, tuple[list[bytes], int]]:
    """Live processes (not zombies): pid -> (command line, process group)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if arguments[0] and stat[0] != "Z":
            found[int(entry.name)] = (arguments, int(stat[2]))
    return found


def remove_aliases(state_dir: Path) -> None:
    """The short socket aliases a deep state dir gets (pier.agent.layout)."""
    directory = amphora_directory(state_dir, "any")
    if directory.run_path != directory.path:
        shutil.rmtree(directory.run_path.parent, ignore_errors=True)
