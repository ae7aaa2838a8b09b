"""The amphorae of this host: created and deleted on request, found again when the agent
starts (their HAProxy kept running without it), listed for the API and the heartbeats.
"""

import json
import logging
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Set
from pathlib import Path

from pier.agent.amphora import Amphora, UdpService
from pier.agent.errors import AgentError, AmphoraConflict, AmphoraNotFound, InvalidRequest
from pier.agent.haproxy import HaproxyProcess, HaproxyTimeouts
from pier.agent.haproxy_changes import Haproxy
from pier.agent.heartbeat import Reporting
from pier.agent.layout import (
    AmphoraDirectory,
    amphora_directory,
    ensure_files,
    is_valid_amphora_id,
    remove_alias,
    write_atomically,
)
from pier.agent.netns import NamespaceError, delete_namespace, ensure_namespace
from pier.agent.udp import UdpProxy
from pier.wire.agent_api import API_VERSION, AgentInfo, AmphoraState, ApplyResult
from pier.wire.netns import amphora_namespace

log = logging.getLogger(__name__)


class AmphoraManager:
    def __init__(
        self,
        state_dir: Path,
        *,
        haproxy_binary: str = "haproxy",
        haproxy_factory: Callable[[AmphoraDirectory], Haproxy] | None = None,
        udp_factory: Callable[[Path], UdpService] = UdpProxy,
        netns: bool = False,
    ) -> None:
        """The factories are for tests (fakes); by default each amphora gets a real
        `HaproxyProcess` running `haproxy_binary` and a real nginx `UdpProxy`. With `netns`,
        each amphora's HAProxy runs in a network namespace of its own
        (`pier.wire.netns.amphora_namespace`), where the bridge network plugs its ports.
        """
        self.state_dir = state_dir.resolve()
        self.netns = netns
        self._binary = haproxy_binary
        self._haproxy_factory = haproxy_factory or self._real_haproxy
        self._udp_factory = udp_factory
        self._amphorae: dict[str, Amphora] = {}
        self._lock = threading.Lock()
        self._haproxy_version: str | None = None

    def adopt(self) -> None:
        """Register every amphora found on disk and make it serve its recorded configuration
        again. One amphora that cannot be read is logged and skipped.
        """
        root = self.state_dir / "amphorae"
        root.mkdir(parents=True, exist_ok=True)
        for path in sorted(root.iterdir()):
            try:
                metadata = json.loads((path / "amphora.json").read_text())
                amphora = self._build(metadata["amphora_id"], metadata["loadbalancer_id"])
            except (OSError, ValueError, KeyError, TypeError) as error:
                log.error("amphora not adopted", extra={"path": str(path), "error": str(error)})
                continue
            with self._lock:
                self._amphorae[amphora.amphora_id] = amphora
            amphora.resume()
            log.info(
                "amphora adopted",
                extra={
                    "amphora_id": amphora.amphora_id,
                    "version": amphora.state()["version"],
                    "haproxy_running": amphora.haproxy_running,
                },
            )

    def list_states(self) -> list[AmphoraState]:
        with self._lock:
            amphorae = list(self._amphorae.values())
        return [amphora.state() for amphora in amphorae]

    def get_amphora(self, amphora_id: str) -> Amphora:
        with self._lock:
            amphora = self._amphorae.get(amphora_id)
        if amphora is None:
            raise AmphoraNotFound("Amphora Not Found", f"No amphora with id {amphora_id}")
        return amphora

    def create(self, amphora_id: str, loadbalancer_id: str) -> tuple[AmphoraState, bool]:
        """The amphora's state and whether it was created now. Idempotent for the same
        load balancer; the id of another load balancer's amphora is a conflict. An empty
        `loadbalancer_id` makes a spare: its first configuration binds it.
        """
        if not is_valid_amphora_id(amphora_id):
            raise InvalidRequest("Invalid amphora id", f"{amphora_id!r} cannot name a directory")
        if self.netns:
            try:
                ensure_namespace(amphora_namespace(amphora_id))
            except NamespaceError as error:
                raise AgentError("Could not make the amphora's namespace", str(error)) from None
        with self._lock:
            existing = self._amphorae.get(amphora_id)
            if existing is None:
                directory = amphora_directory(self.state_dir, amphora_id)
                ensure_files(directory)
                write_atomically(
                    directory.metadata,
                    json.dumps({"amphora_id": amphora_id, "loadbalancer_id": loadbalancer_id}),
                )
                self._amphorae[amphora_id] = self._build(amphora_id, loadbalancer_id)
        if existing is None:
            log.info(
                "amphora created",
                extra={"amphora_id": amphora_id, "loadbalancer_id": loadbalancer_id},
            )
            return self.get_amphora(amphora_id).state(), True
        if loadbalancer_id and existing.loadbalancer_id not in ("", loadbalancer_id):
            raise AmphoraConflict(
                "Amphora exists",
                f"amphora {amphora_id} belongs to load balancer {existing.loadbalancer_id}",
            )
        return existing.state(), False

    def apply(self, amphora_id: str, text: str) -> ApplyResult:
        return self.get_amphora(amphora_id).apply(text)

    def delete(self, amphora_id: str) -> None:
        """Stop and forget the amphora; nothing to do when it does not exist."""
        if not is_valid_amphora_id(amphora_id):
            return
        with self._lock:
            amphora = self._amphorae.get(amphora_id)
        if amphora is not None:
            amphora.delete()
            with self._lock:
                if self._amphorae.get(amphora_id) is amphora:
                    del self._amphorae[amphora_id]
            self._delete_namespace(amphora_id)
            return
        # Not adopted (its metadata was unreadable) or left by a crashed create: whatever runs
        # from the directory goes with it.
        directory = amphora_directory(self.state_dir, amphora_id)
        if directory.path.exists():
            self._haproxy_factory(directory).stop()
        remove_alias(directory)
        shutil.rmtree(directory.path, ignore_errors=True)
        self._delete_namespace(amphora_id)

    def _delete_namespace(self, amphora_id: str) -> None:
        if not self.netns:
            return
        try:
            delete_namespace(amphora_namespace(amphora_id))
        except NamespaceError as error:
            raise AgentError("Could not remove the amphora's namespace", str(error)) from None

    def reporting(self) -> list[Reporting]:
        """What the heartbeats cover: every amphora, its stats socket when HAProxy runs."""
        with self._lock:
            amphorae = list(self._amphorae.values())
        reports = []
        for amphora in amphorae:
            version = amphora.version
            running = amphora.haproxy_running
            down = amphora.down(running)
            reports.append(
                Reporting(
                    amphora_id=amphora.amphora_id,
                    stats_socket=amphora.directory.stats_socket if running else None,
                    down=down,
                    config_version=version,
                )
            )
        return reports

    def haproxy_masters(self, skip: Set[str] = frozenset()) -> dict[str, int]:
        """Amphora id -> pid of its running HAProxy master, for the amphorae not in `skip`
        (those the caller already follows: looking a pid up reads /proc).
        """
        with self._lock:
            amphorae = [a for a in self._amphorae.values() if a.amphora_id not in skip]
        masters = {}
        for amphora in amphorae:
            pid = amphora.haproxy_master_pid()
            if pid is not None:
                masters[amphora.amphora_id] = pid
        return masters

    def info(self) -> AgentInfo:
        with self._lock:
            count = len(self._amphorae)
        return AgentInfo(
            hostname=socket.gethostname(),
            api_version=API_VERSION,
            haproxy_version=self.haproxy_version(),
            amphorae=count,
        )

    def haproxy_version(self) -> str:
        if self._haproxy_version is None:
            self._haproxy_version = _haproxy_version(self._binary)
        return self._haproxy_version

    def release(self) -> None:
        """The agent stops: its amphorae keep serving, for the next agent to adopt."""
        with self._lock:
            amphorae = list(self._amphorae.values())
        for amphora in amphorae:
            amphora.release()

    def _build(self, amphora_id: str, loadbalancer_id: str) -> Amphora:
        if not is_valid_amphora_id(amphora_id) or not isinstance(loadbalancer_id, str):
            raise ValueError(f"unusable amphora metadata: {amphora_id!r}, {loadbalancer_id!r}")
        directory = amphora_directory(self.state_dir, amphora_id)
        return Amphora(
            amphora_id=amphora_id,
            loadbalancer_id=loadbalancer_id,
            directory=directory,
            haproxy=self._haproxy_factory(directory),
            udp_factory=self._udp_factory,
        )

    def _real_haproxy(self, directory: AmphoraDirectory) -> Haproxy:
        namespace = amphora_namespace(directory.path.name) if self.netns else None
        return HaproxyProcess(
            directory, binary=self._binary, timeouts=HaproxyTimeouts(), namespace=namespace
        )


def _haproxy_version(binary: str) -> str:
    """From `HAProxy version 2.6.12-1+deb12u4 2026/10/17 - ...`, `2.6.12-1+deb12u4`."""
    try:
        output = subprocess.run(
            [binary, "-v"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    found = re.search(r"version (\S+)", output)
    return found.group(1) if found else "unknown"
