"""A real HAProxy for data-plane tests, run the way the agent runs it.

    with running_haproxy(render(spec), [(vip, port)]) as haproxy:
        haproxy.wait_for_servers({("pool-1:listener-1", "member-1"): "DOWN"})

The configuration is rendered with the agent's `${PIER_AMPHORA_DIR}` paths; HAProxy runs in
master-worker mode (`-W -S <dir>/master.sock`) in its own process group, with
PIER_AMPHORA_DIR set to a fresh directory that holds what the agent would put there (the
server-state file, the PING check script). It is always stopped, the whole group, and its
output is attached to every failure this module raises. Without haproxy the test is skipped,
except in CI (CI=true), where that is a failure.
"""

import contextlib
import csv
import functools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from pier.amphora import HaproxyLimits, render_haproxy_config
from pier.amphora.bundle import AGENT_PATHS
from pier.domain.spec import LoadBalancerSpec
from pier.wire.agent_api import AMPHORA_DIR_ENV

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
# What the agent installs as `ping-check`: HAProxy's external-check arguments are
# <proxy_addr> <proxy_port> <server_addr> <server_port>; one ping of the server, one second.
PING_CHECK = '#!/bin/sh\nexec ping -c 1 -W 1 -n -q "$3" >/dev/null 2>&1\n'
# This host allows 20000 file descriptors; HAProxy needs about two per connection.
TEST_LIMITS = HaproxyLimits(max_connections=2000, hard_stop_after_s=5)
# Generous: the shared test machine can stall any process for seconds.
DEADLINE_S = 30.0

T = TypeVar("T")

__all__ = ["HAPROXY", "RunningHaproxy", "render", "running_haproxy", "wait_until"]


def render(spec: LoadBalancerSpec) -> str:
    """The configuration the agent would get for `spec` (its paths, this host's limits)."""
    return render_haproxy_config(spec, paths=AGENT_PATHS, limits=TEST_LIMITS).text


def wait_until(
    probe: Callable[[], T | None], what: str, timeout: float = DEADLINE_S, interval: float = 0.05
) -> T:
    """Poll `probe` until it returns something other than None (or False); raise after
    `timeout` seconds, naming `what` was awaited.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class RunningHaproxy:
    """One running HAProxy: its directory, its stats socket, its output."""

    def __init__(self, directory: Path, process: subprocess.Popen[bytes]) -> None:
        self.directory = directory
        self.process = process

    @property
    def log_path(self) -> Path:
        return self.directory / "haproxy.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def command(self, line: str, timeout: float = 10.0) -> str:
        """One runtime API command on the stats socket, and its whole answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(self.directory / "stats.sock"))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def answers(self) -> bool:
        """Whether the stats socket is there and answers (the worker creates it after the
        listeners accept, which they do as soon as the master has bound them).
        """
        try:
            return self.command("show info").startswith("Name: HAProxy")
        except OSError:
            return False

    def stats(self) -> list[dict[str, str]]:
        """`show stat` as rows keyed by its CSV header (pxname, svname, status, scur, ...)."""
        text = self.command("show stat").removeprefix("# ")
        return list(csv.DictReader(line for line in text.splitlines() if line))

    def stat(self, proxy: str, name: str) -> dict[str, str]:
        """The row of one server, or of a proxy's FRONTEND/BACKEND line."""
        for row in self.stats():
            if row["pxname"] == proxy and row["svname"] == name:
                return row
        raise KeyError(f"no stats row {proxy}/{name}")

    def server_status(self, backend: str, server: str) -> str:
        return self.stat(backend, server)["status"]

    def wait_for_servers(
        self, wanted: Mapping[tuple[str, str], str], timeout: float = DEADLINE_S
    ) -> dict[tuple[str, str], list[str]]:
        """Wait until each (backend, server) has exactly its status in `show stat` ("UP",
        "DOWN", "MAINT", not a transition such as "UP 1/3"). Returns every status each one
        showed on the way, in order, transitions included.
        """
        seen: dict[tuple[str, str], list[str]] = {key: [] for key in wanted}

        def reached() -> bool:
            current = {(r["pxname"], r["svname"]): r["status"] for r in self.stats()}
            for key, statuses in seen.items():
                status = current.get(key, "(absent)")
                if not statuses or statuses[-1] != status:
                    statuses.append(status)
            return all(seen[key][-1] == status for key, status in wanted.items())

        self.wait(reached, f"servers to be {dict(wanted)}", timeout)
        return seen

    def wait(self, probe: Callable[[], T | None], what: str, timeout: float = DEADLINE_S) -> T:
        """`wait_until` that fails early if HAProxy died, with its output in the error."""

        def alive_probe() -> T | None:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.process.returncode}:\n{self.log()}")
            return probe()

        try:
            return wait_until(alive_probe, what, timeout)
        except TimeoutError as error:
            raise TimeoutError(f"{error}\nstatuses: {self._statuses()}\n{self.log()}") from None

    def _statuses(self) -> str:
        try:
            rows = self.stats()
        except OSError as error:
            return f"(no stats: {error})"
        return ", ".join(f"{r['pxname']}/{r['svname']}={r['status']}" for r in rows)


def _prepare(directory: Path, config: str) -> Path:
    # What `show servers state` writes for a fresh amphora: the format version, no servers.
    (directory / "server-state").write_text("1\n")
    ping = directory / "ping-check"
    ping.write_text(PING_CHECK)
    ping.chmod(0o755)
    config_path = directory / "haproxy.cfg"
    config_path.write_text(config)
    return config_path


def _accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1.0):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group (master, worker, external checks), SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def running_haproxy(
    config: str, frontends: Sequence[tuple[str, int]] = ()
) -> Iterator[RunningHaproxy]:
    """Run `config` until the block ends; ready once every (address, port) in `frontends`
    accepts a connection and the stats socket answers.
    """
    if not Path(HAPROXY).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("haproxy is not installed; CI must run the traffic tests")
        pytest.skip("haproxy is not installed (apt-get install -y haproxy)")
    # Unix socket paths are limited to 107 bytes: a short directory of our own, not tmp_path.
    directory = Path(tempfile.mkdtemp(prefix="pier-haproxy-"))
    try:
        config_path = _prepare(directory, config)
        with (directory / "haproxy.log").open("wb") as log_file:
            process = subprocess.Popen(
                [HAPROXY, "-W", "-S", str(directory / "master.sock"), "-f", str(config_path)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, AMPHORA_DIR_ENV: str(directory)},
                start_new_session=True,
            )
        haproxy = RunningHaproxy(directory, process)
        try:
            for address, port in frontends:
                haproxy.wait(functools.partial(_accepts, address, port), f"{address}:{port}")
            haproxy.wait(haproxy.answers, "the stats socket")
            yield haproxy
        finally:
            _stop(process)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
