"""The network namespaces of `netns` amphorae, as the agent needs them: one per amphora, made
before its HAProxy starts and removed with it. The controller's bridge network driver plugs
the amphora's ports (veths) into the same namespace, named by `pier.wire.netns`; either side
may make it first, so both only ever ensure.
"""

import logging
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

NETNS_DIR = Path("/run/netns")
IP = shutil.which("ip") or "/usr/sbin/ip"
TIMEOUT_S = 10.0


class NamespaceError(RuntimeError):
    pass


def ensure_namespace(name: str) -> None:
    """The namespace with its loopback up (HAProxy's stats and health checks use it)."""
    if not (NETNS_DIR / name).exists():
        _ip("netns", "add", name)
        log.info("namespace created", extra={"namespace": name})
    _ip("-n", name, "link", "set", "lo", "up")


def delete_namespace(name: str) -> None:
    """Remove it, and with it every interface inside (a veth's host end goes too)."""
    if (NETNS_DIR / name).exists():
        _ip("netns", "del", name)
        log.info("namespace deleted", extra={"namespace": name})


def _ip(*arguments: str) -> None:
    try:
        subprocess.run(
            [IP, *arguments], check=True, capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.CalledProcessError as error:
        raise NamespaceError(f"ip {' '.join(arguments)}: {error.stderr.strip()}") from error
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NamespaceError(f"ip {' '.join(arguments)}: {error}") from error
