"""How a new haproxy.cfg reaches a running HAProxy: the cheapest way that is exact, and back
to the last good configuration when it fails.

In order: nothing when the text is the same; the runtime API when only servers of existing
backends changed (no new processes, dataplane.md), the file written afterwards because it
stays authoritative; otherwise a seamless reload, from a server-state dump aligned with the
new file. A reload whose new worker does not come up is followed by a reload of the last good
file, so the old configuration serves and the push is refused.
"""

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from pier.agent.errors import ApplyFailed, ConfigRejected
from pier.agent.haproxy import HaproxyError
from pier.agent.layout import AmphoraDirectory, ensure_files, write_atomically
from pier.agent.runtime_plan import RuntimeCommand, plan_runtime_changes
from pier.agent.server_state import align_server_state
from pier.wire.agent_api import ApplyKind

log = logging.getLogger(__name__)


class Haproxy(Protocol):
    """`pier.agent.haproxy.HaproxyProcess`; every method raises HaproxyError on failure."""

    def check(self, config: Path) -> None:
        """Validate a configuration file without touching what runs."""

    def running(self) -> bool: ...

    def master_pid(self) -> int | None:
        """The master's pid while it runs this configuration (stable across reloads)."""

    def start(self) -> None:
        """Start from the directory's haproxy.cfg; returns once a worker serves."""

    def reload(self) -> None:
        """Reload haproxy.cfg; returns once a new worker serves (else the old one still does)."""

    def apply_runtime(self, commands: Sequence[RuntimeCommand]) -> list[RuntimeCommand]:
        """Send runtime-API commands in order; raises at the first required one refused.
        Returns the optional ones refused (a server to delete that still has connections).
        """

    def server_state(self) -> str | None:
        """`show servers state` of the running worker, None when it does not answer."""

    def stop(self) -> None:
        """Stop every process of this amphora's HAProxy; idempotent."""


class HaproxyChanges:
    """The caller serializes calls (one push at a time per amphora)."""

    def __init__(
        self, directory: AmphoraDirectory, haproxy: Haproxy, log_fields: dict[str, object]
    ) -> None:
        self.directory = directory
        self.haproxy = haproxy
        self._log = log_fields
        # Runtime commands to try again at the next change (deletions of drained servers).
        self._leftovers: list[RuntimeCommand] = []

    def running(self) -> bool:
        return self.haproxy.running()

    def master_pid(self) -> int | None:
        return self.haproxy.master_pid()

    def stop(self) -> None:
        self.haproxy.stop()
        self._leftovers = []

    def check(self, text: str) -> None:
        """`haproxy -c` on the text as the candidate file; ConfigRejected with its output."""
        ensure_files(self.directory)
        write_atomically(self.directory.candidate, text)
        try:
            self.haproxy.check(self.directory.candidate)
        except HaproxyError as error:
            self.forget_candidate()
            raise ConfigRejected(error.message, error.details) from None

    def forget_candidate(self) -> None:
        self.directory.candidate.unlink(missing_ok=True)

    def apply(self, text: str | None) -> ApplyKind:
        """Make HAProxy run `text` (checked first), or nothing when it is None. Raises
        ConfigRejected when the last good configuration still serves, ApplyFailed when not
        even that could be brought back.
        """
        directory = self.directory
        if text is None:
            self.haproxy.stop()
            self._leftovers = []
            directory.config.unlink(missing_ok=True)
            return ApplyKind.STOP
        current = _read(directory.config)
        if not self.haproxy.running():
            return self._start(current)
        if current == text:
            self.forget_candidate()
            return ApplyKind.UNCHANGED
        commands = None if current is None else plan_runtime_changes(current, text)
        if commands is not None:
            retries = [replace(c, retry_until_idle=False) for c in self._leftovers]
            try:
                self._leftovers = self.haproxy.apply_runtime([*retries, *commands])
            except HaproxyError as error:
                log.warning(
                    "runtime change refused; reloading instead",
                    extra={**self._log, "reason": error.details or error.message},
                )
            else:
                directory.candidate.replace(directory.config)
                return ApplyKind.RUNTIME
        self._reload(current)
        return ApplyKind.RELOAD

    def resume(self, text: str | None) -> None:
        """For an agent that (re)starts: run `text`, the configuration last applied, starting
        HAProxy if it died and reloading a file that a crash left half-applied.
        """
        if text is None:
            self.haproxy.stop()
            return
        ensure_files(self.directory)
        if not self.haproxy.running():
            write_atomically(self.directory.config, text)
            self.haproxy.start()
            log.info("haproxy restarted", extra=self._log)
        elif _read(self.directory.config) != text:
            self._save_server_state(text)
            write_atomically(self.directory.config, text)
            self.haproxy.reload()
            log.info("haproxy reloaded to its recorded configuration", extra=self._log)

    def _start(self, previous: str | None) -> ApplyKind:
        directory = self.directory
        self._leftovers = []
        directory.candidate.replace(directory.config)
        try:
            self.haproxy.start()
        except HaproxyError as error:
            _restore(directory.config, previous)
            raise ConfigRejected("HAProxy could not start the configuration", _why(error)) from None
        return ApplyKind.START

    def _reload(self, previous: str | None) -> None:
        """Reload into the candidate; on failure reload `previous` (the last good file).
        Either way the new worker has only the file's servers: no leftovers to retry.
        """
        directory = self.directory
        self._leftovers = []
        self._save_server_state(directory.candidate.read_text())
        if previous is not None:
            write_atomically(directory.last_good, previous)
        directory.candidate.replace(directory.config)
        try:
            self.haproxy.reload()
            return
        except HaproxyError as error:
            failure = _why(error)
        log.warning("reload failed; back to the last good configuration", extra=self._log)
        _restore(directory.config, previous)
        if previous is not None:
            self._save_server_state(previous)
        try:
            self.haproxy.reload()
        except HaproxyError as error:
            raise ApplyFailed(
                "HAProxy failed to reload, and to reload the last good configuration",
                f"{failure}\nrollback: {_why(error)}",
            ) from None
        raise ConfigRejected(
            "HAProxy could not load the configuration; the last good one serves", failure
        )

    def _save_server_state(self, config: str) -> None:
        dump = self.haproxy.server_state()
        if dump is None:
            log.warning("no server state to carry over the reload", extra=self._log)
            return
        write_atomically(self.directory.server_state, align_server_state(dump, config))


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _restore(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        write_atomically(path, text)


def _why(error: HaproxyError) -> str:
    return f"{error.message}: {error.details}" if error.details else error.message
