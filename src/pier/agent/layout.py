"""Where one amphora's files live: `<state_dir>/amphorae/<amphora_id>/`, and the name HAProxy
reaches them by.

HAProxy refuses a UNIX socket path longer than 97 bytes, and the controller renders the
stats socket as `${PIER_AMPHORA_DIR}/stats.sock`. When the real directory is too deep for
that (a state dir inside a test's temporary directory), HAProxy is given a short alias
instead: a symlink in a private directory under the system's temporary directory, named
after the state dir, so the same alias comes back for an agent that restarts and adopts.
"""

import contextlib
import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

# HAProxy 2.6: "socket path '...' too long (max 97)".
MAX_SOCKET_PATH = 97
MASTER_SOCKET = "master.sock"
AMPHORA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
# What HAProxy runs for a PING monitor (`external-check command`), with the arguments
# <proxy_address> <proxy_port> <server_address> <server_port>; HAProxy kills it after
# `timeout check`, the one-second reply wait is ping's own bound.
PING_CHECK = """#!/bin/sh
# HAProxy external check: $1 proxy address, $2 proxy port, $3 server address, $4 server port.
exec ping -q -n -c 1 -W 1 "$3" >/dev/null 2>&1
"""


@dataclass(frozen=True, slots=True)
class AmphoraDirectory:
    path: Path
    # `path`, or a short alias of it: what PIER_AMPHORA_DIR is set to and sockets are reached by.
    run_path: Path

    @property
    def metadata(self) -> Path:
        return self.path / "amphora.json"

    @property
    def bundle(self) -> Path:
        """The applied configuration document; its version is the sha256 of this file."""
        return self.path / "config.json"

    @property
    def config(self) -> Path:
        return self.path / "haproxy.cfg"

    @property
    def candidate(self) -> Path:
        return self.path / "haproxy.cfg.new"

    @property
    def last_good(self) -> Path:
        return self.path / "haproxy.cfg.last-good"

    @property
    def server_state(self) -> Path:
        return self.path / "server-state"

    @property
    def ping_script(self) -> Path:
        return self.path / "ping-check"

    @property
    def pid_file(self) -> Path:
        return self.path / "haproxy.pid"

    @property
    def output(self) -> Path:
        """What HAProxy printed while starting (it daemonizes, then prints nothing)."""
        return self.path / "haproxy.out"

    @property
    def udp(self) -> Path:
        return self.path / "udp"

    @property
    def master_socket(self) -> Path:
        return self.run_path / MASTER_SOCKET

    @property
    def stats_socket(self) -> Path:
        return self.run_path / "stats.sock"


def is_valid_amphora_id(amphora_id: str) -> bool:
    """Ids become directory names: no separators, no `..`, nothing hidden."""
    return AMPHORA_ID.fullmatch(amphora_id) is not None and ".." not in amphora_id


def amphora_directory(state_dir: Path, amphora_id: str) -> AmphoraDirectory:
    path = state_dir / "amphorae" / amphora_id
    if len(str(path / MASTER_SOCKET)) <= MAX_SOCKET_PATH:
        return AmphoraDirectory(path, path)
    digest = hashlib.sha256(amphora_id.encode()).hexdigest()[:16]
    return AmphoraDirectory(path, _alias_root(state_dir) / digest)


def ensure_files(directory: AmphoraDirectory) -> None:
    """Create the directory and what HAProxy reads before anything was dumped into it: the
    server-state file (`1` is the format line of an empty dump) and the ping script.
    Idempotent; also recreates a missing alias (a cleaned temporary directory).
    """
    directory.path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not directory.server_state.exists():
        write_atomically(directory.server_state, "1\n")
    if not directory.ping_script.exists():
        write_atomically(directory.ping_script, PING_CHECK, mode=0o700)
    if directory.run_path != directory.path:
        _ensure_alias(directory.run_path, directory.path)


def remove_alias(directory: AmphoraDirectory) -> None:
    """Remove the amphora's alias, and the alias directory once no amphora uses it."""
    if directory.run_path == directory.path:
        return
    directory.run_path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: another amphora's alias is there
        directory.run_path.parent.rmdir()


def write_atomically(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Readers see the old content or the new one, never a part (HAProxy re-reads files on
    reload; a crash mid-write must not leave half a configuration).
    """
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    temporary.replace(path)


def _alias_root(state_dir: Path) -> Path:
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"pier-agent-{digest}"


def _ensure_alias(alias: Path, target: Path) -> None:
    """The alias directory is private (0700, ours): in a shared temporary directory, anyone
    could have created that name first, and a link there decides what HAProxy opens. Another
    amphora's `remove_alias` may take the directory away meanwhile: then it is made again.
    """
    for _ in range(3):
        with contextlib.suppress(FileNotFoundError):
            _link(alias, target)
            return
    _link(alias, target)


def _link(alias: Path, target: Path) -> None:
    root = alias.parent
    try:
        root.mkdir(mode=0o700)
    except FileExistsError:
        info = root.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise RuntimeError(f"{root} is not a private directory of this user") from None
    if alias.is_symlink() and alias.readlink() == target:
        return
    temporary = root / f".{alias.name}.tmp"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    temporary.replace(alias)
