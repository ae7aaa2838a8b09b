"""The agent's UDP data plane: one nginx (stream module) per amphora directory, and the health
checks nginx lacks, whose results become `down` on `server` lines and a reload.

Files in the directory: `desired.conf` (what the controller pushed), `nginx.conf` (what nginx
serves: the pushed text plus `down` for members that failed their checks), `nginx.pid` and
`nginx-error.log` (named by the configuration, relative to `nginx -p <directory>/`), `nginx.out`
(nginx's own output) and `check/`, where `nginx -t` runs under a prefix of its own: `nginx -t`
truncates the pid file it names, so it must never test against the running one.
"""

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pier.agent.udp_health import HealthChecker, MemberHealth, member_status
from pier.agent.udp_nginx import (
    children_of,
    command_line,
    file_size,
    is_master_of,
    nginx_group,
    read_from,
    read_pid,
    read_text,
    tail,
    write_atomically,
)
from pier.wire.udp_checks import (
    ERROR_LOG,
    PID_FILE,
    MemberRef,
    UdpRecords,
    find_marked_down,
    mark_down,
    parse_udp_records,
)

LOG = logging.getLogger(__name__)

NGINX = "/usr/sbin/nginx"
DESIRED = "desired.conf"
SERVED = "nginx.conf"
OUTPUT = "nginx.out"
CHECK_DIR = "check"
_POLL_S = 0.02
# The title an nginx worker takes once it has closed its listening sockets.
SHUTTING_DOWN = "worker process is shutting down"
# Every nginx master this agent process started, by pid, so that the one that reaps it is
# always its Popen, even after the UdpProxy that started it was released (then adopted).
_CHILDREN: dict[int, "subprocess.Popen[bytes]"] = {}


