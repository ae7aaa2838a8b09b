"""The heartbeat key: configured, or generated once into `data_dir/heartbeat.key` (mode 0600).

The key signs every heartbeat (octavia-api.md §9.2); whoever holds it can forge an amphora's
health, so it is never logged and its file is readable by its owner only.
"""

import logging
import os
import secrets
from pathlib import Path

from pier.settings import Settings

log = logging.getLogger(__name__)

KEY_FILE_NAME = "heartbeat.key"


def load_or_create_key(settings: Settings) -> str:
    """`settings.heartbeat_key` if set; else the key in `data_dir/heartbeat.key`, created with
    a random key on first use. Raises ValueError for an empty key file.
    """
    if settings.heartbeat_key:
        return settings.heartbeat_key
    path = settings.data_dir / KEY_FILE_NAME
    if not path.exists():
        try:
            _write_private(path, secrets.token_urlsafe(32), exclusive=True)
            log.info("heartbeat key created", extra={"path": str(path)})
        except FileExistsError:
            pass  # another process created it first: use theirs
    return _read(path)


def key_file(settings: Settings) -> Path:
    """A file holding the key in use, for the agents this controller starts
    (`--heartbeat-key-file`): `data_dir/heartbeat.key`, rewritten when a configured key
    differs from what it holds.
    """
    path = settings.data_dir / KEY_FILE_NAME
    key = load_or_create_key(settings)
    if settings.heartbeat_key and (not path.exists() or _read(path) != key):
        _write_private(path, key, exclusive=False)
    return path


def _read(path: Path) -> str:
    if path.stat().st_mode & 0o077:
        log.warning("heartbeat key file is readable by others", extra={"path": str(path)})
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"the heartbeat key file {path} is empty")
    return key


def _write_private(path: Path, key: str, *, exclusive: bool) -> None:
    """Write through a temporary file created with mode 0600 (never a moment with a wider
    mode, never a half-written key file): an atomic rename, or for `exclusive` a hard link,
    which fails with FileExistsError when the key file appeared meanwhile.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)  # a leftover keeps its mode; O_CREAT's 0600 is for new
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key + "\n")
        if exclusive:
            path.hardlink_to(temporary)
        else:
            temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
