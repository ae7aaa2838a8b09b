"""`pier up`'s own amphora host: it runs `pier agent` as a child process and restarts it if it
exits, so the `local` compute driver always has an agent to talk to.

The agent is a separate process on purpose: its HAProxy processes outlive it (and outlive
`pier up`), a restarted agent adopts them, and the controller reaches it over the same mutual
TLS as an agent on another host. Certificates come from Pier's own CA in `<data_dir>/certs`:
the agent's server certificate names 127.0.0.1, the controller's client certificate is the
only kind the agent accepts.
"""

import contextlib
import logging
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from pier.drivers.certs.local import LocalCertificateAuthority
from pier.drivers.compute.local import AgentEndpoint
from pier.settings import Settings

log = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0
# A first restart at once: while the agent is down its amphorae send no heartbeats, and a
# restart slower than the heartbeat timeout would look like dead amphorae.
RESTART_BACKOFF_S = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0)
SUPERVISE_POLL_S = 0.2
PREVIOUS_STOP_TIMEOUT_S = 10.0


class AgentStartError(RuntimeError):
    pass


class LocalAgent:
    def __init__(
        self,
        settings: Settings,
        *,
        heartbeat_port: int | None,
        heartbeat_key_file: Path | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._heartbeat_port = heartbeat_port
        self._heartbeat_key_file = heartbeat_key_file
        data_dir = settings.data_dir.resolve()
        self.state_dir = data_dir / "agent"
        self.log_path = data_dir / "agent.log"
        self._ca = LocalCertificateAuthority(data_dir / "certs", clock)
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._lifetime = timedelta(seconds=settings.cert_lifetime_seconds)
        self._renew_before = timedelta(seconds=settings.cert_renew_before_seconds)
        self.expirations: tuple[datetime, datetime] | None = None  # (server, client) not after
        self.endpoint = self._issue_certificates()

    def _issue_certificates(self) -> AgentEndpoint:
        """Both certificates, each reissued when missing or within `renew_before` of expiry."""
        self._ca.ensure()
        host = self._settings.agent_host
        server = self._ca.ensure_pair(
            "agent",
            server=True,
            sans=[host, "localhost"],
            lifetime=self._lifetime,
            renew_before=self._renew_before,
        )
        client = self._ca.ensure_pair(
            "controller",
            server=False,
            sans=["pier-controller"],
            lifetime=self._lifetime,
            renew_before=self._renew_before,
        )
        self._server_cert, self._server_key = server.cert, server.key
        self.expirations = (server.not_after, client.not_after)
        return AgentEndpoint(
            url=f"https://{host}:{self._settings.agent_port}",
            host_address=host,
            ca=self._ca.directory / "ca.pem",
            cert=client.cert,
            key=client.key,
            server_cert=server.cert,
        )

    def renew_certificates(self) -> bool:
        """Reissue what is due; True when something was (the agent must then be restarted
        to serve its new certificate, and the controller's client reload its own).
        """
        before = self.expirations
        self.endpoint = self._issue_certificates()
        return self.expirations != before

    def restart(self) -> None:
        """Stop and start the agent (its amphorae keep serving; the new one adopts them)."""
        self.stop()
        self.start()

    def _command(self) -> list[str]:
        settings = self._settings
        command = [
            sys.executable,
            "-m",
            "pier.cli.main",
            "agent",
            "--state-dir",
            str(self.state_dir),
            "--bind",
            settings.agent_host,
            "--port",
            str(settings.agent_port),
            "--cert",
            str(self._server_cert),
            "--key",
            str(self._server_key),
            "--ca",
            str(self.endpoint.ca),
        ]
        if settings.network_driver == "bridge":
            command.append("--amphora-netns")  # where the bridge driver plugs the ports
        if self._heartbeat_port is not None and self._heartbeat_key_file is not None:
            command += [
                "--heartbeat-target",
                f"{settings.health_bind}:{self._heartbeat_port}",
                "--heartbeat-key-file",
                str(self._heartbeat_key_file),
                "--heartbeat-interval",
                str(settings.heartbeat_interval_seconds),
            ]
        return command

    def start(self) -> AgentEndpoint:
        """Start the agent and wait until it answers over mutual TLS. An agent of this data
        dir left running by a `pier up` that was killed is stopped first (its amphorae keep
        serving; the new agent adopts them): it holds the port, and its heartbeats go to the
        health port of the `pier up` that is gone.
        """
        self._stop_previous()
        with self._lock:
            self._spawn()
        self._wait_ready()
        return self.endpoint

    def _spawn(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            # Its own session: a Ctrl-C on `pier up` reaches the agent only through stop().
            self._process = subprocess.Popen(
                self._command(),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        log.info("agent started pid=%s port=%s", self._process.pid, self._settings.agent_port)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        verify = ssl.create_default_context(cafile=str(self.endpoint.ca))
        verify.load_cert_chain(str(self.endpoint.cert), str(self.endpoint.key))
        while time.monotonic() < deadline:
            process = self._process
            if process is not None and process.poll() is not None:
                raise AgentStartError(
                    f"pier agent exited with {process.returncode}; see {self.log_path}"
                )
            try:
                if httpx.get(f"{self.endpoint.url}/", verify=verify, timeout=2.0).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AgentStartError(f"pier agent did not answer within {START_TIMEOUT_S}s")

    def _stop_previous(self) -> None:
        previous = _agents_of(self.state_dir)
        if not previous:
            return
        log.warning("stopping an agent left running", extra={"pids": previous})
        for signum in (signal.SIGTERM, signal.SIGKILL):
            for pid in previous:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)
            deadline = time.monotonic() + PREVIOUS_STOP_TIMEOUT_S
            while _agents_of(self.state_dir) and time.monotonic() < deadline:
                time.sleep(0.1)
            previous = _agents_of(self.state_dir)
            if not previous:
                return
        raise AgentStartError(f"an earlier agent of {self.state_dir} does not stop: {previous}")

    def supervise(self, stop: threading.Event) -> None:
        """Restart the agent whenever it exits, backing off while it keeps failing."""
        failures = 0
        while not stop.wait(SUPERVISE_POLL_S):
            process = self._process
            if process is None:
                continue
            if process.poll() is None:
                failures = 0
                continue
            delay = RESTART_BACKOFF_S[min(failures, len(RESTART_BACKOFF_S) - 1)]
            log.warning("agent exited code=%s; restarting in %.1fs", process.returncode, delay)
            failures += 1
            if stop.wait(delay):
                return
            with self._lock:
                if self._process is process:  # not stopped or restarted meanwhile
                    self._spawn()

    def stop(self) -> None:
        """Stop the agent only; the HAProxy processes it runs keep serving until deleted."""
        with self._lock:
            process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _agents_of(state_dir: Path) -> list[int]:
    """Pids of `pier agent` processes serving `state_dir` (not zombies), from /proc."""
    wanted = [b"--state-dir", str(state_dir).encode()]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[:1]
        except OSError:
            continue
        if b"agent" not in arguments or state in (["Z"], ["X"]):
            continue
        flags = list(zip(arguments, arguments[1:], strict=False))
        if tuple(wanted) in flags:
            found.append(int(entry.name))
    return found
