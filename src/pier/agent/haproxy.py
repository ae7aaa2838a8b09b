"""One amphora's HAProxy: check, start, reload, runtime changes and stop, in master-worker mode.

HAProxy runs as `haproxy -W -S <master socket> -p <pid file> -f haproxy.cfg` in a session of
its own, so it keeps serving when the agent stops or dies; a later agent finds it again by the
pid file. Not daemonized (`-D`): a daemon's master sends its output to /dev/null, and the
master's output is the only place HAProxy 2.6 says why a reload failed ("cannot bind socket").
It goes to `haproxy.out`, opened for appending, so the agent can empty it before each reload.
Every command runs with PIER_AMPHORA_DIR set to the amphora's directory, which the
controller's paths (`${PIER_AMPHORA_DIR}/stats.sock`) are written under.

Reloads go through the master CLI and are complete only when a new worker serves: the master
re-executes itself (and refuses connections meanwhile), forks a worker, which takes the
listening sockets over from the old one. The caller serializes them (dataplane.md: overlapping
reloads lose requests).
"""

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pier.agent.cli_socket import send_command
from pier.agent.layout import AmphoraDirectory
from pier.agent.master_status import MasterStatus, parse_show_proc
from pier.agent.process_table import is_running_config
from pier.agent.runtime_plan import RuntimeCommand
from pier.wire.agent_api import AMPHORA_DIR_ENV

log = logging.getLogger(__name__)
T = TypeVar("T")
POLL_S = 0.02


