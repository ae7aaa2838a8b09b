"""One amphora on this host: the configuration it was given, and the processes that serve it.

A push is applied whole or not at all. `haproxy -c` checks the HAProxy part and nginx checks
the UDP part before anything changes; then HAProxy changes in the cheapest way that is exact:
nothing (same text), the runtime API (only servers changed), or a serialized seamless reload.
A reload whose new worker does not come up is rolled back to the last good configuration.
Pushes to one amphora run one at a time (its lock); reads never wait for them.
"""

import logging
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from pier.agent.errors import AmphoraNotFound, ApplyFailed, ConfigRejected
from pier.agent.haproxy import HaproxyError
from pier.agent.layout import AmphoraDirectory, ensure_files, remove_alias, write_atomically
from pier.agent.runtime_plan import RuntimeCommand, plan_runtime_changes
from pier.agent.server_state import align_server_state
from pier.agent.udp import UdpConfigError
from pier.wire.agent_api import (
    AmphoraConfig,
    AmphoraRunState,
    AmphoraState,
    ApplyKind,
    ApplyResult,
    version_of,
)

log = logging.getLogger(__name__)


class Haproxy(Protocol):
    """`pier.agent.haproxy.HaproxyProcess`; every method raises HaproxyError on failure."""

    def check(self, config: Path) -> None:
        """Validate a configuration file without touching what runs."""

    def running(self) -> bool: ...

    def start(self) -> None:
        """Start from the directory's haproxy.cfg; returns once a worker serves."""

    def reload(self) -> None:
        """Reload haproxy.cfg; returns once a new worker serves (else the old one still does)."""

    def apply_runtime(self, commands: Sequence[RuntimeCommand]) -> None:
        """Send runtime-API commands in order; stops at the first one refused."""

    def server_state(self) -> str | None:
        """`show servers state` of the running worker, None when it does not answer."""

    def stop(self) -> None:
        """Stop every process of this amphora's HAProxy; idempotent."""


class UdpService(Protocol):
    """`pier.agent.udp.UdpProxy`: nginx for UDP listeners; `apply` raises UdpConfigError."""

    def apply(self, conf: str | None) -> None: ...

    def stop(self) -> None: ...

    def release(self) -> None: ...

    def running(self) -> bool: ...


