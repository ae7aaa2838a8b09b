"""One amphora on this host: the configuration it was given, and the processes that serve it.

A push is applied whole or not at all: `haproxy -c` checks the HAProxy part and nginx checks
the UDP part before anything changes, then each part changes (`haproxy_changes` says how).
The applied document is kept next to the configuration, so its version survives the agent.
Pushes to one amphora run one at a time (its lock); reads never wait for them.
"""

import json
import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pier.agent.errors import AmphoraNotFound, ApplyFailed, ConfigRejected
from pier.agent.haproxy import HaproxyError
from pier.agent.haproxy_changes import Haproxy, HaproxyChanges
from pier.agent.layout import AmphoraDirectory, ensure_files, remove_alias, write_atomically
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
# A push that changed both parts reports the bigger change: a UDP listener started while
# HAProxy took a runtime change is a start.
_IMPACT = [
    ApplyKind.UNCHANGED,
    ApplyKind.STOP,
    ApplyKind.RUNTIME,
    ApplyKind.RELOAD,
    ApplyKind.START,
]


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
        self._haproxy = HaproxyChanges(directory, haproxy, self._log)
        self._udp_factory = udp_factory
        self._udp: UdpService | None = None
        self._lock = threading.Lock()
        self._deleted = False
        self._bundle: AmphoraConfig | None = None
        self._version: str | None = None
        self._last_error: str | None = None
        text = _read(directory.bundle)
        try:
            if text is not None:
                self._bundle, self._version = AmphoraConfig.from_text(text), version_of(text)
        except ValueError as error:
            # Reported without a version, so the controller pushes its configuration again.
            self._last_error = f"The recorded configuration is unreadable: {error}"
            log.error("recorded configuration unreadable", extra=self._log)
        if directory.udp.exists():
            self._udp = udp_factory(directory.udp)  # adopts a running nginx

    @property
    def _log(self) -> dict[str, object]:
        return {"amphora_id": self.amphora_id, "loadbalancer_id": self.loadbalancer_id}

    @property
    def haproxy_running(self) -> bool:
        return self._haproxy.running()

    @property
    def version(self) -> str | None:
        """The version of the configuration last applied whole."""
        return self._version

    def haproxy_master_pid(self) -> int | None:
        return self._haproxy.master_pid()

    def down(self, haproxy_running: bool | None = None) -> tuple[str, ...]:
        """The services the recorded configuration needs that do not run (the heartbeat's
        `down`): what the controller fails the amphora over for. `haproxy_running`, when
        the caller already looked, saves reading /proc again.
        """
        bundle = self._bundle
        if bundle is None or self._deleted:
            return ()
        if haproxy_running is None:
            haproxy_running = self.haproxy_running
        down = []
        if bundle.haproxy is not None and not haproxy_running:
            down.append("haproxy")
        if bundle.udp is not None and (self._udp is None or not self._udp.running()):
            down.append("nginx")
        return tuple(down)

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
        if not self.loadbalancer_id and bundle.loadbalancer_id:
            self._bind(bundle.loadbalancer_id)
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
                self._last_error = None  # the last push is this one, and it is what runs
                return ApplyResult(version=version, applied=ApplyKind.UNCHANGED)
            try:
                kind = self._apply(bundle)
            except (ConfigRejected, ApplyFailed) as error:
                self._last_error = _sentence(error.message, error.details)
                level = logging.ERROR if isinstance(error, ApplyFailed) else logging.WARNING
                log.log(
                    level,
                    "configuration not applied",
                    extra={**self._log, "version": version, "reason": error.message},
                )
                raise
            write_atomically(self.directory.bundle, text)
            self._bundle, self._version, self._last_error = bundle, version, None
        log.info("configuration applied", extra={**self._log, "version": version, "applied": kind})
        return ApplyResult(version=version, applied=kind)

    def _bind(self, loadbalancer_id: str) -> None:
        """A spare becomes this load balancer's: recorded first, so a restarted agent adopts
        it as such.
        """
        write_atomically(
            self.directory.metadata,
            json.dumps({"amphora_id": self.amphora_id, "loadbalancer_id": loadbalancer_id}),
        )
        self.loadbalancer_id = loadbalancer_id
        log.info("spare amphora bound", extra=self._log)

    def resume(self) -> None:
        """For an agent that (re)starts: make what runs match the recorded configuration,
        restarting what died (a host reboot) and reloading a file a crash left half-applied.
        """
        with self._lock:
            bundle = self._bundle
            if bundle is None:
                return
            try:
                self._haproxy.resume(bundle.haproxy)
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
            # Without its metadata a directory is never adopted again, even if a file in it
            # resists removal.
            self.directory.metadata.unlink(missing_ok=True)
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
        if bundle.haproxy is not None and not self.haproxy_running:
            return "HAProxy is not running"
        if bundle.udp is not None and (self._udp is None or not self._udp.running()):
            return "nginx (UDP listeners) is not running"
        return None

    def _apply(self, bundle: AmphoraConfig) -> ApplyKind:
        ensure_files(self.directory)
        if bundle.haproxy is not None:
            self._haproxy.check(bundle.haproxy)
        try:
            udp_kind = self._apply_udp(bundle.udp)
        except ConfigRejected:
            self._haproxy.forget_candidate()
            raise
        haproxy_kind = self._haproxy.apply(bundle.haproxy)
        return max(udp_kind, haproxy_kind, key=_IMPACT.index)

    def _apply_udp(self, conf: str | None) -> ApplyKind:
        if conf is None and self._udp is None:
            return ApplyKind.UNCHANGED
        udp = self._udp_proxy()
        was_running = udp.running()
        try:
            udp.apply(conf)
        except UdpConfigError as error:
            raise ConfigRejected("Invalid UDP configuration", error.details or str(error)) from None
        if conf is None:
            return ApplyKind.STOP if was_running else ApplyKind.UNCHANGED
        if not was_running:
            return ApplyKind.START
        previous = None if self._bundle is None else self._bundle.udp
        return ApplyKind.UNCHANGED if conf == previous else ApplyKind.RELOAD

    def _udp_proxy(self) -> UdpService:
        if self._udp is None:
            self._udp = self._udp_factory(self.directory.udp)
        return self._udp


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _sentence(message: str, details: str) -> str:
    return f"{message}: {details}" if details else message