class HaproxyError(Exception):
    """HAProxy refused or failed something; `details` is its own output when there is some."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass(frozen=True, slots=True)
class HaproxyTimeouts:
    """Bounds, in seconds; generous, since the host may be busy with many amphorae."""

    check: float = 30.0
    start: float = 30.0
    reload: float = 30.0
    stop: float = 10.0
    # How long `del server` is retried while connections to the server remain; after that the
    # server stays in maintenance (no traffic) and its deletion is tried again later.
    drain: float = 0.5
    command: float = 5.0


class HaproxyProcess:
    def __init__(
        self,
        directory: AmphoraDirectory,
        *,
        binary: str,
        timeouts: HaproxyTimeouts,
        namespace: str | None = None,
    ) -> None:
        """With `namespace`, HAProxy runs in that network namespace (`ip netns exec`, which
        executes it in place: the pid is HAProxy's); its sockets are files, reachable from
        the agent's namespace all the same.
        """
        self.directory = directory
        self._binary = binary
        self._timeouts = timeouts
        self._namespace = namespace
        self._master_pid: int | None = None
        # The master this agent started, kept to reap it once it exits.
        self._master: subprocess.Popen[bytes] | None = None

    @property
    def _environment(self) -> dict[str, str]:
        return {**os.environ, AMPHORA_DIR_ENV: str(self.directory.run_path)}

    def check(self, config: Path) -> None:
        """`haproxy -c`; raises HaproxyError with HAProxy's output when it refuses `config`."""
        try:
            result = subprocess.run(
                [self._binary, "-c", "-f", str(config)],
                env=self._environment,
                cwd=self.directory.path,
                capture_output=True,
                text=True,
                timeout=self._timeouts.check,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise HaproxyError("Invalid configuration", "haproxy -c timed out") from error
        if result.returncode != 0:
            raise HaproxyError("Invalid configuration", (result.stdout + result.stderr).strip())

    def master_pid(self) -> int | None:
        """The master's pid while it runs this directory's configuration. The last one seen
        is tried first: it stays the same across reloads, and the pid file may be rewritten.
        """
        master = self._master  # read once: another thread may clear it
        if master is not None and master.poll() is not None:
            self._master = None  # reaped: it exited behind the agent's back
        for pid in (self._master_pid, self._pid_from_file()):
            if pid is not None and is_running_config(pid, self.directory.config):
                self._master_pid = pid
                return pid
        return None

    def _pid_from_file(self) -> int | None:
        try:
            return int(self.directory.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        return self.master_pid() is not None

    def start(self) -> None:
        """Start from haproxy.cfg and wait until a worker serves."""
        directory = self.directory
        in_namespace = [] if self._namespace is None else ["ip", "netns", "exec", self._namespace]
        command = [
            *in_namespace,
            self._binary,
            "-W",
            "-S",
            f"{directory.master_socket},mode,600",
            "-p",
            str(directory.pid_file),
            "-f",
            str(directory.config),
        ]
        with directory.output.open("ab") as output:
            output.truncate(0)
            self._master = subprocess.Popen(
                command,
                env=self._environment,
                cwd=directory.path,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        master = self._master
        status = self._until(lambda: self._started(master), self._timeouts.start)
        self._master_pid = master.pid
        if status is None:
            self.stop()
            raise HaproxyError("HAProxy started no worker in time", self._output())
        log.info(
            "haproxy started",
            extra={"amphora_dir": str(directory.path), "master_pid": master.pid},
        )

    def reload(self) -> None:
        """Reload haproxy.cfg; returns once a new worker serves. Raises HaproxyError when the
        master reports a failed reload or no new worker comes up in time: the old worker then
        still serves the previous configuration.
        """
        before = self._until(self._status, self._timeouts.reload)
        if before is None:
            raise HaproxyError("HAProxy's master does not answer")
        with contextlib.suppress(FileNotFoundError):
            os.truncate(self.directory.output, 0)
        if self._until(self._send_reload, self._timeouts.reload) is None:
            raise HaproxyError("HAProxy's master does not take the reload command")
        outcome = self._until(lambda: self._reload_outcome(before), self._timeouts.reload)
        if outcome is None:
            raise HaproxyError("No new HAProxy worker within the reload timeout", self._alerts())
        if outcome == 0:
            raise HaproxyError("HAProxy could not load the configuration", self._alerts())
        if self._until(lambda: self._worker_answers(outcome), self._timeouts.reload) is None:
            raise HaproxyError(f"The new HAProxy worker {outcome} does not answer")
        log.info(
            "haproxy reloaded",
            extra={"amphora_dir": str(self.directory.path), "worker_pid": outcome},
        )

    def apply_runtime(self, commands: Sequence[RuntimeCommand]) -> list[RuntimeCommand]:
        """Send the commands in order; raises HaproxyError at the first required one refused.
        Returns the commands that are not required and were refused.
        """
        undone = []
        for command in commands:
            answer = self._until_accepted(command)
            if answer == command.success:
                continue
            if command.required:
                raise HaproxyError("HAProxy refused a runtime change", f"{command.line}: {answer}")
            undone.append(command)
        return undone

    def server_state(self) -> str | None:
        """`show servers state` of the running worker; None when its stats socket is silent."""
        try:
            text = send_command(
                self.directory.stats_socket, "show servers state", self._timeouts.command
            )
        except OSError:
            return None
        return text if text.startswith("1") else None

    def stop(self) -> None:
        """SIGTERM to the master (it stops its workers), SIGKILL to what is left after the
        stop timeout. Idempotent.
        """
        pid = self.master_pid()
        if pid is None:
            self.directory.pid_file.unlink(missing_ok=True)
            return
        status = self._status()
        pids = {pid, *(status.pids if status is not None else ())}
        self._signal(pids, signal.SIGTERM)
        if self._until(lambda: self._gone(pids), self._timeouts.stop) is None:
            log.warning(
                "haproxy did not stop; killing it",
                extra={"amphora_dir": str(self.directory.path), "pids": sorted(pids)},
            )
            self._signal(pids, signal.SIGKILL)
            self._until(lambda: self._gone(pids), self._timeouts.stop)
        self.directory.pid_file.unlink(missing_ok=True)
        master, self._master = self._master, None
        if master is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                master.wait(timeout=self._timeouts.stop)
        log.info("haproxy stopped", extra={"amphora_dir": str(self.directory.path)})

    def _status(self) -> MasterStatus | None:
        try:
            answer = send_command(self.directory.master_socket, "show proc", self._timeouts.command)
            return parse_show_proc(answer)
        except (OSError, ValueError):
            return None  # re-executing, or not started yet

    def _started(self, master: "subprocess.Popen[bytes]") -> MasterStatus | None:
        if master.poll() is not None:
            raise HaproxyError("HAProxy did not start", self._output())
        status = self._status()
        if status is None or not status.workers:
            return None
        worker = status.workers[0].pid
        return status if self._worker_answers(worker) else None

    def _send_reload(self) -> bool | None:
        try:
            send_command(self.directory.master_socket, "reload", self._timeouts.command)
        except (ConnectionRefusedError, FileNotFoundError):
            return None  # the master is re-executing: try again
        except OSError:
            pass  # sent; the master closes the connection under us when it re-executes
        return True

    def _reload_outcome(self, before: MasterStatus) -> int | None:
        """The new worker's pid, 0 when the reload failed, None while undecided."""
        status = self._status()
        if status is None:
            return None
        if status.failed_since(before):
            return 0
        return status.serving_since(before)

    def _worker_answers(self, pid: int) -> bool | None:
        """Whether `pid` answers on the stats socket (shared with a still-running old worker
        for a moment). A configuration without that socket is trusted to `show proc`.
        """
        if not self.directory.stats_socket.exists():
            return True
        try:
            answer = send_command(self.directory.stats_socket, "show info", self._timeouts.command)
        except OSError:
            return None
        return True if f"\nPid: {pid}\n" in f"\n{answer}" else None

    def _runtime(self, command: RuntimeCommand) -> str:
        try:
            answer = send_command(self.directory.stats_socket, command.line, self._timeouts.command)
        except OSError as error:
            raise HaproxyError("HAProxy's stats socket does not answer", str(error)) from error
        return answer.strip()

    def _until_accepted(self, command: RuntimeCommand) -> str:
        """HAProxy's last answer; refusals are retried only for `retry_until_idle` commands."""
        bound = self._timeouts.drain if command.retry_until_idle else 0.0
        deadline = time.monotonic() + bound
        delay = POLL_S
        while True:
            answer = self._runtime(command)
            if answer == command.success or time.monotonic() >= deadline:
                return answer
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def _until(self, attempt: Callable[[], T | None], timeout: float) -> T | None:
        """`attempt()` until it returns something, polling, for at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        delay = POLL_S
        while True:
            result = attempt()
            if result is not None or time.monotonic() >= deadline:
                return result
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def _gone(self, pids: set[int]) -> bool | None:
        return None if any(is_running_config(p, self.directory.config) for p in pids) else True

    def _signal(self, pids: set[int], signum: signal.Signals) -> None:
        """Only to processes still running this configuration: a pid may have been reused."""
        for pid in pids:
            if is_running_config(pid, self.directory.config):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)

    def _alerts(self) -> str:
        """What HAProxy printed since the reload began: its alerts if any, else all of it."""
        output = self._output()
        alerts = [line for line in output.splitlines() if "[ALERT]" in line]
        return "\n".join(alerts) if alerts else output

    def _output(self) -> str:
        try:
            return self.directory.output.read_text(errors="replace").strip()
        except OSError:
            return ""