class Amphora:
    def __init__(
        self,
        *,
        amphora_id: str,
        loadbalancer_id: str,
        directory: AmphoraDirectory,
        haproxy: Haproxy,
        udp_factory: Callable[[Path], UdpService],
    ) -> None:
        self.amphora_id = amphora_id
        self.loadbalancer_id = loadbalancer_id
        self.directory = directory
        self._haproxy = haproxy
        self._udp_factory = udp_factory
        self._udp: UdpService | None = None
        self._lock = threading.Lock()
        self._deleted = False
        self._bundle: AmphoraConfig | None = None
        self._version: str | None = None
        self._last_error: str | None = None
        text = _read(directory.bundle)
        if text is not None:
            self._bundle, self._version = AmphoraConfig.from_text(text), version_of(text)
        if directory.udp.exists():
            self._udp = udp_factory(directory.udp)  # adopts a running nginx

    @property
    def _log(self) -> dict[str, object]:
        return {"amphora_id": self.amphora_id, "loadbalancer_id": self.loadbalancer_id}

    @property
    def haproxy_running(self) -> bool:
        return self._haproxy.running()

    def state(self) -> AmphoraState:
        problem = self._problem()
        return AmphoraState(
            amphora_id=self.amphora_id,
            compute_id=self.amphora_id,
            loadbalancer_id=self.loadbalancer_id,
            state=AmphoraRunState.ERROR if problem else AmphoraRunState.RUNNING,
            version=self._version,
            last_error=problem or self._last_error,
        )

    def apply(self, text: str) -> ApplyResult:
        """Raises ConfigRejected (the running configuration stays) or ApplyFailed."""
        try:
            bundle = AmphoraConfig.from_text(text)
        except ValueError as error:
            raise ConfigRejected("Invalid configuration document", str(error)) from None
        if bundle.loadbalancer_id != self.loadbalancer_id:
            raise ConfigRejected(
                "Configuration for another load balancer",
                f"amphora {self.amphora_id} serves {self.loadbalancer_id}, "
                f"not {bundle.loadbalancer_id}",
            )
        version = version_of(text)
        with self._lock:
            if self._deleted:
                raise AmphoraNotFound("Amphora Not Found", f"No amphora {self.amphora_id}")
            if version == self._version and self._problem() is None:
                return ApplyResult(version=version, applied=ApplyKind.UNCHANGED)
            try:
                kind = self._apply(bundle)
            except (ConfigRejected, ApplyFailed) as error:
                self._last_error = _sentence(error.message, error.details)
                log.warning("configuration refused", extra={**self._log, "version": version})
                raise
            write_atomically(self.directory.bundle, text)
            self._bundle, self._version, self._last_error = bundle, version, None
        log.info("configuration applied", extra={**self._log, "version": version, "applied": kind})
        return ApplyResult(version=version, applied=kind)

    def resume(self) -> None:
        """For an agent that (re)starts: make what runs match the recorded configuration,
        restarting what died (a host reboot) and reloading a file a crash left half-applied.
        """
        with self._lock:
            bundle = self._bundle
            if bundle is None:
                return
            try:
                self._resume_haproxy(bundle.haproxy)
                if bundle.udp is not None:
                    self._udp_proxy().apply(bundle.udp)
            except (HaproxyError, UdpConfigError) as error:
                self._last_error = f"Could not resume: {error}"
                log.error("amphora not resumed", extra={**self._log, "error": str(error)})

    def delete(self) -> None:
        """Stop everything and remove the directory. Idempotent."""
        with self._lock:
            self._deleted = True
            self._haproxy.stop()
            if self._udp is not None:
                self._udp.stop()
            remove_alias(self.directory)
            shutil.rmtree(self.directory.path, ignore_errors=True)
        log.info("amphora deleted", extra=self._log)

    def release(self) -> None:
        """For an agent that stops: leave the processes running for the next agent."""
        if self._udp is not None:
            self._udp.release()

    def _problem(self) -> str | None:
        bundle = self._bundle
        if bundle is None:
            return None
        if bundle.haproxy is not None and not self._haproxy.running():
            return "HAProxy is not running"
        if bundle.udp is not None and (self._udp is None or not self._udp.running()):
            return "nginx (UDP listeners) is not running"
        return None

    def _apply(self, bundle: AmphoraConfig) -> ApplyKind:
        ensure_files(self.directory)
        if bundle.haproxy is not None:
            write_atomically(self.directory.candidate, bundle.haproxy)
            try:
                self._haproxy.check(self.directory.candidate)
            except HaproxyError as error:
                self.directory.candidate.unlink(missing_ok=True)
                raise ConfigRejected(error.message, error.details) from None
        udp_kind = self._apply_udp(bundle.udp)
        haproxy_kind = self._apply_haproxy(bundle.haproxy)
        return udp_kind if haproxy_kind is ApplyKind.UNCHANGED else haproxy_kind

    def _apply_udp(self, conf: str | None) -> ApplyKind:
        if conf is None and self._udp is None:
            return ApplyKind.UNCHANGED
        udp = self._udp_proxy()
        was_running = udp.running()
        try:
            udp.apply(conf)
        except UdpConfigError as error:
            self.directory.candidate.unlink(missing_ok=True)
            raise ConfigRejected("Invalid UDP configuration", error.details or str(error)) from None
        if conf is None:
            return ApplyKind.STOP if was_running else ApplyKind.UNCHANGED
        if not was_running:
            return ApplyKind.START
        previous = None if self._bundle is None else self._bundle.udp
        return ApplyKind.UNCHANGED if conf == previous else ApplyKind.RELOAD

    def _apply_haproxy(self, text: str | None) -> ApplyKind:
        directory = self.directory
        if text is None:
            self._haproxy.stop()
            directory.config.unlink(missing_ok=True)
            return ApplyKind.STOP
        current = _read(directory.config)
        if not self._haproxy.running():
            return self._start(current)
        if current == text:
            directory.candidate.unlink(missing_ok=True)
            return ApplyKind.UNCHANGED
        commands = None if current is None else plan_runtime_changes(current, text)
        if commands is not None:
            try:
                self._haproxy.apply_runtime(commands)
            except HaproxyError as error:
                log.warning(
                    "runtime change refused; reloading instead",
                    extra={**self._log, "reason": error.details or error.message},
                )
            else:
                directory.candidate.replace(directory.config)
                return ApplyKind.RUNTIME
        self._reload(text, current)
        return ApplyKind.RELOAD

    def _start(self, previous: str | None) -> ApplyKind:
        directory = self.directory
        directory.candidate.replace(directory.config)
        try:
            self._haproxy.start()
        except HaproxyError as error:
            _restore(directory.config, previous)
            raise ConfigRejected("HAProxy could not start the configuration", _why(error)) from None
        return ApplyKind.START

    def _reload(self, text: str, previous: str | None) -> None:
        """Reload into `text`; on failure reload `previous` (the last good configuration)."""
        directory = self.directory
        self._save_server_state(text)
        if previous is not None:
            write_atomically(directory.last_good, previous)
        directory.candidate.replace(directory.config)
        try:
            self._haproxy.reload()
            return
        except HaproxyError as error:
            failure = _why(error)
        _restore(directory.config, previous)
        if previous is not None:
            self._save_server_state(previous)
        try:
            self._haproxy.reload()
        except HaproxyError as error:
            raise ApplyFailed(
                "HAProxy failed to reload, and to reload the last good configuration",
                f"{failure}\nrollback: {_why(error)}",
            ) from None
        raise ConfigRejected(
            "HAProxy could not load the configuration; the last good one serves", failure
        )

    def _resume_haproxy(self, text: str | None) -> None:
        if text is None:
            self._haproxy.stop()
            return
        ensure_files(self.directory)
        if not self._haproxy.running():
            write_atomically(self.directory.config, text)
            self._haproxy.start()
            log.info("haproxy restarted", extra=self._log)
        elif _read(self.directory.config) != text:
            self._save_server_state(text)
            write_atomically(self.directory.config, text)
            self._haproxy.reload()
            log.info("haproxy reloaded to its recorded configuration", extra=self._log)

    def _save_server_state(self, config: str) -> None:
        dump = self._haproxy.server_state()
        if dump is None:
            log.warning("no server state to carry over the reload", extra=self._log)
            return
        write_atomically(self.directory.server_state, align_server_state(dump, config))

    def _udp_proxy(self) -> UdpService:
        if self._udp is None:
            self._udp = self._udp_factory(self.directory.udp)
        return self._udp


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
    return _sentence(error.message, error.details)


def _sentence(message: str, details: str) -> str:
    return f"{message}: {details}" if details else message