class UdpConfigError(Exception):
    """nginx refused a configuration (or failed to run it); the previous one still serves."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class UdpProxy:
    """Runs, reloads and stops the nginx of one amphora directory. Thread-safe.

    nginx is started in a session of its own, so it outlives the agent; a new `UdpProxy` on
    the same directory adopts the nginx its pid file names, and resumes its health checks.
    """

    def __init__(
        self,
        directory: Path,
        *,
        nginx: str = NGINX,
        start_timeout: float = 10.0,
        stop_timeout: float = 2.0,
    ) -> None:
        self._directory = directory.resolve()
        self._directory.mkdir(parents=True, exist_ok=True)
        self._nginx = nginx
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._desired: str | None = None
        self._records: UdpRecords | None = None
        self._served: str | None = None
        self._checker: HealthChecker | None = None
        self._adopt()

    @property
    def _log_fields(self) -> dict[str, object]:
        return {"amphora_dir": str(self._directory), "pid": self._pid}

    def apply(self, conf: str | None) -> None:
        """Serve `conf` (None stops nginx). Validated with `nginx -t` first; on UdpConfigError
        the configuration running before still runs. Applying the running text again only
        starts nginx if it died.
        """
        if conf is None:
            self.stop()
            return
        with self._lock:
            if conf == self._desired and self._alive():
                return
            try:
                records = parse_udp_records(conf)
            except ValueError as error:
                raise UdpConfigError("unreadable UDP configuration", str(error)) from None
            if f"pid {PID_FILE};" not in conf.splitlines():
                raise UdpConfigError("refused", f"the configuration must say `pid {PID_FILE};`")
            health = self._carried_health(records)
            served = mark_down(conf, {ref for ref, state in health.items() if not state.up})
            self._validate(served)
            self._install(served)
            write_atomically(self._directory / DESIRED, conf)
            self._desired, self._records = conf, records
            stale, self._checker = self._checker, self._new_checker(records, health)
        LOG.info("UDP configuration applied", extra=self._log_fields)
        if stale is not None:
            stale.stop()

    def stop(self) -> None:
        """Stop the health checks and nginx (SIGQUIT, then SIGKILL to its process group)."""
        with self._lock:
            stale, self._checker = self._checker, None
            self._terminate()
            self._desired = self._records = self._served = None
            (self._directory / DESIRED).unlink(missing_ok=True)
        if stale is not None:
            stale.stop()

    def release(self) -> None:
        """Stop the health checks and forget nginx, which keeps running: for an agent that
        shuts down, so that the next one adopts it.
        """
        with self._lock:
            stale, self._checker = self._checker, None
            self._pid = None
            self._desired = self._records = self._served = None
        if stale is not None:
            stale.stop()

    def running(self) -> bool:
        with self._lock:
            return self._alive()

    def member_statuses(self) -> dict[str, dict[str, str]]:
        """Pool key (`<pool_id>:<listener_id>`) -> member id -> heartbeat status. DOWN means
        nginx no longer sends to the member, so the report follows what nginx does.
        """
        with self._lock:
            if self._records is None or self._served is None or not self._alive():
                return {}
            down = find_marked_down(self._served)
            statuses: dict[str, dict[str, str]] = {}
            for member in self._records.members:
                status = member_status(member, marked_down=member.ref in down)
                statuses.setdefault(member.ref.pool_key, {})[member.ref.member_id] = status
            return statuses

    # --- health -------------------------------------------------------------------------

    def _carried_health(self, records: UdpRecords) -> dict[MemberRef, MemberHealth]:
        """The health of members whose check did not change; new checks start UP."""
        if self._records is None:
            return {}
        before = {m.ref: m.check for m in self._records.members}
        if self._checker is not None:
            health = self._checker.health()
        else:  # adopted, or checks resumed from the served file
            health = {ref: MemberHealth(up=False) for ref in find_marked_down(self._served or "")}
        return {
            m.ref: health[m.ref]
            for m in records.members
            if m.check is not None and m.ref in health and before.get(m.ref) == m.check
        }

    def _new_checker(
        self, records: UdpRecords, health: dict[MemberRef, MemberHealth]
    ) -> HealthChecker | None:
        if not any(member.check is not None for member in records.members):
            return None
        checker = HealthChecker(records.members, self._on_result, initial=health)
        checker.start()
        return checker

    def _on_result(self, checker: HealthChecker) -> None:
        """Serve the checks' verdict: mark failed members `down` and reload when that changes
        the served text (after a failed reload, the next result tries again).
        """
        with self._lock:
            if checker is not self._checker or self._desired is None or not self._alive():
                return
            served = mark_down(self._desired, checker.down())
            if served == self._served:
                return
            try:
                self._install(served)
            except UdpConfigError as error:
                LOG.error(
                    "UDP health change not applied: %s",
                    error,
                    extra={**self._log_fields, "details": error.details},
                )

    # --- nginx --------------------------------------------------------------------------

    def _validate(self, served: str) -> None:
        check_dir = self._directory / CHECK_DIR
        check_dir.mkdir(exist_ok=True)
        conf = check_dir / SERVED
        conf.write_text(served)
        result = subprocess.run(  # noqa: S603 - a fixed binary, our own file
            [self._nginx, "-t", "-q", "-p", f"{check_dir}/", "-c", str(conf)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            details = (result.stdout + result.stderr).strip()
            LOG.warning("nginx rejected a UDP configuration", extra={**self._log_fields})
            raise UdpConfigError("nginx rejected the UDP configuration", details)

    def _install(self, served: str) -> None:
        """Write `served` and make nginx run it; on failure a running nginx keeps (and the
        file returns to) what it ran before.
        """
        path = self._directory / SERVED
        previous = self._served
        write_atomically(path, served)
        try:
            if self._pid is not None and self._alive():
                self._reload(self._pid)
            else:
                self._start()
        except UdpConfigError:
            if previous is not None and self._alive():
                write_atomically(path, previous)
            raise
        self._served = served

    def _start(self) -> None:
        (self._directory / PID_FILE).unlink(missing_ok=True)
        with (self._directory / OUTPUT).open("ab") as output:
            process = subprocess.Popen(  # noqa: S603 - a fixed binary, our own file
                [
                    self._nginx,
                    *("-p", f"{self._directory}/", "-c", str(self._directory / SERVED)),
                    *("-g", "daemon off;"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._pid = pid = process.pid
        _CHILDREN[pid] = process

        def up() -> bool:
            return read_pid(self._directory) == pid and bool(children_of(pid))

        if not self._wait(lambda: up() or process.poll() is not None) or not up():
            details = tail(self._directory / OUTPUT) + tail(self._directory / ERROR_LOG)
            self._terminate()
            raise UdpConfigError("nginx did not start", details)
        LOG.info("nginx started", extra=self._log_fields)

    def _reload(self, pid: int) -> None:
        """SIGHUP, then wait until a new worker runs and every old one has stopped reading the
        listening sockets: only then does the new file decide where each datagram goes (the
        master lets old workers serve on for 100 ms after starting new ones). nginx keeps its
        old workers when the new file fails (a port taken, an address gone).
        """
        log = self._directory / ERROR_LOG
        old_workers, offset = children_of(pid), file_size(log)
        os.kill(pid, signal.SIGHUP)
        failed = False

        def settled() -> bool:
            nonlocal failed
            failed = "[emerg]" in read_from(log, offset) or not self._alive()
            workers = children_of(pid)
            retired = all(
                worker not in workers or command_line(worker).endswith(SHUTTING_DOWN)
                for worker in old_workers
            )
            return failed or (bool(workers - old_workers) and retired)

        if not self._wait(settled) or failed:
            raise UdpConfigError("nginx did not reload", read_from(log, offset))
        LOG.info("nginx reloaded", extra=self._log_fields)

    def _terminate(self) -> None:
        pid = self._pid
        if pid is None:
            return
        if self._alive():
            os.kill(pid, signal.SIGQUIT)
            if not self._wait(lambda: not self._alive(), self._stop_timeout):
                LOG.info("nginx still has UDP sessions: killing it", extra=self._log_fields)
        # Whatever is left of it: the master and its workers share a process group (the
        # session it was started in); only nginx processes are signalled, in case the pid
        # has been reused since.
        for leftover in nginx_group(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(leftover, signal.SIGKILL)
        self._wait(lambda: not self._alive() and not nginx_group(pid), self._stop_timeout)
        LOG.info("nginx stopped", extra=self._log_fields)
        self._pid = None

    def _alive(self) -> bool:
        """Whether our nginx master runs; reaps it when it was our child and has exited."""
        if self._pid is None:
            return False
        child = _CHILDREN.get(self._pid)
        if child is None:
            return is_master_of(self._pid, self._directory)
        if child.poll() is None:
            return True
        _CHILDREN.pop(self._pid, None)
        return False

    def _wait(self, done: Callable[[], object], timeout: float | None = None) -> bool:
        deadline = time.monotonic() + (self._start_timeout if timeout is None else timeout)
        while not done():
            if time.monotonic() > deadline:
                return False
            time.sleep(_POLL_S)
        return True

    def _adopt(self) -> None:
        pid = read_pid(self._directory)
        if pid is None or not is_master_of(pid, self._directory):
            return
        self._pid = pid
        self._served = read_text(self._directory / SERVED)
        desired = read_text(self._directory / DESIRED)
        try:
            self._records = None if desired is None else parse_udp_records(desired)
        except ValueError:
            return
        self._desired = desired
        LOG.info("nginx adopted", extra=self._log_fields)
        if self._records is not None:
            self._checker = self._new_checker(self._records, self._carried_health(self._records))
